// Pure: why did a unit's main process end? Like a Pod's lastState.terminated.
// Inputs are systemd's Result, ExecMainCode (a CLD_* code from waitid) and
// ExecMainStatus (exit status or signal number).
//
// OOM detection:
//   - cgroup v2: systemd reads memory.events and sets Result=oom-kill. Definitive.
//   - cgroup v1 / hybrid (the project's machines): the kernel OOM killer's SIGKILL
//     looks like any other SIGKILL: Result=signal, ExecMainCode=2, ExecMainStatus=9.
//     Heuristic: report "OOMKilled" only if MemoryMax is set AND the highest memory
//     figure we know of (MemoryPeak, or the caller's last MemoryCurrent sample) was
//     at least `nearLimitRatio` (default 0.9) of MemoryMax; otherwise the honest
//     "Killed(signal 9)". An OOM kill of a fast allocator between two samples is
//     then reported as Killed(signal 9): a false negative, never a false positive
//     on a unit without a memory limit.
import type { UnitState } from './properties.js';

export const CLD_EXITED = 1;
export const CLD_KILLED = 2;
export const CLD_DUMPED = 3;

export type TerminationCode = 'exited' | 'killed' | 'dumped';

export interface Termination {
  code: TerminationCode;
  /** Exit status (exited) or signal number (killed, dumped). */
  status: number;
  exitCode?: number;
  signal?: number;
  signalName?: string;
  /** Completed | Error(exit N) | OOMKilled | Killed(signal N) | Stopped(signal N) | CoreDumped(signal N) | Timeout | Watchdog */
  reason: string;
  /** systemd's Result at the time (success, exit-code, signal, core-dump, oom-kill, timeout, ...). */
  result?: string;
  time?: string;
}

export type TerminationInput = Pick<
  UnitState,
  'result' | 'execMainCode' | 'execMainStatus' | 'execMainExitTimestamp' | 'memoryMax' | 'memoryPeak'
>;

export interface TerminationHints {
  /** The highest MemoryCurrent the caller sampled during the run. */
  lastMemoryBytes?: number;
  /** Fraction of MemoryMax counted as "near the limit"; default 0.9. */
  nearLimitRatio?: number;
}

const SIGNAL_NAMES: Record<number, string> = {
  1: 'SIGHUP',
  2: 'SIGINT',
  3: 'SIGQUIT',
  4: 'SIGILL',
  5: 'SIGTRAP',
  6: 'SIGABRT',
  7: 'SIGBUS',
  8: 'SIGFPE',
  9: 'SIGKILL',
  10: 'SIGUSR1',
  11: 'SIGSEGV',
  12: 'SIGUSR2',
  13: 'SIGPIPE',
  14: 'SIGALRM',
  15: 'SIGTERM',
  24: 'SIGXCPU',
  25: 'SIGXFSZ',
  31: 'SIGSYS',
};

export function signalName(sig: number): string | undefined {
  return SIGNAL_NAMES[sig];
}

/** Whether memory evidence says a SIGKILL was the OOM killer (see the header). */
export function nearMemoryLimit(input: TerminationInput, hints: TerminationHints = {}): boolean {
  const max = input.memoryMax;
  if (max === undefined || max <= 0) return false;
  const seen = Math.max(input.memoryPeak ?? 0, hints.lastMemoryBytes ?? 0);
  return seen >= max * (hints.nearLimitRatio ?? 0.9);
}

/** undefined while the main process has never ended (ExecMainCode 0 or unknown). */
export function terminationFrom(input: TerminationInput, hints: TerminationHints = {}): Termination | undefined {
  const { execMainCode: cld, execMainStatus: status, result } = input;
  if (status === undefined) return undefined;
  const base = { status, result, time: input.execMainExitTimestamp };
  if (cld === CLD_EXITED) {
    const reason =
      result === 'oom-kill'
        ? 'OOMKilled'
        : result === 'timeout'
          ? 'Timeout'
          : result === 'watchdog'
            ? 'Watchdog'
            : status === 0
              ? 'Completed'
              : `Error(exit ${status})`;
    return { ...base, code: 'exited', exitCode: status, reason };
  }
  if (cld === CLD_KILLED || cld === CLD_DUMPED) {
    const code: TerminationCode = cld === CLD_DUMPED ? 'dumped' : 'killed';
    let reason: string;
    if (result === 'oom-kill') reason = 'OOMKilled';
    else if (result === 'timeout') reason = 'Timeout';
    else if (result === 'watchdog') reason = 'Watchdog';
    else if (code === 'dumped') reason = `CoreDumped(signal ${status})`;
    else if (status === 9 && nearMemoryLimit(input, hints)) reason = 'OOMKilled';
    // systemd counts SIGTERM/SIGHUP/SIGINT/SIGPIPE on stop as a clean exit (Result=success).
    else if (result === 'success') reason = `Stopped(signal ${status})`;
    else reason = `Killed(signal ${status})`;
    return { ...base, code, signal: status, signalName: signalName(status), reason };
  }
  return undefined;
}
