// The workload reconciler: the imperative shell around the pure planners.
// Reads only from the informer caches, writes children and status through the
// API, and returns an action (requeue after N ms, or nothing), as kube-rs does.
// One pass is a sequence of named steps: desired state -> observe -> plan ->
// apply -> project -> fold status -> write if changed -> when to look again.
import type {
  ObjectMeta,
  SystemdUnitSet,
  SystemdUnitSetSpec,
  SystemdWorkload,
  SystemdWorkloadPolicy,
  SystemdWorkloadStatus,
} from '../api/types.js';
import { renderWithPayloads } from '../render/unit.js';
import { SourceNotFoundError, type SourceResolver } from '../render/files.js';
import { validateWorkload } from '../api/validate.js';
import { isConflict, isNotFound, writeStatusIfChanged, type CustomObjects } from '../kube/client.js';
import { forEachLimited } from '../kube/concurrency.js';
import type { EventRecorder } from '../kube/events.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import { needsSealing, sealFiles } from './sealing.js';
import { childAnnotations, newChild, restartStamp, workloadRef, type WorkloadRef } from './child.js';
import { eventsFor } from './events.js';
import type { CreateExpectations } from './expectations.js';
import { evaluatePolicies, formatPolicyIssues } from './policy.js';
import { syncRevisions, type RevisionDeps, type RevisionOutcome } from './revisionSync.js';
import { planRollout, resolveMaxUnavailable } from './rollout.js';
import { nodeMatches, type NodeInfo } from './selection.js';
import { foldStatus, type ChildStatusView, type SpecErrorReason } from './status.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, progressDeadlineRecheckMs, stalledByRollback } from './health.js';

export interface Action {
  requeueAfterMs?: number;
}

/**
 * A child as the controller caches it (watches.ts, cacheTransforms): its identity
 * (key, uid for a precondition, resourceVersion for an update, the owner label), of
 * its spec only the node and the hash (the rollout compares hashes; the rendered
 * unit files, most of a child's bytes, are never read back), and its status.
 */
export type CachedChild = Omit<SystemdUnitSet, 'metadata' | 'spec'> & {
  metadata: Pick<ObjectMeta, 'name' | 'namespace' | 'uid' | 'resourceVersion' | 'labels'>;
  spec: Pick<SystemdUnitSetSpec, 'nodeName' | 'hash' | 'files'>;
};

export interface ReconcilerDeps {
  workload: (key: string) => SystemdWorkload | undefined;
  children: (namespace: string, workloadUid: string) => CachedChild[];
  nodes: () => NodeInfo[];
  /** The SystemdWorkloadPolicies (all of them; the ones covering the namespace apply). */
  policies?: () => SystemdWorkloadPolicy[];
  /** ms since the node's agent last renewed its heartbeat; undefined when it never did. */
  heartbeatAgeMs: (node: string) => number | undefined;
  heartbeatGraceMs: number;
  workloadApi: Pick<CustomObjects<SystemdWorkload>, 'patchStatus'>;
  childApi: Pick<CustomObjects<SystemdUnitSet>, 'create' | 'patch' | 'delete'>;
  events: Pick<EventRecorder, 'record'>;
  log: Logger;
  now?: () => number;
  /** Children created and not yet in the cache (without it, a stale cache means duplicate creates). */
  expectations?: CreateExpectations;
  /** ControllerRevisions (history, undo, auto-revert); without them the rollout goes to the spec as it is. */
  revisions?: RevisionDeps;
  /** The ConfigMaps and Secrets of a namespace (spec.files, env[].valueFrom); without it they cannot resolve. */
  sources?: (namespace: string) => SourceResolver;
}

export const RESYNC_MS = 5 * 60_000;
/** Child writes in flight at once per reconcile. */
const CHILD_WRITE_CONCURRENCY = 64;
/** A requeue for a heartbeat lands this long after the grace ends, so the pass sees it expired. */
const HEARTBEAT_MARGIN_MS = 50;

export async function reconcileWorkload(key: string, d: ReconcilerDeps): Promise<Action> {
  const wl = d.workload(key);
  const ref = wl && !wl.metadata.deletionTimestamp ? workloadRef(wl) : undefined;
  if (!wl || !ref) return {}; // gone or going: its children go with it (ownerReferences + GC)
  const now = d.now?.() ?? Date.now();
  const log = d.log.child({ namespace: ref.namespace, name: ref.name, generation: wl.metadata.generation });

  const sources = d.sources?.(ref.namespace);
  const desired = desiredState(wl, d.policies?.() ?? [], sources);
  const observed = observe(wl, ref, d);
  let children = observed.views; // a refused spec changes no child
  let recheckAfterMs: number | undefined;
  let revisions: RevisionOutcome | undefined;
  let target = desired;
  let held: string[] = [];
  if (desired.spec) {
    revisions = d.revisions && (await syncRevisions(wl, ref, desired.spec, observed.views, d.revisions, log, now, sources));
    if (revisions) target = { spec: revisions.target };
    const plan = planWrites(wl, target.spec!.hash, observed, now, revisions?.revertNodes);
    const payloads = secretPayloads(desired, revisions);
    const applied = await apply({ ref, desired: target.spec!, d, log, annotations: childAnnotations(wl), payloads }, plan);
    await sealStale(observed.cached, applied, payloads, d, ref, log);
    children = project(observed.views, applied, target.spec!.hash);
    recheckAfterMs = plan.recheckAfterMs;
    held = plan.held;
  }
  const status = stalledByRollback(
    withRevisions(wl, foldWorkloadStatus(wl, target, observed, children, now, held), revisions),
    wl.status,
    now,
  );
  await writeStatusWithEvents(wl, status, d);
  const deadlineMs = progressDeadlineRecheckMs(status, progressDeadlineSeconds(wl), now);
  return {
    requeueAfterMs: requeueAfterMs(
      Math.min(recheckAfterMs ?? RESYNC_MS, deadlineMs ?? RESYNC_MS),
      children.map((c) => d.heartbeatAgeMs(c.node)),
      d.heartbeatGraceMs,
    ),
  };
}

/** What every matching node should get, or why none gets anything new. */
type DesiredState =
  | { spec: SystemdUnitSetSpec; payloads?: Map<string, Buffer>; error?: undefined }
  | { spec?: undefined; payloads?: undefined; error: { reason: SpecErrorReason; message: string } };

/**
 * Defence in depth: admission should have refused an invalid spec, and a policy
 * violation; if one got through (older CRD, policy added later, binding missing),
 * the workload gets no new or updated children (the ones it has stay as they
 * are) until it is fixed. The messages are admission's.
 */
function desiredState(wl: SystemdWorkload, policies: readonly SystemdWorkloadPolicy[], sources?: SourceResolver): DesiredState {
  const issues = validateWorkload(wl);
  if (issues.length > 0) return { error: { reason: 'InvalidSpec', message: issues.map((i) => `${i.field}: ${i.message}`).join('; ') } };
  const violations = evaluatePolicies(wl, policies);
  if (violations.length > 0) return { error: { reason: 'PolicyViolation', message: formatPolicyIssues(violations) } };
  try {
    return renderWithPayloads(wl, '', { restartedAt: restartStamp(wl), sources: sources ?? NO_SOURCES });
  } catch (err) {
    // The message names the object and key, never a value.
    return { error: { reason: err instanceof SourceNotFoundError ? 'SourceNotFound' : 'InvalidSpec', message: errorMessage(err) } };
  }
}

/** The Secret values the target's files need, by digest: the spec's, and an auto-revert target's. */
function secretPayloads(desired: DesiredState, revisions: RevisionOutcome | undefined): Map<string, Buffer> {
  return new Map([...(desired.payloads ?? []), ...(revisions?.targetPayloads ?? [])]);
}

/** Without a source reader every reference is missing (never silently unresolved). */
const NO_SOURCES: SourceResolver = { configMap: () => undefined, secret: () => undefined };

/** What the caches show: the matching nodes and the workload's children. */
interface Observed {
  /** Matching nodes, sorted. */
  nodes: string[];
  /** With a nodeOrder: each matching node's failure domain (its label's value). */
  domainOf?: Map<string, string | undefined>;
  maxUnavailable: number;
  /** The cached children, by node: the only ones a pass may update or delete. */
  cached: Map<string, CachedChild>;
  /** What each child reports, and children created but not cached yet (no status). */
  views: ChildStatusView[];
}

function observe(wl: SystemdWorkload, ref: WorkloadRef, d: ReconcilerDeps): Observed {
  const matching = d.nodes().filter((n) => nodeMatches(wl.spec, n));
  const nodes = matching.map((n) => n.name).sort();
  const orderKey = wl.spec.updateStrategy?.rollingUpdate?.nodeOrder?.labelKey;
  const domainOf = orderKey === undefined ? undefined : new Map(matching.map((n) => [n.name, n.labels[orderKey]]));
  const children = d.children(ref.namespace, ref.uid);
  const cached = new Map(children.map((c) => [c.spec.nodeName, c]));
  // Created by an earlier pass, not in the cache yet: they exist (no second create), with
  // no status yet; updates and deletions of them wait until the cache shows them.
  const matchingNames = new Set(nodes);
  const unseen = (d.expectations?.unseen(ref.uid, new Set(cached.keys())) ?? []).filter((e) => matchingNames.has(e.node));
  const views = [
    ...children.map((c) => childView(c, d.heartbeatAgeMs(c.spec.nodeName), d.heartbeatGraceMs)),
    ...unseen.map((e): ChildStatusView => ({ node: e.node, specHash: e.hash })),
  ];
  const maxUnavailable = resolveMaxUnavailable(wl.spec.updateStrategy?.rollingUpdate?.maxUnavailable, nodes.length);
  return { nodes, domainOf, maxUnavailable, cached, views };
}

function childView(c: CachedChild, heartbeatAgeMs: number | undefined, graceMs: number): ChildStatusView {
  return {
    node: c.spec.nodeName,
    specHash: c.spec.hash,
    appliedHash: c.status?.appliedHash,
    phase: c.status?.phase,
    readySince: c.status?.readySince,
    units: c.status?.units,
    message: c.status?.message,
    agentSilent: heartbeatAgeMs !== undefined && heartbeatAgeMs >= graceMs,
  };
}

/** The writes of one pass: nodes to create a child on, cached children to update or delete. */
interface ChildWrites {
  create: string[];
  update: CachedChild[];
  delete: CachedChild[];
  /** Outdated nodes the partition keeps on the old version. */
  held: string[];
  /** When the plan may change by time alone (minReadySeconds). */
  recheckAfterMs?: number;
}

function planWrites(wl: SystemdWorkload, desiredHash: string, o: Observed, now: number, revertNodes?: string[]): ChildWrites {
  const plan = planRollout({
    desiredHash,
    nodes: o.nodes,
    children: o.views,
    maxUnavailable: o.maxUnavailable,
    minReadySeconds: wl.spec.minReadySeconds ?? 0,
    paused: wl.spec.paused ?? false,
    partition: wl.spec.updateStrategy?.rollingUpdate?.partition,
    domainOf: o.domainOf,
    now,
    revertNodes,
  });
  const cachedChildren = (nodes: string[]): CachedChild[] => nodes.flatMap((n) => o.cached.get(n) ?? []);
  return {
    create: plan.create,
    update: cachedChildren(plan.update),
    delete: cachedChildren(plan.delete),
    held: plan.held,
    recheckAfterMs: plan.recheckAfterMs,
  };
}

/** What a pass wrote, by node: the writes report it, nothing mutates the views. */
interface Applied {
  created: string[];
  updated: string[];
  deleted: string[];
}

interface WriteContext {
  ref: WorkloadRef;
  desired: SystemdUnitSetSpec;
  d: ReconcilerDeps;
  log: Logger;
  /** The workload's annotations its children carry (the restart stamp). */
  annotations?: Record<string, string>;
  /** Secret plaintexts by digest, sealed per node on write; never stored. */
  payloads: Map<string, Buffer>;
}

/**
 * Children are independent: created, updated and deleted CHILD_WRITE_CONCURRENCY at a time
 * (one at a time, a 1,000-node fan-out was bound by the round trip of each create).
 * Any failed write fails the pass (after the others settle), so what returns was all done.
 */
async function apply(w: WriteContext, writes: ChildWrites): Promise<Applied> {
  await forEachLimited(writes.create, CHILD_WRITE_CONCURRENCY, (node) => createChild(w, node));
  await forEachLimited(writes.update, CHILD_WRITE_CONCURRENCY, (child) => updateChild(w, child));
  await forEachLimited(writes.delete, CHILD_WRITE_CONCURRENCY, (child) => deleteChild(w, child));
  const nodes = (children: CachedChild[]): string[] => children.map((c) => c.spec.nodeName);
  return { created: writes.create, updated: nodes(writes.update), deleted: nodes(writes.delete) };
}

async function createChild({ ref, desired, d, log, annotations }: WriteContext, node: string): Promise<void> {
  // A new child's node key is not known yet: its secret files are sealed once the agent publishes it.
  const child = newChild(ref, node, { ...desired, nodeName: node }, annotations);
  try {
    await d.childApi.create(ref.namespace, child);
  } catch (err) {
    if (!isConflict(err)) throw err; // 409: the cache is behind; next pass sees it
  }
  d.expectations?.expect(ref.uid, node, desired.hash);
  log.info('child created', { node, child: child.metadata.name });
}

async function updateChild({ ref, desired, d, log, annotations, payloads }: WriteContext, child: CachedChild): Promise<void> {
  const node = child.spec.nodeName;
  const files = sealFiles(desired.files, ref.namespace, child.status?.sealingKey, payloads);
  await d.childApi.patch(ref.namespace, child.metadata.name ?? '', {
    metadata: { resourceVersion: child.metadata.resourceVersion, ...(annotations ? { annotations } : {}) },
    spec: { ...desired, nodeName: node, ...(files ? { files } : {}) },
  });
  log.info('child updated', { node, hash: desired.hash.slice(0, 12) });
}

async function deleteChild({ ref, d, log }: WriteContext, child: CachedChild): Promise<void> {
  try {
    await d.childApi.delete(ref.namespace, child.metadata.name ?? '', child.metadata.uid);
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  log.info('child deleted: node no longer matches or is gone', { node: child.spec.nodeName });
}

/**
 * Seals the secret files of children this pass did not write, where the node's key
 * is new or a value has not been sealed yet (a child created before its agent
 * published its key). Not a rollout step: the content and hash stay as they are.
 */
async function sealStale(
  cached: Map<string, CachedChild>,
  applied: Applied,
  payloads: Map<string, Buffer>,
  d: ReconcilerDeps,
  ref: WorkloadRef,
  log: Logger,
): Promise<void> {
  if (payloads.size === 0) return;
  const written = new Set([...applied.updated, ...applied.deleted]);
  const stale = [...cached.values()].filter((c) => !written.has(c.spec.nodeName) && needsSealing(c, payloads));
  await forEachLimited(stale, CHILD_WRITE_CONCURRENCY, async (c) => {
    const files = sealFiles(c.spec.files, ref.namespace, c.status?.sealingKey, payloads);
    await d.childApi.patch(ref.namespace, c.metadata.name ?? '', {
      metadata: { resourceVersion: c.metadata.resourceVersion },
      spec: { files },
    });
    log.info('secret files sealed for the node key', { node: c.spec.nodeName });
  });
}

/** The children as they are after the pass's writes (created ones have no status yet). */
function project(views: readonly ChildStatusView[], applied: Applied, desiredHash: string): ChildStatusView[] {
  const updated = new Set(applied.updated);
  const deleted = new Set(applied.deleted);
  return [
    ...views.filter((v) => !deleted.has(v.node)).map((v) => (updated.has(v.node) ? { ...v, specHash: desiredHash } : v)),
    ...applied.created.map((node) => ({ node, specHash: desiredHash })),
  ];
}

/** The workload's status from its children as they are now; a refused spec keeps the last hash. */
function foldWorkloadStatus(
  wl: SystemdWorkload,
  desired: DesiredState,
  observed: Observed,
  children: ChildStatusView[],
  now: number,
  held: readonly string[],
): SystemdWorkloadStatus {
  return foldStatus({
    generation: wl.metadata.generation ?? 0,
    desiredHash: desired.spec?.hash ?? wl.status?.hash ?? '',
    nodes: observed.nodes,
    children,
    minReadySeconds: wl.spec.minReadySeconds ?? 0,
    maxUnavailable: observed.maxUnavailable,
    paused: wl.spec.paused ?? false,
    progressDeadlineSeconds: progressDeadlineSeconds(wl),
    partition: wl.spec.updateStrategy?.rollingUpdate?.partition ?? 0,
    held: held.length,
    error: desired.error?.message,
    errorReason: desired.error?.reason,
    previous: wl.status,
    now,
  });
}

/** The CRD defaults it; an object written before the field existed has none. */
function progressDeadlineSeconds(wl: SystemdWorkload): number {
  return wl.spec.progressDeadlineSeconds ?? DEFAULT_PROGRESS_DEADLINE_SECONDS;
}

/** The revision fields: from this pass's revision step, else (a refused spec) as they were. */
function withRevisions(wl: SystemdWorkload, status: SystemdWorkloadStatus, revisions: RevisionOutcome | undefined): SystemdWorkloadStatus {
  if (revisions) {
    const complete = status.desiredNodes! > 0 && status.updatedNodes === status.desiredNodes && status.readyNodes === status.desiredNodes;
    return revisions.annotate(status, complete);
  }
  const { currentRevision, updateRevision, updateRevisionNumber } = wl.status ?? {};
  return {
    ...status,
    ...(currentRevision !== undefined && { currentRevision }),
    ...(updateRevision !== undefined && { updateRevision }),
    ...(updateRevisionNumber !== undefined && { updateRevisionNumber }),
  };
}

/** Status is written only when it changes; the Events say what the change means. */
async function writeStatusWithEvents(wl: SystemdWorkload, status: SystemdWorkloadStatus, d: ReconcilerDeps): Promise<void> {
  if (!(await writeStatusIfChanged(d.workloadApi, wl, status))) return;
  for (const e of eventsFor(wl.status, status)) await d.events.record(wl, e.type, e.reason, e.message);
}

/**
 * When to look again, as time alone can change the answer: minReadySeconds
 * passing (the plan's recheck) or the progress deadline, a live heartbeat
 * expiring; else the resync.
 */
export function requeueAfterMs(
  recheckAfterMs: number | undefined,
  heartbeatAgesMs: ReadonlyArray<number | undefined>,
  graceMs: number,
): number {
  let next = recheckAfterMs ?? RESYNC_MS;
  for (const age of heartbeatAgesMs) {
    if (age !== undefined && age < graceMs) next = Math.min(next, graceMs - age + HEARTBEAT_MARGIN_MS);
  }
  return Math.min(next, RESYNC_MS);
}
