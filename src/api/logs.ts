// The logs subresource: one permission and one query shape for every hop of
// `kubectl sdw logs` (CLI -> API server -> aggregated logs API in the
// controller -> each node's agent).
//
//   GET /apis/subresources.systemd.operators.dev/v1alpha1/namespaces/NS/systemdworkloads/NAME/log
//       ?follow=true&tailLines=N&sinceSeconds=S&timestamps=true&node=NODE&unit=UNIT
//
// The API server authorizes it as `get` on `systemdworkloads/log` in the group
// below (RBAC), as it authorizes pods/log; the names of the query parameters
// are PodLogOptions' names.
import { WORKLOAD_PLURAL } from './types.js';

export const LOGS_GROUP = 'subresources.systemd.operators.dev';
export const LOGS_VERSION = 'v1alpha1';
export const LOG_SUBRESOURCE = 'log';
/** What RBAC grants: {apiGroups: [LOGS_GROUP], resources: [LOG_RESOURCE], verbs: [get]}. */
export const LOG_RESOURCE = `${WORKLOAD_PLURAL}/${LOG_SUBRESOURCE}`;
/** At most this many lines per unit and node are read back (tailLines is capped to it). */
export const MAX_TAIL_LINES = 100_000;

export interface LogOptions {
  follow: boolean;
  /** Last N lines per node; undefined: all (bounded by MAX_TAIL_LINES). */
  tailLines?: number;
  /** Only entries newer than this many seconds. */
  sinceSeconds?: number;
  /** RFC 3339 timestamp (microseconds, UTC) before each line. */
  timestamps: boolean;
}

export function logPath(namespace: string, name: string): string {
  return `/apis/${LOGS_GROUP}/${LOGS_VERSION}/namespaces/${encodeURIComponent(namespace)}/${WORKLOAD_PLURAL}/${encodeURIComponent(name)}/${LOG_SUBRESOURCE}`;
}

/** The query for LogOptions (pure; the same at every hop). */
export function logQuery(o: LogOptions, extra: Record<string, string | string[] | undefined> = {}): URLSearchParams {
  const q = new URLSearchParams();
  if (o.follow) q.set('follow', 'true');
  if (o.tailLines !== undefined) q.set('tailLines', String(o.tailLines));
  if (o.sinceSeconds !== undefined) q.set('sinceSeconds', String(o.sinceSeconds));
  if (o.timestamps) q.set('timestamps', 'true');
  for (const [k, v] of Object.entries(extra)) for (const x of v === undefined ? [] : [v].flat()) q.append(k, x);
  return q;
}

function flag(q: URLSearchParams, key: string): boolean | string {
  const v = q.get(key);
  if (v === null || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  return `${key} must be true or false`;
}

function count(q: URLSearchParams, key: string): number | undefined | string {
  const v = q.get(key);
  if (v === null) return undefined;
  if (!/^\d{1,9}$/.test(v)) return `${key} must be a non-negative integer`;
  return Number(v);
}

/** Parses LogOptions from a query; a string is the 400 message. */
export function parseLogOptions(q: URLSearchParams): LogOptions | string {
  const follow = flag(q, 'follow');
  const timestamps = flag(q, 'timestamps');
  const tailLines = count(q, 'tailLines');
  const sinceSeconds = count(q, 'sinceSeconds');
  for (const v of [follow, timestamps, tailLines, sinceSeconds]) if (typeof v === 'string') return v;
  return {
    follow: follow as boolean,
    timestamps: timestamps as boolean,
    tailLines: tailLines === undefined ? undefined : Math.min(tailLines as number, MAX_TAIL_LINES),
    sinceSeconds: sinceSeconds as number | undefined,
  };
}
