// `kubectl sdw get`: SystemdWorkloads as kubectl get prints them (table, wide,
// name, or the objects themselves as JSON/YAML), with -l, -A and -w.
import * as k8s from '@kubernetes/client-node';
import { GROUP, type SystemdWorkload } from '../api/types.js';
import { UsageError, bool, str, type ParsedArgs } from './args.js';
import { clusterClient, parseRequestTimeout } from './clusterFlags.js';
import { formatAge } from './format.js';
import type { IO } from './io.js';
import { contextNamespace, isNotFound, serverErrorMessage } from './kube.js';
import { CliError } from './logs.js';
import { listAndWatch } from './watch.js';

export const OUTPUTS = ['json', 'yaml', 'wide', 'name'] as const;

/** kubectl's NAME form: systemdworkload.systemd.operators.dev/web. */
export const resourceName = (w: SystemdWorkload): string => `systemdworkload.${GROUP}/${w.metadata.name}`;

/** The object as kubectl get -o yaml shows it: managedFields left out unless asked for. */
export function shown(w: SystemdWorkload, managedFields: boolean): SystemdWorkload {
  const meta = w.metadata as SystemdWorkload['metadata'] & { managedFields?: unknown };
  if (managedFields || meta.managedFields === undefined) return w;
  const metadata = { ...meta };
  delete metadata.managedFields;
  return { ...w, metadata };
}

/** One object for a NAME, else a List, as kubectl prints them. */
export function asDocument(items: SystemdWorkload[], single: boolean): object {
  return single && items.length === 1 ? items[0]! : { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

export function serialize(doc: object, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(doc, null, 4)}\n` : k8s.dumpYaml(doc);
}

export interface TableOptions {
  wide: boolean;
  allNamespaces: boolean;
  now: number;
}

const num = (v: number | undefined): string => (v === undefined ? '0' : String(v));

/** The header and a row per workload: the CRD's printer columns, and with -o wide its units and node selector. */
export function tableRows(items: readonly SystemdWorkload[], o: TableOptions): string[][] {
  const header = ['NAME', 'DESIRED', 'READY', 'UP-TO-DATE', 'RESTARTS', 'PHASE', 'AGE'];
  if (o.wide) header.push('UNITS', 'NODE-SELECTOR');
  if (o.allNamespaces) header.unshift('NAMESPACE');
  const rows = items.map((w) => {
    const s = w.status;
    const row = [
      w.metadata.name ?? '',
      num(s?.desiredNodes),
      num(s?.readyNodes),
      num(s?.updatedNodes),
      num(s?.restarts),
      s?.phase ?? '',
      formatAge(w.metadata.creationTimestamp, o.now),
    ];
    if (o.wide) {
      const sel = Object.entries(w.spec.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`);
      row.push(w.spec.units.map((u) => u.name).join(','), sel.join(',') || '<none>');
    }
    if (o.allNamespaces) row.unshift(w.metadata.namespace ?? '');
    return row;
  });
  return [header, ...rows];
}

/** Column widths: the widest cell plus three spaces, as kubectl's tabwriter. */
export function columnWidths(rows: readonly string[][]): number[] {
  return rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)) + 3);
}

export function formatRow(row: readonly string[], widths: readonly number[]): string {
  return (
    row
      .map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('')
      .trimEnd() + '\n'
  );
}

export async function get(p: ParsedArgs, io: IO): Promise<number> {
  const name = p.positionals[0];
  const all = bool(p, 'all-namespaces');
  const selector = str(p, 'selector');
  if (name !== undefined && selector !== undefined) throw new UsageError('a NAME cannot be combined with -l/--selector');
  if (all && name !== undefined) throw new UsageError('a NAME cannot be combined with -A/--all-namespaces');
  if (all && str(p, 'namespace') !== undefined) throw new UsageError('-n/--namespace cannot be combined with -A/--all-namespaces');
  const output = str(p, 'output');
  const watch = bool(p, 'watch');
  const timeout = str(p, 'request-timeout');
  const client = clusterClient(p);
  const namespace = all ? undefined : (str(p, 'namespace') ?? contextNamespace(client.kc));
  const managed = bool(p, 'show-managed-fields');
  const now = io.now ?? Date.now;
  let widths: number[] | undefined;
  let printed = 0;

  const print = (items: SystemdWorkload[], first: boolean): void => {
    if (output === 'json' || output === 'yaml') {
      const objs = items.map((w) => shown(w, managed));
      // Watching prints each object on its own, as kubectl get -w -o yaml does.
      const docs = watch ? objs : [asDocument(objs, name !== undefined)];
      for (const d of docs) io.out((output === 'yaml' && printed++ > 0 ? '---\n' : '') + serialize(d, output));
      return;
    }
    if (output === 'name') {
      for (const w of items) io.out(`${resourceName(w)}\n`);
      return;
    }
    const rows = tableRows(items, { wide: output === 'wide', allNamespaces: all, now: now() });
    widths ??= columnWidths(rows);
    for (const r of first ? rows : rows.slice(1)) io.out(formatRow(r, widths));
  };

  try {
    await listAndWatch(
      client,
      { namespace, name, labelSelector: selector },
      { watch, timeoutMs: timeout === undefined ? undefined : parseRequestTimeout(timeout), signal: io.signal },
      (items) => {
        if (name !== undefined && items.length === 0) {
          throw new CliError(`systemdworkloads.${GROUP} "${name}" not found${namespace ? ` in namespace "${namespace}"` : ''}`);
        }
        if (items.length === 0 && !watch) {
          io.err(namespace === undefined ? 'No resources found\n' : `No resources found in ${namespace} namespace.\n`);
          return;
        }
        if (items.length > 0) print(items, true);
      },
      (_type, w) => print([w], widths === undefined),
    );
  } catch (err) {
    if (err instanceof CliError || err instanceof UsageError) throw err;
    if (isNotFound(err)) throw new CliError(`the server could not find the requested resource (${GROUP} CRDs not installed?)`);
    throw new CliError(serverErrorMessage(err));
  }
  return 0;
}
