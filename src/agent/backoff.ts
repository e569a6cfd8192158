// The crash-loop back-off the agent drives: a pure planner, like planSync.
//
// systemd 252 has no RestartSteps=: a crashing unit is restarted by systemd itself
// every RestartSec= up to StartLimitBurst=5 times (render/unit.ts), then stays
// "failed". From there the agent starts it again (reset-failed + StartUnit) after a
// delay that doubles with each of its starts, from restart.delaySeconds (at least
// 1 s) up to restart.maxDelaySeconds, for ever, as Kubernetes' CrashLoopBackOff.
// Each such start gives systemd's own restarts a fresh burst.
//
// Fail static: systemd's first restarts need no agent. The back-off survives an
// agent restart: the failure time comes from systemd (ExecMainExitTimestamp) and
// the attempt count and earlier restarts from the child's last written status.
// Reset: once the unit has stayed up BACKOFF_RESET_MS, the next crash starts over.
import type { RestartPolicy } from '../api/types.js';
import type { UnitState } from '../systemd/properties.js';

/** A unit up this long has recovered: the back-off starts over (Kubernetes: 10 minutes). */
export const BACKOFF_RESET_MS = 10 * 60_000;

/** What the agent remembers of one unit's crash loop (carried in status.units[] over agent restarts). */
export interface BackOffRecord {
  /** Starts the agent made in this crash loop. */
  attempts: number;
  /** Restarts counted before the agent's last start (reset-failed zeroes systemd's NRestarts). */
  earlierRestarts: number;
  /** When the agent starts the failed unit again (ms since the epoch), while it waits. */
  nextStartAt?: number;
}

export interface BackOffUnit {
  file: string;
  policy: RestartPolicy;
  scheduled: boolean;
  delaySeconds: number;
  maxDelaySeconds: number;
  state: UnitState | undefined;
  record: BackOffRecord;
}

export interface BackOffPlan {
  /** Failed units due now: reset-failed and start. */
  start: string[];
  /** The records as they should be after this pass (start not yet counted). */
  records: Map<string, BackOffRecord>;
  /** When the planner wants to run again (the soonest due start or reset), if ever. */
  nextInMs?: number;
}

/** The delay before the agent's start number attempts+1: delay * 2^(attempts+1), capped. */
export function backOffDelayMs(attempts: number, delaySeconds: number, maxDelaySeconds: number): number {
  const base = Math.max(1, delaySeconds);
  return Math.min(maxDelaySeconds, base * 2 ** Math.min(attempts + 1, 30)) * 1000;
}

/** Does systemd's verdict on this unit call for the agent's restart? */
export function restartsAfterFailure(policy: RestartPolicy, scheduled: boolean, state: UnitState | undefined): boolean {
  if (scheduled || policy === 'Never') return false;
  // Always and OnFailure alike: "failed" is systemd giving up after a failure.
  return state?.activeState === 'failed';
}

export function planBackOff(units: BackOffUnit[], now: number): BackOffPlan {
  const plan: BackOffPlan = { start: [], records: new Map() };
  const soon = (ms: number): void => {
    plan.nextInMs = Math.min(plan.nextInMs ?? Infinity, Math.max(0, ms));
  };
  for (const u of units) {
    const rec: BackOffRecord = { attempts: u.record.attempts, earlierRestarts: u.record.earlierRestarts };
    const s = u.state;
    if (restartsAfterFailure(u.policy, u.scheduled, s)) {
      const failedAt = Date.parse(s?.execMainExitTimestamp ?? '');
      const due = (Number.isFinite(failedAt) ? failedAt : now) + backOffDelayMs(rec.attempts, u.delaySeconds, u.maxDelaySeconds);
      if (due <= now) plan.start.push(u.file);
      else {
        rec.nextStartAt = due;
        soon(due - now);
      }
    } else if (rec.attempts > 0 && s?.activeState === 'active') {
      const upSince = Date.parse(s.execMainStartTimestamp ?? s.activeEnterTimestamp ?? '');
      if (Number.isFinite(upSince) && now - upSince >= BACKOFF_RESET_MS) rec.attempts = 0;
      else if (Number.isFinite(upSince)) soon(upSince + BACKOFF_RESET_MS - now);
    }
    plan.records.set(u.file, rec);
  }
  return plan;
}

/** The record after the agent started the unit: this start and systemd's restarts so far are counted. */
export function afterAgentStart(rec: BackOffRecord, state: UnitState | undefined): BackOffRecord {
  return { attempts: rec.attempts + 1, earlierRestarts: rec.earlierRestarts + (state?.nRestarts ?? 0) + 1 };
}
