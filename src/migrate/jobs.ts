// The job list kept in git -> jobs. The shape (YAML; a top-level list or {jobs: [...]}):
//   jobs:
//   - name: nightly-backup              # required: becomes the unit (and workload) name
//     schedule: "30 2 * * *"            # optional cron (Kubernetes CronJob syntax); none: a long-running service
//     timeZone: Europe/Berlin           # optional, with schedule
//     command: /usr/local/bin/backup --all     # a string runs under /bin/sh -c; a list is the argv
//     user: backup                      # optional
//     env: {RETENTION: "7"}             # optional
//     resources:
//       requests: {cpu: 100m}           # CPUWeight=
//       limits: {cpu: "1", memory: 512Mi, tasks: 64}   # CPUQuota=, MemoryMax=, TasksMax=
// requests.memory has no systemd counterpart the operator renders: reported.
import { loadAllYaml } from '@kubernetes/client-node';
import type { UnitSpec } from '../api/types.js';
import { DEFAULT_SHELL } from './crontab.js';
import { toName, uniqueNames, type ImportIssue, type ImportResult } from './job.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const scalar = (v: unknown): v is string | number => typeof v === 'string' || typeof v === 'number';

type Resources = NonNullable<UnitSpec['resources']>;

/** requests.cpu, limits.cpu, limits.memory, limits.tasks; anything else is reported through bad(). */
function resources(v: unknown, bad: (message: string) => void): Resources | undefined {
  const r = isObj(v) ? v : {};
  const req = isObj(r.requests) ? r.requests : {};
  const lim = isObj(r.limits) ? r.limits : {};
  for (const k of Object.keys(req)) if (k !== 'cpu') bad(`resources.requests.${k}: only cpu (CPUWeight=)`);
  for (const k of Object.keys(lim)) if (!['cpu', 'memory', 'tasks'].includes(k)) bad(`resources.limits.${k}: only cpu, memory, tasks`);
  const out: Resources = {};
  if (scalar(req.cpu)) out.requests = { cpu: req.cpu };
  const limits: NonNullable<Resources['limits']> = {};
  if (scalar(lim.cpu)) limits.cpu = lim.cpu;
  if (scalar(lim.memory)) limits.memory = lim.memory;
  if (typeof lim.tasks === 'number') limits.tasks = lim.tasks;
  if (Object.keys(limits).length) out.limits = limits;
  return Object.keys(out).length ? out : undefined;
}

const JOB_KEYS = ['name', 'schedule', 'timeZone', 'command', 'user', 'env', 'resources'];

export function importJobList(text: string, file: string): ImportResult {
  const issues: ImportIssue[] = [];
  let doc: unknown;
  try {
    doc = loadAllYaml(text)[0];
  } catch (err) {
    return { jobs: [], issues: [{ source: file, kind: 'unsupported', message: `invalid YAML: ${(err as Error).message.split('\n')[0]}` }] };
  }
  const list = Array.isArray(doc) ? doc : isObj(doc) && Array.isArray(doc.jobs) ? doc.jobs : undefined;
  if (!list)
    return { jobs: [], issues: [{ source: file, kind: 'unsupported', message: 'expected a list of jobs, or a mapping with jobs: [...]' }] };
  const units: UnitSpec[] = [];
  const sources: string[] = [];
  list.forEach((j: unknown, i) => {
    const at = `${file}: jobs[${i}]`;
    const bad = (message: string) => issues.push({ source: at, kind: 'unsupported', message });
    if (!isObj(j)) return bad('must be a mapping');
    for (const k of Object.keys(j)) if (!JOB_KEYS.includes(k)) bad(`${k}: unknown key (known: ${JOB_KEYS.join(', ')})`);
    if (typeof j.name !== 'string' || j.name === '') return bad('name: required');
    let command: string[];
    if (typeof j.command === 'string') command = [DEFAULT_SHELL, '-c', j.command];
    else if (Array.isArray(j.command) && j.command.length && j.command.every((a) => typeof a === 'string')) command = j.command;
    else return bad('command: a string (run by /bin/sh -c) or a list of strings');
    const u: UnitSpec = { name: toName(j.name), type: j.schedule === undefined ? 'service' : 'oneshot', command };
    if (u.name !== j.name)
      issues.push({ source: at, kind: 'note', message: `name '${j.name}' written as '${u.name}' (a DNS label of at most 40 characters)` });
    for (const k of ['schedule', 'timeZone', 'user'] as const) {
      if (scalar(j[k])) u[k] = String(j[k]);
      else if (j[k] !== undefined) bad(`${k}: must be a string`);
    }
    if (isObj(j.env)) u.env = Object.entries(j.env).map(([name, value]) => ({ name, value: String(value) }));
    else if (j.env !== undefined) bad('env: a mapping NAME: value');
    const res = j.resources !== undefined ? resources(j.resources, bad) : undefined;
    if (res) u.resources = res;
    units.push(u);
    sources.push(at);
  });
  const names = uniqueNames(units.map((u) => u.name));
  return { jobs: units.map((u, i) => ({ unit: { ...u, name: names[i]! }, source: sources[i]! })), issues };
}
