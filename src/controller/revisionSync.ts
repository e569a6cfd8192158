// The reconcile step for revisions: writes the ControllerRevisions that
// planRevisions asks for, and decides (decideRevert) which rendered spec the
// rollout goes to: the current spec's, or, after auto-revert, the last
// revision healthy everywhere. Then, once the status is folded, it adds the
// revision fields and the RolledBack condition.
import type { ControllerRevision, SystemdUnitSetSpec, SystemdWorkload, SystemdWorkloadStatus } from '../api/types.js';
import { renderWithPayloads } from '../render/unit.js';
import type { SourceResolver } from '../render/files.js';
import { isConflict, isNotFound } from '../kube/client.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import type { WorkloadRef } from './child.js';
import {
  DEFAULT_REVISION_HISTORY_LIMIT,
  ROLLED_BACK,
  decideRevert,
  newRevision,
  planRevisions,
  revisionHash,
  shortHash,
  type RevertDecision,
  type RevisionPlan,
} from './revisions.js';
import type { ChildStatusView } from './status.js';

/** The controller's view of ControllerRevisions: the cache, and the API for writes. */
export interface RevisionDeps {
  list: (namespace: string, workloadUid: string) => ControllerRevision[];
  api: {
    create: (namespace: string, body: ControllerRevision) => Promise<unknown>;
    patch: (namespace: string, name: string, body: object) => Promise<unknown>;
    delete: (namespace: string, name: string, uid?: string) => Promise<void>;
  };
}

export interface RevisionOutcome {
  /** What the rollout goes to. */
  target: SystemdUnitSetSpec;
  /** After auto-revert: the Secret values the target's files need, by digest (to seal per node). */
  targetPayloads?: Map<string, Buffer>;
  /** After auto-revert: the nodes given the failed revision, to take it back from at once. */
  revertNodes: string[];
  /** Adds currentRevision, updateRevision and the RolledBack condition to a folded status. */
  annotate: (status: SystemdWorkloadStatus, rolloutComplete: boolean) => SystemdWorkloadStatus;
}

export async function syncRevisions(
  wl: SystemdWorkload,
  ref: WorkloadRef,
  desired: SystemdUnitSetSpec,
  children: readonly ChildStatusView[],
  deps: RevisionDeps,
  log: Logger,
  now: number,
  /** The namespace's ConfigMaps and Secrets: a revision's files render from them (without: it cannot be a revert target). */
  sources?: SourceResolver,
): Promise<RevisionOutcome> {
  const revisions = deps.list(ref.namespace, ref.uid);
  const plan = planRevisions(
    {
      desiredHash: desired.hash,
      revisions,
      childHashes: children.map((c) => c.specHash),
      currentRevision: wl.status?.currentRevision,
      limit: wl.spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT,
    },
    ref.name,
  );
  await writeRevisions(wl, ref, desired, plan, deps, log);

  const stableRevision = revisions.find((r) => r.metadata.name === wl.status?.currentRevision);
  const stable = renderRevision(wl, stableRevision, log, sources);
  const update = plan.update && { ...plan.update, hash: desired.hash };
  const decision: RevertDecision = decideRevert({
    autoRevert: wl.spec.updateStrategy?.rollingUpdate?.autoRevert ?? false,
    generation: wl.metadata.generation ?? 0,
    previous: wl.status?.conditions?.find((c) => c.type === ROLLED_BACK),
    update,
    stable: stable &&
      stableRevision && { name: stableRevision.metadata.name ?? '', revision: stableRevision.revision, hash: stable.spec.hash },
    children,
    stalled: wl.status?.conditions?.find((c) => c.type === 'Stalled'),
    stalledGeneration: wl.status?.observedGeneration,
    now,
  });
  if (decision.revert && wl.status?.conditions?.find((c) => c.type === ROLLED_BACK) !== decision.condition) {
    log.info('auto-revert', { message: decision.condition.message });
  }
  const reverting = decision.revert && stable !== undefined;
  const target = reverting ? stable.spec : desired;
  return {
    target,
    targetPayloads: reverting ? stable.payloads : undefined,
    revertNodes: reverting ? children.filter((c) => c.specHash === desired.hash).map((c) => c.node) : [],
    annotate: (status, rolloutComplete) => {
      const s: SystemdWorkloadStatus = { ...status };
      if (update) {
        s.updateRevision = update.name;
        s.updateRevisionNumber = update.revision;
      }
      // Current: what every node ran when a rollout last completed.
      const finished = rolloutComplete ? (reverting ? stableRevision?.metadata.name : update?.name) : undefined;
      const current = finished ?? wl.status?.currentRevision;
      if (current) s.currentRevision = current;
      if (decision.revert && reverting) s.conditions = [...(s.conditions ?? []), decision.condition];
      return s;
    },
  };
}

/** The plan's writes: the new revision, a renumbering, the pruned ones. */
async function writeRevisions(
  wl: SystemdWorkload,
  ref: WorkloadRef,
  desired: SystemdUnitSetSpec,
  plan: RevisionPlan,
  deps: RevisionDeps,
  log: Logger,
): Promise<void> {
  if (plan.create) {
    try {
      await deps.api.create(ref.namespace, newRevision(ref, desired.hash, wl.spec.units, plan.create.revision, wl.spec));
      log.info('revision created', { revision: plan.create.revision, hash: shortHash(desired.hash) });
    } catch (err) {
      if (!isConflict(err)) throw err; // the cache is behind; the next pass sees it
    }
  }
  if (plan.renumber) await deps.api.patch(ref.namespace, plan.renumber.name, { revision: plan.renumber.revision });
  for (const r of plan.prune) {
    try {
      await deps.api.delete(ref.namespace, r.metadata.name ?? '', r.metadata.uid);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}

/**
 * A revision's units, artifacts and files rendered for this workload (with the
 * Secret values its files need), or undefined when they no longer render
 * (logged) or render differently (a ConfigMap or Secret it names has changed).
 */
function renderRevision(
  wl: SystemdWorkload,
  r: ControllerRevision | undefined,
  log: Logger,
  sources: SourceResolver | undefined,
): { spec: SystemdUnitSetSpec; payloads: Map<string, Buffer> } | undefined {
  if (!r) return undefined;
  try {
    const { units, artifacts, files } = r.data.spec;
    const rendered = renderWithPayloads({ ...wl, spec: { ...wl.spec, units, artifacts, files } }, '', sources ? { sources } : {});
    return shortHash(rendered.spec.hash) === revisionHash(r) ? rendered : undefined;
  } catch (err) {
    log.info('revision does not render', { revision: r.metadata.name, error: errorMessage(err) });
    return undefined;
  }
}
