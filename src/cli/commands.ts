// kubectl-sdw's commands behind one run(argv, io) -> exit code, so main.ts is
// only process wiring. Exit codes: 0 ok, 1 problems found or a failure, 2 usage.
import { promises as fs } from 'node:fs';
import { GROUP, LABEL_WORKLOAD_UID, type SystemdWorkload } from '../api/types.js';
import { UsageError, bool, list, str, type ParsedArgs } from './args.js';
import { checkDocuments, formatProblem, parseDocuments, parseLabels, renderWorkloadText, type Doc, type Problem } from './documents.js';
import { formatStatus, formatStatusJson, statusJson, useColour } from './format.js';
import * as k8s from '@kubernetes/client-node';
import { contextNamespace, serverErrorMessage } from './kube.js';
import { clusterClient, hoistGlobalFlags, parseRequestTimeout } from './clusterFlags.js';
import { clusterLookup, complete, completionScript, formatCompletion } from './completion.js';
import { get } from './get.js';
import { listAndWatch } from './watch.js';
import { CliError, parseSince, parseTail, runLogs } from './logs.js';
import { exportCommand, importCommand } from './migrate.js';
import { COMMANDS, TOP_HELP } from './spec.js';
import { statusViews } from './statusView.js';
import type { IO } from './io.js';
import { ROLLOUT_COMMAND, rolloutHelp, runRollout } from './rollout/index.js';
import { runCommand } from './runCommand.js';

export type { IO } from './io.js';

async function readFile(file: string, io: IO): Promise<string> {
  return file === '-' ? io.readStdin() : fs.readFile(file, 'utf8');
}

async function loadDocs(files: readonly string[], io: IO): Promise<{ docs: Doc[]; problems: Problem[] }> {
  const docs: Doc[] = [];
  const problems: Problem[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, io);
    } catch (err) {
      problems.push({ file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      continue;
    }
    const r = parseDocuments(file, text);
    docs.push(...r.docs);
    problems.push(...r.problems);
  }
  return { docs, problems };
}

/** In the order of the files given, then of the documents (stable within a document). */
function sortProblems(problems: Problem[], files: readonly string[]): Problem[] {
  return problems
    .map((pr, i) => ({ pr, i }))
    .sort((a, b) => files.indexOf(a.pr.file) - files.indexOf(b.pr.file) || (a.pr.index ?? 0) - (b.pr.index ?? 0) || a.i - b.i)
    .map((x) => x.pr);
}

async function validate(p: ParsedArgs, io: IO): Promise<number> {
  const { docs, problems } = await loadDocs(p.positionals, io);
  const checked = checkDocuments(docs);
  const all = sortProblems([...problems, ...checked.problems], p.positionals);
  for (const pr of all) io.err(formatProblem(pr) + '\n');
  if (all.length > 0) {
    io.err(`${all.length} problem${all.length === 1 ? '' : 's'} found\n`);
    return 1;
  }
  const n = checked.workloads.length;
  io.out(`${n} workload${n === 1 ? '' : 's'} valid\n`);
  return 0;
}

async function render(p: ParsedArgs, io: IO): Promise<number> {
  let nodeLabels: Record<string, string>;
  try {
    nodeLabels = parseLabels(list(p, 'node-label'));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const node = str(p, 'node');
  if (list(p, 'node-label').length && node === undefined) throw new UsageError('--node-label needs --node');
  const { docs, problems } = await loadDocs(p.positionals, io);
  const checked = checkDocuments(docs);
  const all = sortProblems([...problems, ...checked.problems], p.positionals);
  if (all.length > 0) {
    for (const pr of all) io.err(formatProblem(pr) + '\n');
    return 1;
  }
  if (checked.workloads.length === 0) {
    io.err(`${p.positionals[0]}: no SystemdWorkload in the file\n`);
    return 1;
  }
  const texts = checked.workloads.map(({ workload }) =>
    renderWorkloadText(workload, { namespace: str(p, 'namespace') ?? 'default', node, nodeLabels }),
  );
  io.out(texts.join('\n'));
  return 0;
}

async function status(p: ParsedArgs, io: IO): Promise<number> {
  const name = p.positionals[0];
  const all = bool(p, 'all-namespaces');
  const selector = str(p, 'selector');
  if (all && name !== undefined) throw new UsageError('a NAME cannot be combined with -A/--all-namespaces');
  if (all && str(p, 'namespace') !== undefined) throw new UsageError('-n/--namespace cannot be combined with -A/--all-namespaces');
  if (name !== undefined && selector !== undefined) throw new UsageError('a NAME cannot be combined with -l/--selector');
  const client = clusterClient(p);
  const ns = all ? undefined : (str(p, 'namespace') ?? contextNamespace(client.kc));
  const output = str(p, 'output');
  const watch = bool(p, 'watch');
  const timeout = str(p, 'request-timeout');

  // The whole view again (workloads and their children) on every change: a
  // workload's status is what changes when its nodes do.
  let shown = 0;
  const show = async (workloads: SystemdWorkload[]): Promise<void> => {
    const sel = name !== undefined && workloads[0]?.metadata.uid ? `${LABEL_WORKLOAD_UID}=${workloads[0].metadata.uid}` : undefined;
    const unitSets = await client.listUnitSets(ns, sel);
    const views = statusViews(workloads, unitSets);
    if (shown++ > 0 && output !== 'name') io.out(output === 'yaml' ? '---\n' : output === 'json' ? '' : '\n');
    if (output === 'json') io.out(formatStatusJson(views));
    else if (output === 'yaml') io.out(k8s.dumpYaml(statusJson(views)));
    else if (output === 'name') for (const v of views) io.out(`systemdworkload.${GROUP}/${v.name}\n`);
    else if (views.length === 0)
      io.err(ns === undefined ? 'No SystemdWorkloads found.\n' : `No SystemdWorkloads found in namespace ${ns}.\n`);
    else io.out(formatStatus(views, { wide: output === 'wide', colour: useColour(io.isTTY, io.env), now: (io.now ?? Date.now)() }));
  };

  let current = new Map<string, SystemdWorkload>();
  const key = (w: SystemdWorkload): string => `${w.metadata.namespace}/${w.metadata.name}`;
  let pending = Promise.resolve();
  try {
    await listAndWatch(
      client,
      { namespace: ns, name, labelSelector: selector },
      { watch, timeoutMs: timeout === undefined ? undefined : parseRequestTimeout(timeout), signal: io.signal },
      (items) => {
        if (name !== undefined && items.length === 0) throw new CliError(`SystemdWorkload "${name}" not found in namespace "${ns}"`);
        current = new Map(items.map((w) => [key(w), w]));
        pending = show(items);
      },
      (type, w) => {
        if (type === 'DELETED') current.delete(key(w));
        else current.set(key(w), w);
        const items = [...current.values()].sort((a, b) => key(a).localeCompare(key(b)));
        pending = pending.then(() => show(items));
      },
    );
    await pending;
  } catch (err) {
    if (err instanceof CliError || err instanceof UsageError) throw err;
    throw new CliError(serverErrorMessage(err));
  }
  return 0;
}

async function logs(p: ParsedArgs, io: IO): Promise<number> {
  // The logs API is reached with the kubeconfig's own TLS and credentials, and the global flags (--as, --request-timeout).
  const kc = clusterClient(p).kc;
  const since = str(p, 'since');
  await runLogs(
    kc,
    {
      namespace: str(p, 'namespace') ?? contextNamespace(kc),
      name: p.positionals[0]!,
      node: str(p, 'node'),
      unit: str(p, 'unit'),
      follow: bool(p, 'follow'),
      tailLines: parseTail(str(p, 'tail')),
      sinceSeconds: since === undefined ? undefined : parseSince(since),
      timestamps: bool(p, 'timestamps'),
    },
    io.out,
    io.signal,
  );
  return 0;
}

async function completion(p: ParsedArgs, io: IO): Promise<number> {
  const shell = p.positionals[0];
  if (shell !== 'bash' && shell !== 'zsh') throw new UsageError(`unsupported shell '${shell}': bash or zsh`);
  io.out(completionScript(shell));
  return 0;
}

/** The hidden command shells and kubectl call for candidates (cobra's protocol). */
export const COMPLETE_COMMAND = '__complete';

const HANDLERS: Record<string, (p: ParsedArgs, io: IO) => Promise<number>> = {
  get,
  status,
  completion,
  render,
  validate,
  logs,
  import: importCommand,
  export: exportCommand,
};

export async function run(args: readonly string[], io: IO): Promise<number> {
  if (args[0] === COMPLETE_COMMAND) {
    io.out(formatCompletion(await complete(args.slice(1), clusterLookup)));
    return 0;
  }
  const [cmd, ...rest] = hoistGlobalFlags(args);
  if (cmd === undefined || cmd === '-h' || cmd === '--help' || cmd === 'help') {
    const topic = cmd === 'help' ? rest[0] : undefined;
    if (topic && COMMANDS[topic]) io.out(COMMANDS[topic].help);
    else if (topic === ROLLOUT_COMMAND) io.out(rolloutHelp());
    else io.out(TOP_HELP);
    return cmd === undefined ? 2 : 0;
  }
  // rollout has subcommands of its own, each with its flags: it parses its own argv.
  if (cmd === ROLLOUT_COMMAND) return runRollout(rest, io);
  const command = COMMANDS[cmd];
  if (!command) {
    io.err(`error: unknown command "${cmd}"\n\n${TOP_HELP}`);
    return 2;
  }
  return runCommand(cmd, rest, command, HANDLERS[cmd]!, io);
}
