// The shape every importer produces (a job: one future workload unit, with
// where it came from), the report lines of an import, and the assembly of jobs
// into SystemdWorkload documents that `kubectl apply` accepts as they are.
import { dumpYaml } from '@kubernetes/client-node';
import { API_VERSION, GROUP, WORKLOAD_KIND, type SystemdWorkload, type UnitSpec } from '../api/types.js';

/** One imported job: the unit it becomes (unit.name is the job's name) and its source, "FILE:LINE". */
export interface ImportedJob {
  unit: UnitSpec;
  source: string;
}

/**
 * A report line. `unsupported`: something the import could not carry over (a
 * directive, a line); the import fails unless the caller allows it, and then
 * the thing is left out. `note`: carried over, but with a difference worth
 * knowing (e.g. MAILTO: output goes to the journal).
 */
export interface ImportIssue {
  source: string;
  kind: 'unsupported' | 'note';
  message: string;
}

export interface ImportResult {
  jobs: ImportedJob[];
  issues: ImportIssue[];
}

export function formatIssue(i: ImportIssue): string {
  return `${i.source}: ${i.kind === 'unsupported' ? 'unsupported' : 'note'}: ${i.message}`;
}

/** Where an imported workload came from (the export command reads it back). */
export const ANNOTATION_IMPORTED_FROM = `${GROUP}/imported-from`;

export interface WorkloadOptions {
  namespace?: string;
  nodeSelector?: Record<string, string>;
  /** Runs every unit as this user (overrides a crontab's user column or User=). */
  user?: string;
  /** One workload of this name holding every job; default one workload per job. */
  oneWorkload?: string;
}

const MAX_NAME = 40;

/** A DNS label of at most 40 characters (a unit name and a workload name) from any text. */
export function toName(raw: string): string {
  const s = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, MAX_NAME)
    .replace(/-+$/g, '');
  return s === '' ? 'job' : s;
}

/** Names made unique in order: a second "backup" becomes "backup-2". */
export function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let i = 2; seen.has(name); i++) {
      const suffix = `-${i}`;
      name = n.slice(0, MAX_NAME - suffix.length).replace(/-+$/, '') + suffix;
    }
    seen.add(name);
    return name;
  });
}

function meta(name: string, o: WorkloadOptions, sources: string[]): SystemdWorkload['metadata'] {
  return {
    name,
    ...(o.namespace ? { namespace: o.namespace } : {}),
    annotations: { [ANNOTATION_IMPORTED_FROM]: sources.join(', ') },
  };
}

/** The workloads of the jobs: one per job (named as the job) or all in one (o.oneWorkload). */
export function toWorkloads(jobs: readonly ImportedJob[], o: WorkloadOptions = {}): SystemdWorkload[] {
  const units = jobs.map((j) => (o.user !== undefined ? { ...j.unit, user: o.user } : j.unit));
  const spec = (us: UnitSpec[]): SystemdWorkload['spec'] => ({
    ...(o.nodeSelector && Object.keys(o.nodeSelector).length ? { nodeSelector: o.nodeSelector } : {}),
    units: us,
  });
  const doc = (name: string, us: UnitSpec[], sources: string[]): SystemdWorkload => ({
    apiVersion: API_VERSION,
    kind: WORKLOAD_KIND,
    metadata: meta(name, o, sources),
    spec: spec(us),
  });
  if (o.oneWorkload !== undefined)
    return units.length
      ? [
          doc(
            o.oneWorkload,
            units,
            jobs.map((j) => j.source),
          ),
        ]
      : [];
  return units.map((u, i) => doc(u.name, [u], [jobs[i]!.source]));
}

/** Multi-document YAML, one document per workload. */
export function workloadsYaml(ws: readonly SystemdWorkload[]): string {
  return ws.map((w) => dumpYaml(w, { lineWidth: -1, noRefs: true })).join('---\n');
}
