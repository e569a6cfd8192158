// Pure conversion of systemd's D-Bus property maps into typed state.
// systemd's conventions that matter here:
//   - uint64 arrive as BigInt; UINT64_MAX means "not available" (e.g. CPUUsageNSec
//     on hybrid cgroups, MemoryMax=infinity): that is `undefined`, never a number.
//   - timestamps are microseconds since the epoch (CLOCK_REALTIME); 0 means "never".
//   - empty strings (FragmentPath, UnitFileState of a transient unit) mean "none".
import type { Variant } from 'dbus-next';

export const UINT64_MAX = 18446744073709551615n;

/** A property map as systemd sends it (GetAll, PropertiesChanged): values may be Variants (see unwrap). */
export type RawProps = Record<string, unknown>;

export interface TimerState {
  lastTriggerUSec?: string; // ISO time of the last trigger
  nextElapseUSecRealtime?: string; // ISO time of the next elapse (realtime timers)
  result?: string;
}

export interface UnitState {
  loadState?: string;
  activeState?: string;
  subState?: string;
  unitFileState?: string;
  fragmentPath?: string;
  result?: string;
  nRestarts?: number;
  /** CLD_* code of the main process' last exit: 1 exited, 2 killed, 3 dumped; 0 none. */
  execMainCode?: number;
  /** The exit status (CLD_EXITED) or the signal number (CLD_KILLED/CLD_DUMPED). */
  execMainStatus?: number;
  execMainStartTimestamp?: string;
  execMainExitTimestamp?: string;
  activeEnterTimestamp?: string;
  /** 32 lower-case hex digits; changes on every start (unchanged by live property changes). */
  invocationId?: string;
  memoryCurrent?: number;
  /** MemoryMax= in bytes; undefined for infinity. */
  memoryMax?: number;
  /** Highest memory seen (systemd >= 255 on cgroup v2); undefined elsewhere. */
  memoryPeak?: number;
  cpuUsageNSec?: number;
  tasksCurrent?: number;
  mainPid?: number;
  timer?: TimerState;
}

/** Unwraps a dbus-next Variant (duck-typed, so plain values pass through unchanged). */
export function unwrap(v: unknown): unknown {
  if (v !== null && typeof v === 'object' && 'signature' in v && 'value' in v) {
    return (v as Variant).value;
  }
  return v;
}

/** uint64 (BigInt or number) -> number; UINT64_MAX and non-numbers -> undefined. */
export function u64(v: unknown): number | undefined {
  const x = unwrap(v);
  if (typeof x === 'bigint') return x === UINT64_MAX || x < 0n ? undefined : Number(x);
  if (typeof x === 'number' && Number.isFinite(x)) {
    // A number this large can only be UINT64_MAX rounded by a lossy decoder.
    return x >= 2 ** 64 - 1 ? undefined : x;
  }
  return undefined;
}

/** Microseconds since the epoch -> ISO string; 0 and UINT64_MAX -> undefined. */
export function usecToIso(v: unknown): string | undefined {
  const x = unwrap(v);
  let ms: number;
  if (typeof x === 'bigint') {
    if (x === 0n || x === UINT64_MAX) return undefined;
    ms = Number(x / 1000n);
  } else if (typeof x === 'number' && Number.isFinite(x) && x > 0) {
    ms = Math.floor(x / 1000);
  } else {
    return undefined;
  }
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

function str(v: unknown): string | undefined {
  const x = unwrap(v);
  return typeof x === 'string' && x !== '' ? x : undefined;
}

function int(v: unknown): number | undefined {
  const x = unwrap(v);
  if (typeof x === 'number' && Number.isInteger(x)) return x;
  if (typeof x === 'bigint') return u64(x);
  return undefined;
}

/** MainPID 0 means "no main process". */
function pid(v: unknown): number | undefined {
  const x = int(v);
  return x ? x : undefined;
}

/** InvocationID is an `ay` of 16 bytes (all zero or empty: none). */
function hexId(v: unknown): string | undefined {
  const x = unwrap(v);
  let bytes: number[] | undefined;
  if (Buffer.isBuffer(x) || x instanceof Uint8Array) bytes = Array.from(x);
  else if (Array.isArray(x) && x.every((b) => typeof b === 'number')) bytes = x;
  if (!bytes || bytes.length === 0 || bytes.every((b) => b === 0)) return undefined;
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join('');
}

type Parser = (v: unknown) => unknown;
const UNIT_FIELDS: ReadonlyArray<[keyof UnitState, string, Parser]> = [
  ['loadState', 'LoadState', str],
  ['activeState', 'ActiveState', str],
  ['subState', 'SubState', str],
  ['unitFileState', 'UnitFileState', str],
  ['fragmentPath', 'FragmentPath', str],
  ['result', 'Result', str],
  ['nRestarts', 'NRestarts', int],
  ['execMainCode', 'ExecMainCode', int],
  ['execMainStatus', 'ExecMainStatus', int],
  ['execMainStartTimestamp', 'ExecMainStartTimestamp', usecToIso],
  ['execMainExitTimestamp', 'ExecMainExitTimestamp', usecToIso],
  ['activeEnterTimestamp', 'ActiveEnterTimestamp', usecToIso],
  ['invocationId', 'InvocationID', hexId],
  ['memoryCurrent', 'MemoryCurrent', u64],
  ['memoryMax', 'MemoryMax', u64],
  ['memoryPeak', 'MemoryPeak', u64],
  ['cpuUsageNSec', 'CPUUsageNSec', u64],
  ['tasksCurrent', 'TasksCurrent', u64],
  ['mainPid', 'MainPID', pid],
];

const TIMER_FIELDS: ReadonlyArray<[keyof TimerState, string, Parser]> = [
  ['lastTriggerUSec', 'LastTriggerUSec', usecToIso],
  ['nextElapseUSecRealtime', 'NextElapseUSecRealtime', usecToIso],
  ['result', 'Result', str],
];

function pick<T extends object>(raw: RawProps, fields: ReadonlyArray<[keyof T, string, Parser]>, onlyPresent: boolean): T {
  const out: Record<string, unknown> = {};
  for (const [key, prop, parse] of fields) {
    if (onlyPresent && !(prop in raw)) continue;
    const value = parse(raw[prop]);
    // A present-but-unavailable value in a patch must still clear the old one.
    if (value !== undefined || onlyPresent) out[key as string] = value;
  }
  return out as T;
}

/** The full state from GetAll on the Unit + Service interfaces (merged). */
export function unitStateFrom(raw: RawProps): UnitState {
  return pick<UnitState>(raw, UNIT_FIELDS, false);
}

/**
 * Only the fields present in `raw` (a PropertiesChanged payload): a key whose
 * value is "not available" is present with `undefined`, so spreading the patch
 * over a previous state clears it.
 */
export function unitStatePatch(raw: RawProps): Partial<UnitState> {
  return pick<Partial<UnitState>>(raw, UNIT_FIELDS, true);
}

/** From GetAll on org.freedesktop.systemd1.Timer. */
export function timerStateFrom(raw: RawProps): TimerState {
  return pick<TimerState>(raw, TIMER_FIELDS, false);
}

/** Only the timer fields present in `raw` (a PropertiesChanged payload on the Timer interface). */
export function timerStatePatch(raw: RawProps): Partial<TimerState> {
  return pick<Partial<TimerState>>(raw, TIMER_FIELDS, true);
}
