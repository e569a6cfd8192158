// What a person must be told, from the difference between the workload's old
// and new status: a pure function, and the only source of the workload's
// Events; the reconciler records what it returns.
import type { SystemdWorkloadStatus } from '../api/types.js';
import type { SpecErrorReason } from './status.js';

export interface WorkloadEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

const SPEC_ERRORS: ReadonlySet<string> = new Set<SpecErrorReason | 'PartitionExceedsNodes'>([
  'InvalidSpec',
  'PolicyViolation',
  'SourceNotFound',
  'PartitionExceedsNodes',
]);

export function eventsFor(prev: SystemdWorkloadStatus | undefined, next: SystemdWorkloadStatus): WorkloadEvent[] {
  const out: WorkloadEvent[] = [];
  const cond = (s: SystemdWorkloadStatus | undefined, t: string) => s?.conditions?.find((c) => c.type === t);
  if (prev?.hash && next.hash && prev.hash !== next.hash) {
    out.push({
      type: 'Normal',
      reason: 'RolloutStarted',
      message: `rolling out units ${next.hash.slice(0, 12)} to ${next.desiredNodes} nodes`,
    });
  }
  const wasDone = cond(prev, 'Progressing')?.reason === 'RolloutComplete';
  const isDone = cond(next, 'Progressing')?.reason === 'RolloutComplete';
  if (isDone && !wasDone) {
    out.push({
      type: 'Normal',
      reason: 'RolloutComplete',
      message: `${next.updatedNodes} of ${next.desiredNodes} nodes updated and ready`,
    });
  }
  const held = cond(next, 'Progressing');
  if (held?.reason === 'PartitionedRollout' && cond(prev, 'Progressing')?.reason !== 'PartitionedRollout') {
    out.push({ type: 'Normal', reason: 'PartitionedRollout', message: held.message });
  }
  const prevNodes = new Map((prev?.nodes ?? []).map((n) => [n.node, n]));
  for (const n of next.nodes ?? []) {
    const b = prevNodes.get(n.node);
    if (n.phase === 'Failed' && b?.phase !== 'Failed') {
      out.push({
        type: 'Warning',
        reason: 'NodeFailed',
        message: `node ${n.node}: ${n.message ?? 'units failed'}${n.exitCode !== undefined ? ` (exit code ${n.exitCode})` : ''}`,
      });
    }
    if (n.phase === 'Unknown' && b?.phase !== 'Unknown') {
      out.push({ type: 'Warning', reason: 'NodeUnknown', message: `node ${n.node}: agent heartbeat lost; its units are left running` });
    }
    if (b && n.restarts > b.restarts) {
      out.push({
        type: 'Warning',
        reason: 'UnitRestarting',
        message: `node ${n.node}: units restarted ${n.restarts - b.restarts} more time(s), ${n.restarts} in all${n.exitCode !== undefined ? `, last exit code ${n.exitCode}` : ''}`,
      });
    }
  }
  out.push(...deadlineEvents(prev, next));
  // Auto-revert: said once, when the decision is taken (the condition carries it for the generation).
  const rolledBack = cond(next, 'RolledBack');
  if (rolledBack?.status === 'True' && cond(prev, 'RolledBack')?.message !== rolledBack.message) {
    out.push({ type: 'Warning', reason: 'RolledBack', message: rolledBack.message });
  }
  // The controller refused the spec (invalid, or against a policy), or cannot
  // honour it (a partition above the node count, which admission cannot see):
  // said once per distinct message, as the Progressing condition carries it.
  const progressing = cond(next, 'Progressing');
  const before = cond(prev, 'Progressing');
  if (
    progressing &&
    SPEC_ERRORS.has(progressing.reason) &&
    (before?.reason !== progressing.reason || before.message !== progressing.message)
  ) {
    out.push({ type: 'Warning', reason: progressing.reason, message: progressing.message });
  }
  return out;
}

/** No progress within spec.progressDeadlineSeconds: said once, when the workload stalls. */
function deadlineEvents(prev: SystemdWorkloadStatus | undefined, next: SystemdWorkloadStatus): WorkloadEvent[] {
  const exceeded = (s: SystemdWorkloadStatus | undefined) =>
    s?.conditions?.find((c) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'ProgressDeadlineExceeded');
  const now = exceeded(next);
  return now && !exceeded(prev) ? [{ type: 'Warning', reason: 'ProgressDeadlineExceeded', message: now.message }] : [];
}
