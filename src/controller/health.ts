// The workload's health as generic tools read it: the Ready, Reconciling and
// Stalled conditions of kstatus (sigs.k8s.io/cli-utils: Flux, kpt, helm --wait)
// and `kubectl wait --for=condition=Ready`, and the progress deadline that turns
// a rollout which stopped moving into Stalled, as a Deployment's does. Pure:
// foldStatus calls it with the counts it has folded and the previous status.
//
// The mapping (kstatus reads Reconciling first, then Stalled, then Ready):
//   spec refused (InvalidSpec, PolicyViolation)   Stalled True          -> Failed
//   rolling out, nodes not ready, crash loop      Reconciling True      -> InProgress
//     ... with no progress for progressDeadline   Stalled True          -> Failed
//   paused before the rollout finished            Reconciling True      -> InProgress
//   every node updated and ready (or none match)  Ready True            -> Current
//   held at rollingUpdate.partition               Ready True            -> Current (as a StatefulSet)
//   partition above the node count                Stalled True          -> Failed
import type { Condition, ProgressMark, SystemdWorkloadStatus } from '../api/types.js';

export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
/** A requeue for the deadline lands this long after it, so the pass sees it passed. */
const DEADLINE_MARGIN_MS = 50;

export type HealthCondition = Omit<Condition, 'lastTransitionTime' | 'observedGeneration'>;

export interface HealthInput {
  generation: number;
  desiredHash: string;
  desired: number;
  ready: number;
  updated: number;
  /** Every desired node has the desired units and is ready (the rollout is complete). */
  complete: boolean;
  /** spec.paused while the rollout is not complete. */
  paused: boolean;
  /**
   * The rollout holds at rollingUpdate.partition: reached (every node it lets
   * move updated and ready) reads Ready, as kstatus reads a StatefulSet held at
   * its partition; a partition above the node count (nothing can move until a
   * person lowers it) reads Stalled.
   */
  hold?: { reason: string; message: string; stalled: boolean };
  /** The controller refused the spec (errorReason says why): no node gets it, so nothing will progress. */
  error?: string;
  errorReason: string;
  /** Default DEFAULT_PROGRESS_DEADLINE_SECONDS. */
  progressDeadlineSeconds?: number;
  /** What the rollout is doing, e.g. "1 of 2 nodes updated, 0 ready". */
  progress: string;
  /** The failing nodes, e.g. "n1: Failed (exit code 3)"; empty when none. */
  problems: string;
  previous?: SystemdWorkloadStatus;
  now: number;
}

export interface Health {
  ready: HealthCondition;
  reconciling: HealthCondition;
  stalled: HealthCondition;
  /** Set when the progress deadline has passed: it replaces the Progressing condition, as a Deployment's. */
  progressing?: HealthCondition & { status: 'False' };
  /** When the rollout last made progress and how far it had got (status.lastProgress); absent while it is complete. */
  lastProgress?: ProgressMark;
}

const isTrue = (s: SystemdWorkloadStatus | undefined, type: string) =>
  s?.conditions?.some((c) => c.type === type && c.status === 'True') ?? false;

/**
 * Progress, as a Deployment counts it: a new spec (generation or units), the
 * workload leaving a complete state (the clock starts there), or more nodes
 * updated or ready than at the last progress. Against the mark, not the last
 * status: a crash-looping unit that is ready for a second between crashes
 * would otherwise restart the clock on every start, and never stall.
 */
function progressed(i: HealthInput): boolean {
  const p = i.previous;
  const mark = p?.lastProgress;
  if (!mark) return true;
  if (p.observedGeneration !== i.generation || p.hash !== i.desiredHash) return true;
  if (isTrue(p, 'Ready')) return true;
  return i.updated > mark.updatedNodes || i.ready > mark.readyNodes;
}

function healthCondition(
  type: 'Ready' | 'Reconciling' | 'Stalled',
  status: Condition['status'],
  reason: string,
  message: string,
): HealthCondition {
  return { type, status, reason, message };
}

export function foldHealth(i: HealthInput): Health {
  if (i.error) {
    const [reason, message] = [i.errorReason, i.error];
    return {
      ready: healthCondition('Ready', 'False', reason, message),
      reconciling: healthCondition('Reconciling', 'False', reason, 'the spec is refused; nothing rolls out until it is fixed'),
      stalled: healthCondition('Stalled', 'True', reason, message),
    };
  }
  if (i.hold) {
    const { reason, message, stalled } = i.hold;
    return {
      ready: healthCondition('Ready', stalled ? 'False' : 'True', reason, message),
      reconciling: healthCondition('Reconciling', 'False', reason, message),
      stalled: healthCondition('Stalled', stalled ? 'True' : 'False', reason, message),
    };
  }
  if (i.complete) {
    const message = i.desired === 0 ? 'no node matches the nodeSelector and tolerations' : `${i.desired} nodes updated and ready`;
    const reason = i.desired === 0 ? 'NoMatchingNodes' : 'RolloutComplete';
    return {
      ready: healthCondition('Ready', 'True', reason, message),
      reconciling: healthCondition('Reconciling', 'False', reason, message),
      stalled: healthCondition('Stalled', 'False', reason, message),
    };
  }
  const lastProgress = progressed(i)
    ? { time: new Date(i.now).toISOString(), updatedNodes: i.updated, readyNodes: i.ready }
    : i.previous?.lastProgress;
  if (i.paused) {
    // A person stopped it: no deadline runs (resuming is a spec change, so the clock restarts).
    const message = `paused: ${i.progress}`;
    return {
      ready: healthCondition('Ready', 'False', 'RolloutPaused', message),
      reconciling: healthCondition('Reconciling', 'True', 'RolloutPaused', message),
      stalled: healthCondition('Stalled', 'False', 'RolloutPaused', message),
      lastProgress,
    };
  }
  const progress = `${i.progress}${i.problems ? `; ${i.problems}` : ''}`;
  const deadline = i.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
  if (deadlinePassed(lastProgress, deadline, i.now)) {
    const message = `no progress for ${deadline}s (progressDeadlineSeconds): ${progress}`;
    return {
      ready: healthCondition('Ready', 'False', 'ProgressDeadlineExceeded', message),
      reconciling: healthCondition('Reconciling', 'False', 'ProgressDeadlineExceeded', message),
      stalled: healthCondition('Stalled', 'True', 'ProgressDeadlineExceeded', message),
      progressing: { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message },
      lastProgress,
    };
  }
  const reason = i.updated < i.desired ? 'RollingOut' : 'NodesNotReady';
  return {
    ready: healthCondition('Ready', 'False', reason, progress),
    reconciling: healthCondition('Reconciling', 'True', reason, progress),
    stalled: healthCondition('Stalled', 'False', 'MakingProgress', `progress deadline ${deadline}s not reached`),
    lastProgress,
  };
}

function deadlinePassed(lastProgress: ProgressMark | undefined, deadlineSeconds: number, now: number): boolean {
  return lastProgress !== undefined && now - Date.parse(lastProgress.time) >= deadlineSeconds * 1000;
}

/**
 * When time alone turns this status Stalled: the progress deadline of a
 * rollout that is still reconciling (not paused, not refused); else undefined.
 */
export function progressDeadlineRecheckMs(status: SystemdWorkloadStatus, deadlineSeconds: number, now: number): number | undefined {
  const reconciling = status.conditions?.find((c) => c.type === 'Reconciling');
  if (reconciling?.status !== 'True' || reconciling.reason === 'RolloutPaused' || !status.lastProgress) return undefined;
  return Math.max(0, Date.parse(status.lastProgress.time) + deadlineSeconds * 1000 - now) + DEADLINE_MARGIN_MS;
}

/**
 * After an auto-revert every node runs the last good revision again, so the
 * counts read complete; but what the spec asks for was refused and will not
 * roll out until someone changes it. Tools must see that, as Argo Rollouts'
 * abort reads Degraded: Stalled True (kstatus Failed), Ready and Reconciling
 * False, reason RolledBack, with the RolledBack condition's message.
 */
export function stalledByRollback(
  status: SystemdWorkloadStatus,
  previous: SystemdWorkloadStatus | undefined,
  now: number,
): SystemdWorkloadStatus {
  const rolledBack = status.conditions?.find((c) => c.type === 'RolledBack' && c.status === 'True');
  if (!rolledBack) return status;
  const at = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const override: Record<string, Condition['status']> = { Ready: 'False', Reconciling: 'False', Stalled: 'True' };
  const conditions = (status.conditions ?? []).map((c) => {
    const want = override[c.type];
    if (!want) return c;
    const old = previous?.conditions?.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === want ? old.lastTransitionTime : c.status === want ? c.lastTransitionTime : at;
    return { ...c, status: want, reason: 'RolledBack', message: rolledBack.message, lastTransitionTime };
  });
  const out: SystemdWorkloadStatus = { ...status, conditions };
  delete out.lastProgress; // no deadline runs on a refused revision
  return out;
}
