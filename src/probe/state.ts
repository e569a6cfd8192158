// A probe's state from its outcomes, as the kubelet keeps it: pure. A readiness
// probe starts failing-until-proven (Pending, not ready) and needs
// successThreshold successes in a row to hold, failureThreshold failures in a
// row to stop holding; a liveness probe starts holding (a unit is alive until
// proven otherwise) and, after failureThreshold failures in a row, says the
// unit must be restarted (once; the count starts again after the restart).
import type { Probe, ProbeResult } from '../api/types.js';
import type { ProbeOutcome } from './network.js';

export type ProbeKind = 'readiness' | 'liveness';

export interface ProbeState {
  result: ProbeResult['result'];
  successes: number;
  failures: number;
  message?: string;
  lastProbeTime?: string;
  /** The unit's ExecMainStartTimestamp when probed: a result speaks only for that run of the unit. */
  startedAt?: string;
}

export function initialProbeState(kind: ProbeKind): ProbeState {
  return { result: kind === 'readiness' ? 'Pending' : 'Success', successes: 0, failures: 0 };
}

export interface ProbeStep {
  state: ProbeState;
  /** Liveness only: failureThreshold failures in a row were reached by this outcome. */
  restart: boolean;
}

export function nextProbeState(kind: ProbeKind, probe: Probe, prev: ProbeState, outcome: ProbeOutcome, now: number): ProbeStep {
  const failureThreshold = probe.failureThreshold ?? 3;
  const successThreshold = kind === 'liveness' ? 1 : (probe.successThreshold ?? 1);
  const successes = outcome.ok ? prev.successes + 1 : 0;
  const failures = outcome.ok ? 0 : prev.failures + 1;
  let result = prev.result;
  if (outcome.ok && successes >= successThreshold) result = 'Success';
  if (!outcome.ok && failures >= failureThreshold) result = 'Failure';
  const restart = kind === 'liveness' && !outcome.ok && failures === failureThreshold;
  return { state: { result, successes, failures, message: outcome.message, lastProbeTime: new Date(now).toISOString() }, restart };
}

/**
 * What the unit status shows of a probe: no probe time, so that a probe that
 * keeps giving the same answer causes no status write (the agent writes only changes).
 */
export function probeResult(s: ProbeState): ProbeResult {
  const r: ProbeResult = { result: s.result };
  if (s.failures > 0) r.consecutiveFailures = s.failures;
  if (s.message !== undefined) r.message = s.message.slice(0, 1024);
  return r;
}
