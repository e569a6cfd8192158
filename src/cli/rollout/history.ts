// kubectl sdw rollout history / undo: a workload's ControllerRevisions (written
// by the controller, src/controller/revisions.ts) as a table, and a spec patched
// back to one of them, as kubectl rollout history/undo do for a DaemonSet. The
// choosing and formatting are pure; the two handlers are the cluster I/O.
import * as k8s from '@kubernetes/client-node';
import { GROUP, LABEL_WORKLOAD_UID, VERSION, WORKLOAD_PLURAL, type ControllerRevision, type SystemdWorkload } from '../../api/types.js';
import { str, type CommandSpec, type ParsedArgs } from '../args.js';
import { CLUSTER_FLAGS, CLUSTER_HELP, clusterClient } from '../clusterFlags.js';
import { apiErrorMessage, contextNamespace, isConflict, isNotFound } from '../kube.js';
import { CliError } from '../logs.js';
import type { IO } from '../io.js';
import type { RolloutSubcommand } from './subcommand.js';

const cluster = CLUSTER_FLAGS;

export const HISTORY_COMMANDS: Record<string, { spec: CommandSpec; help: string }> = {
  history: {
    spec: {
      positionals: [1, 1],
      positionalNames: ['NAME'],
      flags: { namespace: { type: 'string', short: 'n' }, revision: { type: 'string', integer: true }, ...cluster },
    },
    help: `List a SystemdWorkload's revisions (its ControllerRevisions: one per distinct set
of units it rendered, kept up to spec.revisionHistoryLimit), or show one.

Usage:
  kubectl sdw rollout history NAME [-n NAMESPACE] [--revision N]

Examples:
  kubectl sdw rollout history web --revision 2   # the units of revision 2

Flags:
  -n, --namespace NS      the workload's namespace
      --revision N        print the units of revision N
${CLUSTER_HELP}
`,
  },
  undo: {
    spec: {
      positionals: [1, 1],
      positionalNames: ['NAME'],
      flags: { namespace: { type: 'string', short: 'n' }, 'to-revision': { type: 'string', integer: true }, ...cluster },
    },
    help: `Roll a SystemdWorkload back: its spec.units are patched to a revision's, and the
controller rolls that out node by node like any change (the revision becomes the newest).

Usage:
  kubectl sdw rollout undo NAME [-n NAMESPACE] [--to-revision N]

Examples:
  kubectl sdw rollout undo web --to-revision 1

Flags:
  -n, --namespace NS      the workload's namespace
      --to-revision N     the revision to go back to (default: the one before the newest)
${CLUSTER_HELP}
`,
  },
};

const byNumber = (revisions: readonly ControllerRevision[]): ControllerRevision[] => [...revisions].sort((a, b) => a.revision - b.revision);

/** The table kubectl sdw rollout history prints. */
export function formatHistory(wl: SystemdWorkload, revisions: readonly ControllerRevision[]): string {
  const rows = [['REVISION', 'NAME', 'UNITS', 'STATUS']];
  for (const r of byNumber(revisions)) {
    const name = r.metadata.name ?? '';
    const marks = [name === wl.status?.currentRevision ? 'current' : '', name === wl.status?.updateRevision ? 'update' : ''].filter(
      Boolean,
    );
    rows.push([String(r.revision), name, r.data.spec.units.map((u) => u.name).join(','), marks.join(',') || '-']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]! + 2))).join(''));
  return `systemdworkload.${GROUP}/${wl.metadata.name}\n${lines.join('\n')}\n`;
}

/** The revision undo goes to: --to-revision N, else the one before the newest. */
export function undoTarget(revisions: readonly ControllerRevision[], toRevision?: number): ControllerRevision {
  const sorted = byNumber(revisions);
  if (toRevision !== undefined && toRevision > 0) {
    const r = sorted.find((x) => x.revision === toRevision);
    if (!r) throw new CliError(`unable to find specified revision ${toRevision} in history`);
    return r;
  }
  const previous = sorted.at(-2);
  if (!previous) throw new CliError('no rollout history found: there is no earlier revision');
  return previous;
}

interface Target {
  workload: SystemdWorkload;
  revisions: ControllerRevision[];
  objects: k8s.CustomObjectsApi;
}

async function load(p: ParsedArgs): Promise<Target> {
  const client = clusterClient(p);
  const kc = client.kc;
  const namespace = str(p, 'namespace') ?? contextNamespace(kc);
  const name = p.positionals[0]!;
  let workload: SystemdWorkload;
  try {
    workload = await client.getWorkload(namespace, name);
  } catch (err) {
    if (isNotFound(err)) throw new CliError(`SystemdWorkload "${name}" not found in namespace "${namespace}"`);
    throw new CliError(apiErrorMessage(err));
  }
  const list = await kc
    .makeApiClient(k8s.AppsV1Api)
    .listNamespacedControllerRevision({ namespace, labelSelector: `${LABEL_WORKLOAD_UID}=${workload.metadata.uid}` });
  // Owned by this workload (the label could be copied; the owner reference is the controller's).
  const revisions = (list.items as unknown as ControllerRevision[]).filter((r) =>
    r.metadata.ownerReferences?.some((o) => o.controller && o.uid === workload.metadata.uid),
  );
  return { workload, revisions, objects: kc.makeApiClient(k8s.CustomObjectsApi) };
}

async function runHistory(p: ParsedArgs, io: IO): Promise<number> {
  const { workload, revisions } = await load(p);
  const n = str(p, 'revision');
  if (n === undefined || Number(n) === 0) {
    if (revisions.length === 0) io.out(`systemdworkload.${GROUP}/${workload.metadata.name}\nNo rollout history found.\n`);
    else io.out(formatHistory(workload, revisions));
    return 0;
  }
  const r = revisions.find((x) => x.revision === Number(n));
  if (!r) throw new CliError(`unable to find the specified revision ${n}`);
  io.out(`systemdworkload.${GROUP}/${workload.metadata.name} with revision #${r.revision} (${r.metadata.name})\n`);
  io.out(k8s.dumpYaml({ units: r.data.spec.units, ...(r.data.spec.files ? { files: r.data.spec.files } : {}) }));
  return 0;
}

// As client-go's RetryOnConflict: the patch carries the resourceVersion it was computed from, and
// the controller's own status writes move it, so a 409 means "read again and recompute", a few
// times, not "fail": a user's undo raced the controller's status write in a make test run.
const UNDO_ATTEMPTS = 5;

async function runUndo(p: ParsedArgs, io: IO): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await undoOnce(p, io);
    } catch (err) {
      if (!isConflict(err) || attempt >= UNDO_ATTEMPTS) throw err;
      await new Promise((resolve) => setTimeout(resolve, 10 * attempt));
    }
  }
}

/** One read-compute-patch of undo; the patch is refused (409) if the workload changed since the read. */
async function undoOnce(p: ParsedArgs, io: IO): Promise<number> {
  const { workload, revisions, objects } = await load(p);
  const to = str(p, 'to-revision');
  const target = undoTarget(revisions, to === undefined ? undefined : Number(to));
  const kind = `systemdworkload.${GROUP}/${workload.metadata.name}`;
  // The artifacts and files the units name go back with them (a merge patch with null removes them).
  const artifacts = target.data.spec.artifacts ?? null;
  const files = target.data.spec.files ?? null;
  if (
    JSON.stringify(target.data.spec.units) === JSON.stringify(workload.spec.units) &&
    JSON.stringify(artifacts) === JSON.stringify(workload.spec.artifacts ?? null) &&
    JSON.stringify(files) === JSON.stringify(workload.spec.files ?? null)
  ) {
    io.out(`${kind} skipped rollback (current template already matches revision ${target.revision})\n`);
    return 0;
  }
  const { namespace, name, resourceVersion } = workload.metadata;
  await objects.patchNamespacedCustomObject(
    {
      group: GROUP,
      version: VERSION,
      namespace: namespace!,
      plural: WORKLOAD_PLURAL,
      name: name!,
      // resourceVersion: a concurrent edit is refused rather than overwritten.
      body: { metadata: { resourceVersion }, spec: { units: target.data.spec.units, artifacts, files } },
    },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  io.out(`${kind} rolled back to revision ${target.revision} (${target.metadata.name})\n`);
  return 0;
}

export const history: RolloutSubcommand = {
  summary: "the workload's revisions (ControllerRevisions), or one revision's units",
  ...HISTORY_COMMANDS.history!,
  run: runHistory,
};

export const undo: RolloutSubcommand = {
  summary: "patch the spec back to a revision's units (default: the one before the newest)",
  ...HISTORY_COMMANDS.undo!,
  run: runUndo,
};
