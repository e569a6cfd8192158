// Folding the children's status into the workload's: a pure function, so the
// same inputs always give the same status and "written only when it changes"
// is a plain deep comparison.
import type { Condition, NodePhase, NodeSummary, SystemdWorkloadStatus, UnitStatus, WorkloadPhase } from '../api/types.js';
import { LIMITS } from '../api/schema.js';
import { availability, type ChildView } from './rollout.js';
import { foldHealth } from './health.js';

export const MAX_NODE_SUMMARIES = 20;

/** Why a workload gets no new children: its spec is invalid, or a SystemdWorkloadPolicy refuses it. */
/** SourceNotFound: a ConfigMap, Secret or key that spec.files or env[].valueFrom names does not exist (yet). */
export type SpecErrorReason = 'InvalidSpec' | 'PolicyViolation' | 'SourceNotFound';

export interface ChildStatusView extends ChildView {
  units?: UnitStatus[];
  message?: string;
}

export interface FoldInput {
  generation: number;
  desiredHash: string;
  nodes: string[];
  children: ChildStatusView[];
  minReadySeconds: number;
  maxUnavailable: number;
  paused: boolean;
  /** spec.progressDeadlineSeconds: no progress for this long makes the workload Stalled. */
  progressDeadlineSeconds?: number;
  /** rollingUpdate.partition (0: none). */
  partition?: number;
  /** Outdated nodes the partition keeps on the old version now. */
  held?: number;
  /** Problems found by the controller itself (e.g. a render or policy error). */
  error?: string;
  /** The conditions' reason when there is an error (InvalidSpec unless said otherwise). */
  errorReason?: SpecErrorReason;
  previous?: SystemdWorkloadStatus;
  now: number;
}

function nodePhaseOf(c: ChildStatusView): NodePhase {
  if (c.agentSilent) return 'Unknown';
  return c.phase ?? 'Pending';
}

function summary(c: ChildStatusView): NodeSummary {
  const units = c.units ?? [];
  const s: NodeSummary = {
    node: c.node,
    phase: nodePhaseOf(c),
    restarts: units.reduce((n, u) => n + (u.restarts ?? 0), 0),
  };
  const failing = units.find((u) => u.lastTermination && u.lastTermination.reason !== 'Completed') ?? units.find((u) => u.exitCode);
  const exit = failing?.lastTermination?.status ?? failing?.exitCode;
  if (exit !== undefined) s.exitCode = exit;
  const mem = units.reduce<number | undefined>((n, u) => (u.memoryBytes === undefined ? n : (n ?? 0) + u.memoryBytes), undefined);
  if (mem !== undefined) s.memoryBytes = mem;
  const cpu = units.reduce<number | undefined>((n, u) => (u.cpuNanoseconds === undefined ? n : (n ?? 0) + u.cpuNanoseconds), undefined);
  if (cpu !== undefined) s.cpuSeconds = Math.round(cpu / 1e7) / 100;
  const msg = c.agentSilent ? 'agent heartbeat lost; units left as they were' : (c.message ?? units.find((u) => u.message)?.message);
  // status.nodes[].message has a maxLength in the CRD: a longer one would fail every status write.
  if (msg) s.message = msg.length > LIMITS.messageLength ? `${msg.slice(0, LIMITS.messageLength - 3)}...` : msg;
  return s;
}

const severity: Record<NodePhase, number> = { Failed: 0, Unknown: 1, Pending: 2, Running: 3, Completed: 4 };

function condition(prev: Condition[] | undefined, c: Omit<Condition, 'lastTransitionTime'>, now: number): Condition {
  const old = prev?.find((p) => p.type === c.type);
  const lastTransitionTime = old && old.status === c.status ? old.lastTransitionTime : new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  return { ...c, lastTransitionTime };
}

/** The failed and silent nodes, for the Degraded and Stalled messages. */
function problemNodes(nodes: NodeSummary[]): string {
  return nodes
    .filter((n) => n.phase === 'Failed' || n.phase === 'Unknown')
    .slice(0, 5)
    .map((n) => `${n.node}: ${n.phase}${n.message ? ` (${n.message})` : ''}`)
    .join('; ');
}

export function foldStatus(input: FoldInput): SystemdWorkloadStatus {
  const wanted = new Set(input.nodes);
  const children = input.children.filter((c) => wanted.has(c.node));
  let ready = 0;
  let updated = 0;
  let failed = 0;
  let unknown = 0;
  let completed = 0;
  for (const c of children) {
    const phase = nodePhaseOf(c);
    if (phase === 'Unknown') unknown++;
    else if (phase === 'Failed') failed++;
    if (phase === 'Completed') completed++;
    if (availability(c, input.minReadySeconds, input.now).available) ready++;
    if (c.specHash === input.desiredHash && c.appliedHash === input.desiredHash) updated++;
  }
  const desired = input.nodes.length;
  const nodes = children.map(summary);
  const restarts = nodes.reduce((n, s) => n + s.restarts, 0);
  nodes.sort((a, b) => severity[a.phase] - severity[b.phase] || b.restarts - a.restarts || a.node.localeCompare(b.node));

  const rolloutDone = updated === desired && children.length === desired;
  // A crash loop is Degraded from its first failed restart, not "Progressing".
  const crashLooping = children.filter((c) => nodePhaseOf(c) === 'Pending' && c.units?.some((u) => u.reason === 'CrashLoopBackOff'));
  let phase: WorkloadPhase;
  if (input.error) phase = 'Failed';
  else if (desired === 0) phase = 'Pending';
  else if (failed === desired) phase = 'Failed';
  else if (failed > 0 || unknown > 0 || crashLooping.length > 0) phase = 'Degraded';
  // Pending until some agent has applied something; after that, a rollout in
  // progress (even one where no node is ready yet) is Progressing.
  else if (!rolloutDone || ready < desired) phase = children.some((c) => c.appliedHash !== undefined) ? 'Progressing' : 'Pending';
  else if (completed === desired) phase = 'Completed';
  else phase = 'Running';

  const g = input.generation;
  const prev = input.previous?.conditions;
  const errorReason = input.errorReason ?? 'InvalidSpec';
  const minAvailable = Math.max(0, desired - input.maxUnavailable);
  const problems = problemNodes(nodes);
  const progress = `${updated} of ${desired} nodes updated, ${ready} ready`;
  const partition = input.partition ?? 0;
  const held = input.held ?? 0;
  // Held at the partition: every node it lets move is updated and ready.
  const partitionReached = held > 0 && updated + held >= desired && ready >= desired - held;
  const partitionExceeded = held > 0 && partition > desired;
  const exceededMessage = `rollingUpdate.partition ${partition} is larger than the ${desired} matching nodes: no node is updated (lower it, or kubectl sdw rollout promote)`;
  const health = foldHealth({
    generation: g,
    desiredHash: input.desiredHash,
    desired,
    ready,
    updated,
    complete: rolloutDone && ready === desired,
    paused: input.paused && !rolloutDone,
    hold: partitionExceeded
      ? {
          reason: 'PartitionExceedsNodes',
          message: exceededMessage,
          stalled: true,
        }
      : partitionReached
        ? {
            reason: 'PartitionedRollout',
            message: `held at partition ${partition}: ${updated} of ${desired} nodes updated and ready`,
            stalled: false,
          }
        : undefined,
    error: input.error,
    errorReason,
    progressDeadlineSeconds: input.progressDeadlineSeconds,
    progress,
    problems,
    previous: input.previous,
    now: input.now,
  });
  // At least one node ready: "Available" with nothing running would mislead.
  const available = desired > 0 && ready >= Math.max(1, minAvailable) && !input.error;
  const conditions: Condition[] = [
    condition(
      prev,
      {
        type: 'Available',
        status: available ? 'True' : 'False',
        observedGeneration: g,
        reason: available ? 'MinimumNodesReady' : desired === 0 ? 'NoMatchingNodes' : input.error ? errorReason : 'NodesNotReady',
        message: desired === 0 ? 'no node matches the nodeSelector and tolerations' : `${ready} of ${desired} nodes ready`,
      },
      input.now,
    ),
    condition(
      prev,
      input.error
        ? { type: 'Progressing', status: 'False', observedGeneration: g, reason: errorReason, message: input.error }
        : health.progressing
          ? { ...health.progressing, observedGeneration: g }
          : partitionExceeded
            ? {
                type: 'Progressing',
                status: 'Unknown',
                observedGeneration: g,
                reason: 'PartitionExceedsNodes',
                message: exceededMessage,
              }
            : input.paused && !rolloutDone
              ? {
                  type: 'Progressing',
                  status: 'Unknown',
                  observedGeneration: g,
                  reason: 'RolloutPaused',
                  message: `paused with ${updated} of ${desired} nodes updated`,
                }
              : partitionReached
                ? {
                    type: 'Progressing',
                    status: 'Unknown',
                    observedGeneration: g,
                    reason: 'PartitionedRollout',
                    message: `held at partition ${partition}: ${updated} of ${desired} nodes updated, ${held} kept on the old version until kubectl sdw rollout promote`,
                  }
                : rolloutDone && ready === desired
                  ? {
                      type: 'Progressing',
                      status: 'False',
                      observedGeneration: g,
                      reason: 'RolloutComplete',
                      message: `${desired} nodes updated and ready`,
                    }
                  : {
                      type: 'Progressing',
                      status: 'True',
                      observedGeneration: g,
                      reason: 'RollingOut',
                      message: `${updated} of ${desired} nodes updated, ${ready} ready${held > 0 ? `, ${held} held by partition ${partition}` : ''}`,
                    },
      input.now,
    ),
    condition(
      prev,
      failed + unknown + crashLooping.length > 0
        ? {
            type: 'Degraded',
            status: 'True',
            observedGeneration: g,
            reason: failed > 0 ? 'NodesFailed' : unknown > 0 ? 'NodesUnknown' : 'CrashLoopBackOff',
            message: nodes
              .filter((n) => n.phase === 'Failed' || n.phase === 'Unknown' || crashLooping.some((c) => c.node === n.node))
              .slice(0, 5)
              .map((n) => `${n.node}: ${n.phase}${n.message ? ` (${n.message})` : ''}`)
              .join('; '),
          }
        : { type: 'Degraded', status: 'False', observedGeneration: g, reason: 'AsExpected', message: 'no node failed' },
      input.now,
    ),
    // kstatus's (Flux, helm --wait) and kubectl wait's: see health.ts.
    ...[health.ready, health.reconciling, health.stalled].map((c) => condition(prev, { ...c, observedGeneration: g }, input.now)),
  ];
  return {
    observedGeneration: g,
    hash: input.desiredHash,
    desiredNodes: desired,
    currentNodes: children.length,
    readyNodes: ready,
    updatedNodes: updated,
    failedNodes: failed,
    unknownNodes: unknown,
    restarts,
    phase,
    conditions,
    ...(health.lastProgress ? { lastProgress: health.lastProgress } : {}),
    nodes: nodes.slice(0, MAX_NODE_SUMMARIES),
  };
}
