// Pure formatting for kubectl-sdw: figures, times, tables and colour.
// Unknown figures (null/undefined) print as "-", never as 0.
import type { WorkloadView } from './statusView.js';

export const DASH = '-';

/** Whether to colour: only on a TTY, and never when NO_COLOR is set (https://no-color.org). */
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  return isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '') && env.TERM !== 'dumb';
}

export function formatBytes(b: number | null | undefined): string {
  if (b === null || b === undefined || !Number.isFinite(b)) return DASH;
  const units = ['Ki', 'Mi', 'Gi', 'Ti'];
  if (b < 1024) return `${Math.round(b)}B`;
  let v = b;
  let u = '';
  for (const x of units) {
    if (v < 1024) break;
    v /= 1024;
    u = x;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)}${u}`;
}

export function formatCpu(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return DASH;
  if (seconds < 10) return `${seconds.toFixed(2)}s`;
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  return formatDuration(seconds * 1000);
}

export function formatNumber(v: number | null | undefined): string {
  return v === null || v === undefined ? DASH : String(v);
}

/** kubectl's short durations: 45s, 3m12s (under 10m), 42m, 5h3m, 3d4h, 400d. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 ? `${m}m${s % 60}s` : `${m}m`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h${m % 60}m` : `${h}h`;
  const d = Math.floor(h / 24);
  return d < 8 && h % 24 ? `${d}d${h % 24}h` : `${d}d`;
}

export function formatAge(iso: string | null | undefined, now: number): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? DASH : formatDuration(now - t);
}

/** A moment relative to now: "3m ago", "in 42s". */
export function formatWhen(iso: string | null | undefined, now: number): string {
  if (!iso) return DASH;
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return DASH;
  return t <= now ? `${formatDuration(now - t)} ago` : `in ${formatDuration(t - now)}`;
}

const CODES = { red: 31, green: 32, yellow: 33, grey: 90, bold: 1 } as const;
export type Colour = keyof typeof CODES;

export function paint(s: string, c: Colour | undefined, on: boolean): string {
  return on && c ? `\u001b[${CODES[c]}m${s}\u001b[0m` : s;
}

export function phaseColour(phase: string | null | undefined): Colour | undefined {
  switch (phase) {
    case 'Running':
    case 'Completed':
    case 'active/running':
    case 'active/exited':
    case 'active/waiting':
    case 'active/elapsed':
      return 'green';
    case 'Pending':
    case 'Progressing':
      return 'yellow';
    case 'Failed':
    case 'Degraded':
      return 'red';
    case 'Unknown':
      return 'grey';
    default:
      if (phase?.startsWith('failed') || phase?.endsWith('/auto-restart')) return 'red';
      if (phase?.startsWith('activating') || phase?.startsWith('deactivating')) return 'yellow';
      return undefined;
  }
}

export interface Cell {
  text: string;
  colour?: Colour;
}

/** Left-aligned columns separated by 3 spaces (as kubectl); colour after padding so it never shifts columns. */
export function table(header: string[], rows: Cell[][], colour: boolean, indent = ''): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.text.length ?? 0)));
  const line = (cells: Cell[]): string =>
    indent +
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c.text : c.text.padEnd(widths[i]!);
        return paint(padded, c.colour, colour);
      })
      .join('   ')
      .trimEnd();
  return [line(header.map((h) => ({ text: h }))), ...rows.map(line)].join('\n') + '\n';
}

export interface StatusFormatOptions {
  wide: boolean;
  colour: boolean;
  now: number;
}

/** The human view of `kubectl-sdw status`: per workload a summary line, then node x unit rows. */
export function formatStatus(views: readonly WorkloadView[], o: StatusFormatOptions): string {
  if (views.length === 0) return 'No SystemdWorkloads found.\n';
  const out: string[] = [];
  for (const w of views) {
    const stale = w.generation !== null && w.observedGeneration !== null && w.observedGeneration < w.generation;
    const summary = [
      paint(`${w.namespace}/${w.name}`, 'bold', o.colour),
      paint(w.phase ?? 'Unknown', phaseColour(w.phase ?? 'Unknown'), o.colour),
      `desired=${formatNumber(w.desired)}`,
      `ready=${formatNumber(w.ready)}`,
      `up-to-date=${formatNumber(w.updated)}`,
      `failed=${formatNumber(w.failed)}`,
      `restarts=${formatNumber(w.restarts)}`,
      `age=${formatAge(w.createdAt, o.now)}`,
    ];
    if (stale) summary.push(paint('(status not yet observed for the latest spec)', 'yellow', o.colour));
    out.push(summary.join('  '));
    if (w.message) out.push(`  ${w.message}`);
    if (w.nodes.length === 0) {
      out.push('  (no nodes selected)', '');
      continue;
    }
    const header = ['NODE', 'PHASE', 'UNIT', 'STATE', 'RESTARTS', 'EXIT', 'MEMORY', 'CPU', 'LAST-RUN', 'NEXT-RUN'];
    if (o.wide) header.push('TASKS', 'UP-TO-DATE', 'SYSTEMD-UNIT', 'MESSAGE');
    const rows: Cell[][] = [];
    for (const nv of w.nodes) {
      const units = nv.units.length ? nv.units : [undefined];
      units.forEach((u, i) => {
        const first = i === 0;
        const row: Cell[] = [
          { text: first ? nv.node : '' },
          first ? { text: nv.phase ?? DASH, colour: phaseColour(nv.phase) } : { text: '' },
          { text: u?.name ?? DASH },
          { text: u?.state ?? DASH, colour: phaseColour(u?.state) },
          { text: formatNumber(u?.restarts), colour: (u?.restarts ?? 0) > 0 ? 'yellow' : undefined },
          { text: formatNumber(u?.exitCode), colour: u?.exitCode ? 'red' : undefined },
          { text: formatBytes(u?.memoryBytes) },
          { text: formatCpu(u?.cpuSeconds) },
          { text: u?.scheduled ? formatWhen(u.lastRun, o.now) : DASH },
          { text: u?.scheduled ? formatWhen(u.nextRun, o.now) : DASH },
        ];
        if (o.wide) {
          row.push(
            { text: formatNumber(u?.tasks) },
            { text: first ? (nv.upToDate === null ? DASH : String(nv.upToDate)) : '' },
            { text: u?.unit ?? DASH },
            { text: u?.message ?? (first ? (nv.message ?? '') : '') },
          );
        }
        rows.push(row);
      });
    }
    out.push(table(header, rows, o.colour, '  ').trimEnd(), '');
  }
  return out.join('\n');
}

/** `-o json`: stable keys, unknown figures as null. */
/** The document `status -o json|yaml` prints. */
export function statusJson(views: readonly WorkloadView[]): object {
  return { apiVersion: 'kubectl-sdw/v1', kind: 'StatusList', items: views };
}

export function formatStatusJson(views: readonly WorkloadView[]): string {
  return JSON.stringify(statusJson(views), null, 2) + '\n';
}
