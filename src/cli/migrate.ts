// kubectl sdw import / export: file reading, options and output around the pure
// importers and exporters of src/migrate.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SystemdWorkload } from '../api/types.js';
import { importCrontab } from '../migrate/crontab.js';
import { exportCrontab, exportUnitFiles } from '../migrate/export.js';
import { formatIssue, toWorkloads, workloadsYaml, type ImportResult } from '../migrate/job.js';
import { importJobList } from '../migrate/jobs.js';
import { importUnitFiles } from '../migrate/unitFile.js';
import { UsageError, bool, list, str, type ParsedArgs } from './args.js';
import { checkDocuments, parseDocuments, parseLabels } from './documents.js';
import { clusterClient } from './clusterFlags.js';
import { contextNamespace, isNotFound } from './kube.js';
import { CliError } from './logs.js';

interface MigrateIO {
  out: (s: string) => void;
  err: (s: string) => void;
  readStdin: () => Promise<string>;
}

async function read(file: string, io: MigrateIO): Promise<string> {
  try {
    return file === '-' ? await io.readStdin() : await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new CliError(`${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

async function writeFiles(dir: string, files: Array<{ name: string; content: string }>, io: MigrateIO): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const f of files) {
    await fs.writeFile(path.join(dir, f.name), f.content);
    io.err(`wrote ${path.join(dir, f.name)}\n`);
  }
}

export async function importCommand(p: ParsedArgs, io: MigrateIO): Promise<number> {
  const [what, ...files] = p.positionals as [string, ...string[]];
  let result: ImportResult;
  if (what === 'crontab' || what === 'cron.d') {
    if (files.length !== 1) throw new UsageError(`import ${what} takes one FILE (or -)`);
    result = importCrontab(await read(files[0]!, io), {
      file: files[0]!,
      system: what === 'cron.d' || bool(p, 'system') || (/(^|\/)(cron\.d\/[^/]+|crontab)$/.test(files[0]!) && files[0]!.includes('/etc/')),
    });
  } else if (what === 'unit') {
    result = importUnitFiles(await Promise.all(files.map(async (f) => ({ path: f, text: await read(f, io) }))));
  } else if (what === 'jobs') {
    if (files.length !== 1) throw new UsageError('import jobs takes one FILE (or -)');
    result = importJobList(await read(files[0]!, io), files[0]!);
  } else throw new UsageError(`unknown import source "${what}": crontab, cron.d, unit or jobs`);
  let nodeSelector: Record<string, string>;
  try {
    nodeSelector = parseLabels(list(p, 'node-selector'));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  for (const i of result.issues) io.err(formatIssue(i) + '\n');
  const unsupported = result.issues.filter((i) => i.kind === 'unsupported').length;
  if (unsupported > 0 && !bool(p, 'allow-unsupported')) {
    io.err(`${unsupported} unsupported; nothing written (--allow-unsupported imports the rest, leaving those out)\n`);
    return 1;
  }
  const workloads = toWorkloads(result.jobs, {
    namespace: str(p, 'namespace'),
    nodeSelector,
    user: str(p, 'user'),
    oneWorkload: str(p, 'one-workload'),
  });
  // What admission would refuse is refused here, before anything is applied.
  const text = workloadsYaml(workloads);
  const checked = checkDocuments(parseDocuments('import', text).docs);
  for (const pr of checked.problems) io.err(`${pr.label ?? ''}: ${pr.field ?? ''}: ${pr.message}\n`);
  if (checked.problems.length) return 1;
  const dir = str(p, 'output-dir');
  if (dir !== undefined) {
    await writeFiles(
      dir,
      workloads.map((w) => ({ name: `${w.metadata.name}.yaml`, content: workloadsYaml([w]) })),
      io,
    );
  } else io.out(text);
  io.err(
    `${workloads.length} workload${workloads.length === 1 ? '' : 's'}, ${result.jobs.length} job${result.jobs.length === 1 ? '' : 's'} imported\n`,
  );
  return 0;
}

async function loadWorkload(p: ParsedArgs, io: MigrateIO): Promise<SystemdWorkload> {
  const name = p.positionals[0]!;
  const file = str(p, 'filename');
  if (file !== undefined) {
    const checked = checkDocuments(parseDocuments(file, await read(file, io)).docs);
    const w = checked.workloads.find((x) => x.workload.metadata.name === name)?.workload;
    if (!w) throw new CliError(`${file}: no valid SystemdWorkload named "${name}"`);
    return w;
  }
  const client = clusterClient(p);
  const ns = str(p, 'namespace') ?? contextNamespace(client.kc);
  try {
    return await client.getWorkload(ns, name);
  } catch (err) {
    if (isNotFound(err)) throw new CliError(`SystemdWorkload "${name}" not found in namespace "${ns}"`);
    throw err;
  }
}

export async function exportCommand(p: ParsedArgs, io: MigrateIO): Promise<number> {
  const w = await loadWorkload(p, io);
  const r = str(p, 'format') === 'units' ? exportUnitFiles(w) : exportCrontab(w);
  for (const pr of r.problems) io.err(`${pr}\n`);
  const dir = str(p, 'output-dir');
  if (dir !== undefined) await writeFiles(dir, r.files, io);
  else io.out(r.files.map((f) => (r.files.length > 1 ? `# FILE: ${f.name}\n${f.content}` : f.content)).join('\n'));
  return r.problems.length ? 1 : 0;
}
