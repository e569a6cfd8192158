// Revision history and auto-revert, planned purely (as DaemonSet keeps its
// history in ControllerRevisions): one revision per distinct rendered set of
// units, named <workload>-<short hash>; re-applying an old one gives it the next
// revision number instead of a copy; old revisions no child runs are pruned
// beyond revisionHistoryLimit. Auto-revert decides from the children's reports
// whether a new revision failed on a node, and keeps that decision for the
// spec generation that caused it (carried in the RolledBack condition).
import {
  LABEL_REVISION_HASH,
  LABEL_WORKLOAD,
  LABEL_WORKLOAD_UID,
  API_VERSION,
  WORKLOAD_KIND,
  type Condition,
  type ControllerRevision,
  type UnitSpec,
  type SystemdWorkloadSpec,
} from '../api/types.js';
import type { WorkloadRef } from './child.js';
import type { ChildStatusView } from './status.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const ROLLED_BACK = 'RolledBack';
/** Hex digits of the units' hash in a revision's name and label (40 bits: collisions within one workload are not a concern). */
const SHORT_HASH = 10;

export const shortHash = (hash: string): string => hash.slice(0, SHORT_HASH);

export function revisionName(workload: string, hash: string): string {
  return `${workload.slice(0, 200)}-${shortHash(hash)}`;
}

/** The units' short hash a revision restores (its label, else its name's suffix). */
export function revisionHash(r: ControllerRevision): string {
  return r.metadata.labels?.[LABEL_REVISION_HASH] ?? (r.metadata.name ?? '').slice(-SHORT_HASH);
}

export function newRevision(
  owner: WorkloadRef,
  hash: string,
  units: UnitSpec[],
  revision: number,
  { artifacts, files }: Pick<SystemdWorkloadSpec, 'artifacts' | 'files'> = {},
): ControllerRevision {
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.name, hash),
      namespace: owner.namespace,
      labels: {
        [LABEL_WORKLOAD]: owner.name.slice(0, 63),
        [LABEL_WORKLOAD_UID]: owner.uid,
        [LABEL_REVISION_HASH]: shortHash(hash),
      },
      ownerReferences: [
        { apiVersion: API_VERSION, kind: WORKLOAD_KIND, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    // The artifacts and files the units name are part of what the revision restores
    // (files as declared: a Secret is named by its key ref, its value is never here).
    data: { spec: { units, ...(artifacts?.length ? { artifacts } : {}), ...(files?.length ? { files } : {}) } },
    revision,
  };
}

export interface RevisionPlanInput {
  /** The full hash of what the current spec renders. */
  desiredHash: string;
  revisions: readonly ControllerRevision[];
  /** The hashes the children are asked to run (full or short). */
  childHashes: readonly string[];
  /** status.currentRevision: never pruned. */
  currentRevision?: string;
  limit: number;
}

export interface RevisionPlan {
  /** Create a revision for the desired hash with this number. */
  create?: { revision: number };
  /** The desired hash's revision exists but is not the newest: give it this number (as DaemonSet does). */
  renumber?: { name: string; revision: number };
  /** Old revisions to delete, oldest first. */
  prune: ControllerRevision[];
  /** The desired hash's revision (name and number, after this plan). */
  update: { name: string; revision: number } | undefined;
}

export function planRevisions(input: RevisionPlanInput, workload: string): RevisionPlan {
  const want = shortHash(input.desiredHash);
  const max = input.revisions.reduce((m, r) => Math.max(m, r.revision), 0);
  const existing = input.revisions.find((r) => revisionHash(r) === want);
  const plan: RevisionPlan = { prune: [], update: undefined };
  if (!existing) {
    plan.create = { revision: max + 1 };
    plan.update = { name: revisionName(workload, input.desiredHash), revision: max + 1 };
  } else if (existing.revision < max) {
    plan.renumber = { name: existing.metadata.name ?? '', revision: max + 1 };
    plan.update = { name: existing.metadata.name ?? '', revision: max + 1 };
  } else {
    plan.update = { name: existing.metadata.name ?? '', revision: existing.revision };
  }
  // Live: the update, the current (auto-revert's target) and whatever a child runs.
  const live = new Set(input.childHashes.map(shortHash));
  live.add(want);
  const history = input.revisions
    .filter((r) => !live.has(revisionHash(r)) && r.metadata.name !== input.currentRevision)
    .sort((a, b) => a.revision - b.revision);
  plan.prune = history.slice(0, Math.max(0, history.length - Math.max(0, input.limit)));
  return plan;
}

/** Why a node counts as failing the revision it was given, or undefined when it does not (yet). */
export function nodeFailure(c: ChildStatusView, hash: string): string | undefined {
  if (c.specHash !== hash || c.appliedHash !== hash || c.agentSilent) return undefined;
  const units = c.units ?? [];
  const exit = (u: (typeof units)[number]): string => {
    const code = u.lastTermination?.status ?? u.exitCode;
    return code === undefined ? '' : `, exit code ${code}`;
  };
  if (c.phase === 'Failed') {
    const u = units.find((x) => x.activeState === 'failed') ?? units.find((x) => x.exitCode);
    return u ? `unit ${u.name} failed${exit(u)}` : (c.message ?? 'units failed');
  }
  const restarting = units.find((u) => (u.restarts ?? 0) > 0);
  if (restarting) return `unit ${restarting.name} restarted ${restarting.restarts} time(s)${exit(restarting)}`;
  return undefined;
}

export interface RevertInput {
  autoRevert: boolean;
  generation: number;
  /** The RolledBack condition as the last status had it. */
  previous?: Condition;
  update?: { name: string; revision: number; hash: string };
  /** The last revision healthy everywhere (status.currentRevision), with the hash it renders. */
  stable?: { name: string; revision: number; hash: string };
  children: readonly ChildStatusView[];
  /**
   * The last status's Stalled condition and the generation it was folded for:
   * a revision that runs but never becomes ready stalls the rollout at its
   * first nodes without failing there, and the deadline is what says so.
   */
  stalled?: Condition;
  stalledGeneration?: number;
  now: number;
}

/** Roll the updated nodes back to the stable revision, with the condition that says so; or carry on. */
export type RevertDecision = { revert: false } | { revert: true; condition: Condition };

export function decideRevert(input: RevertInput): RevertDecision {
  const { previous, update, stable } = input;
  if (!input.autoRevert || !update || !stable) return { revert: false };
  // Decided for this generation already: stays until the spec changes.
  if (previous?.status === 'True' && previous.observedGeneration === input.generation) return { revert: true, condition: previous };
  if (stable.hash === update.hash) return { revert: false };
  const rolledBack = (reason: string, why: string): RevertDecision => ({
    revert: true,
    condition: {
      type: ROLLED_BACK,
      status: 'True',
      observedGeneration: input.generation,
      reason,
      message: `revision ${update.revision} (${update.name}) ${why}; updated nodes returned to revision ${stable.revision} (${stable.name})`,
      lastTransitionTime: new Date(input.now).toISOString().replace(/\.\d+Z$/, 'Z'),
    },
  });
  const byNode = [...input.children].sort((a, b) => a.node.localeCompare(b.node));
  for (const c of byNode) {
    const why = nodeFailure(c, update.hash);
    if (why) return rolledBack('RevisionFailed', `failed on node ${c.node}: ${why}`);
  }
  // Not failed, but not ready by the deadline on a node that runs it (a readiness
  // probe that never holds): the revision is what stalls the rollout. A deadline
  // passed for other reasons (a node gone silent, nothing updated yet) reverts nothing.
  const { stalled } = input;
  if (stalled?.status === 'True' && stalled.reason === 'ProgressDeadlineExceeded' && input.stalledGeneration === input.generation) {
    const notReady = byNode.find((c) => c.specHash === update.hash && c.appliedHash === update.hash && !c.agentSilent && !c.readySince);
    if (notReady) return rolledBack('ProgressDeadlineExceeded', `was not ready on node ${notReady.node} within progressDeadlineSeconds`);
  }
  return { revert: false };
}
