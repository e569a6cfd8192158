// The workload reconciler: the imperative shell around the pure planners.
// Reads only from the informer caches, writes children and status through the
// API, and returns an action (requeue after N ms, or nothing), as kube-rs does.
import { createHash } from 'node:crypto';
import fastJsonPatch from 'fast-json-patch';
import {
  API_VERSION, LABEL_NODE, LABEL_WORKLOAD, LABEL_WORKLOAD_UID, UNITSET_KIND, WORKLOAD_KIND,
  type SystemdUnitSet, type SystemdUnitSetSpec, type SystemdWorkload, type SystemdWorkloadPolicy, type SystemdWorkloadStatus,
} from '../api/types.js';
import { renderUnitSet } from '../render/unit.js';
import { validateWorkload } from '../api/validate.js';
import { isNotFound, topLevelMergePatch, type CustomObjects } from '../kube/client.js';
import { forEachLimited } from '../kube/concurrency.js';
import type { EventRecorder } from '../kube/events.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import { eventsFor } from './events.js';
import type { CreateExpectations } from './expectations.js';
import { evaluatePolicies, formatPolicyIssues } from './policy.js';
import { planRollout, resolveMaxUnavailable, type ChildView } from './rollout.js';
import { nodeMatches, type NodeInfo } from './selection.js';
import { foldStatus, type ChildStatusView } from './status.js';

export interface Action {
  requeueAfterMs?: number;
}

export interface ReconcilerDeps {
  workloads: () => SystemdWorkload[];
  workload: (key: string) => SystemdWorkload | undefined;
  children: (namespace: string, workloadUid: string) => SystemdUnitSet[];
  nodes: () => NodeInfo[];
  /** The SystemdWorkloadPolicies (all of them; the ones covering the namespace apply). */
  policies?: () => SystemdWorkloadPolicy[];
  /** ms since the node's agent last renewed its heartbeat; undefined when it never did. */
  heartbeatAgeMs: (node: string) => number | undefined;
  heartbeatGraceMs: number;
  workloadApi: CustomObjects<SystemdWorkload>;
  childApi: CustomObjects<SystemdUnitSet>;
  events: EventRecorder;
  log: Logger;
  now?: () => number;
  /** Children created and not yet in the cache (without it, a stale cache means duplicate creates). */
  expectations?: CreateExpectations;
}

/** A child's name: readable, within 253 characters, unique per (workload, node). */
export function childName(workload: string, node: string): string {
  const h = createHash('sha256').update(`${workload}/${node}`).digest('hex').slice(0, 6);
  return `${workload.slice(0, 100)}-${node.slice(0, 140)}-${h}`;
}

const RESYNC_MS = 5 * 60_000;
/** Child writes in flight at once per reconcile. */
const CHILD_WRITE_CONCURRENCY = 64;

export async function reconcileWorkload(key: string, d: ReconcilerDeps): Promise<Action> {
  const wl = d.workload(key);
  if (!wl || wl.metadata.deletionTimestamp) return {}; // children go with it (ownerReferences + GC)
  const ns = wl.metadata.namespace!;
  const name = wl.metadata.name!;
  const uid = wl.metadata.uid!;
  const log = d.log.child({ namespace: ns, name, generation: wl.metadata.generation });
  const now = d.now?.() ?? Date.now();

  // Defence in depth: admission should have refused an invalid spec; if one got
  // through (older CRD, policy change), running units are left as they are.
  const issues = validateWorkload(wl);
  let desired: SystemdUnitSetSpec | undefined;
  let error: string | undefined;
  // A policy violation, as admission words it: the workload gets no new or
  // updated children (the ones it has stay as they are) until it complies.
  const violations = issues.length === 0 ? evaluatePolicies(wl, d.policies?.() ?? []) : [];
  const policyError = violations.length > 0 ? formatPolicyIssues(violations) : undefined;
  if (issues.length > 0) {
    error = issues.map((i) => `${i.field}: ${i.message}`).join('; ');
  } else if (policyError) {
    error = policyError;
  } else {
    try {
      desired = renderUnitSet(wl, '');
    } catch (err) {
      error = errorMessage(err);
    }
  }

  const matching = d.nodes().filter((n) => nodeMatches(wl.spec, n)).map((n) => n.name).sort();
  const children = d.children(ns, uid);
  const byNode = new Map(children.map((c) => [c.spec.nodeName, c]));
  const maxUnavailable = resolveMaxUnavailable(wl.spec.updateStrategy?.rollingUpdate?.maxUnavailable, matching.length);
  const minReadySeconds = wl.spec.minReadySeconds ?? 0;
  const views: ChildStatusView[] = children.map((c) => view(c, d));
  // Created by an earlier pass, not in the cache yet: they exist (no second create), with
  // no status yet; updates and deletions of them wait until the cache shows them.
  const unseen = d.expectations?.unseen(uid, new Set(byNode.keys())) ?? [];
  const matchingSet = new Set(matching);
  for (const e of unseen) if (matchingSet.has(e.node)) views.push({ node: e.node, specHash: e.hash });
  let recheck: number | undefined;

  if (desired) {
    const plan = planRollout({
      desiredHash: desired.hash, nodes: matching, children: views, maxUnavailable, minReadySeconds,
      paused: wl.spec.paused ?? false, now,
    });
    recheck = plan.recheckAfterMs;
    // Children are independent: created, updated and deleted CHILD_WRITE_CONCURRENCY at a time
    // (one at a time, a 1,000-node fan-out was bound by the round trip of each create).
    await forEachLimited(plan.create, CHILD_WRITE_CONCURRENCY, async (node) => {
      const child = newChild(wl, node, { ...desired!, nodeName: node });
      try {
        await d.childApi.create(ns, child);
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err; // 409: the cache is behind; next pass sees it
      }
      d.expectations?.expect(uid, node, desired!.hash);
      views.push({ node, specHash: desired!.hash });
      log.info('child created', { node, child: child.metadata.name });
    });
    await forEachLimited(plan.update.filter((n) => byNode.has(n)), CHILD_WRITE_CONCURRENCY, async (node) => {
      const c = byNode.get(node)!;
      await d.childApi.patch(ns, c.metadata.name!, {
        metadata: { resourceVersion: c.metadata.resourceVersion },
        spec: { ...desired!, nodeName: node },
      });
      const v = views.find((x) => x.node === node)!;
      v.specHash = desired!.hash;
      log.info('child updated', { node, hash: desired!.hash.slice(0, 12) });
    });
    await forEachLimited(plan.delete.filter((n) => byNode.has(n)), CHILD_WRITE_CONCURRENCY, async (node) => {
      const c = byNode.get(node)!;
      try {
        await d.childApi.delete(ns, c.metadata.name!, c.metadata.uid);
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      log.info('child deleted: node no longer matches or is gone', { node });
    });
  }

  const folded = foldStatus({
    generation: wl.metadata.generation ?? 0,
    desiredHash: desired?.hash ?? wl.status?.hash ?? '',
    nodes: matching,
    children: views,
    minReadySeconds,
    maxUnavailable,
    paused: wl.spec.paused ?? false,
    error,
    previous: wl.status,
    now,
  });
  const status = policyError ? asPolicyViolation(folded) : folded;
  const changed = fastJsonPatch.compare(wl.status ?? {}, status).length > 0;
  if (changed) {
    await d.workloadApi.patchStatus(ns, name, {
      status: topLevelMergePatch(wl.status as Record<string, unknown> | undefined, status as unknown as Record<string, unknown>),
    });
    for (const e of eventsFor(wl.status, status)) await d.events.record(wl, e.type, e.reason, e.message);
    if (error && wl.status?.conditions?.find((c) => c.type === 'Progressing')?.message !== error) {
      await d.events.record(wl, 'Warning', policyError ? 'PolicyViolation' : 'InvalidSpec', error);
    }
  }

  // Time alone can change the answer: minReadySeconds passing, a heartbeat expiring.
  for (const c of views) {
    const age = d.heartbeatAgeMs(c.node);
    if (age !== undefined && age < d.heartbeatGraceMs) recheck = Math.min(recheck ?? Infinity, d.heartbeatGraceMs - age + 50);
  }
  return { requeueAfterMs: Math.min(recheck ?? RESYNC_MS, RESYNC_MS) };
}

/** foldStatus says InvalidSpec for any controller-found error; a policy's refusal is a PolicyViolation. */
function asPolicyViolation(s: SystemdWorkloadStatus): SystemdWorkloadStatus {
  return {
    ...s,
    conditions: s.conditions?.map((c) => ((c.type === 'Available' || c.type === 'Progressing') && c.reason === 'InvalidSpec' ? { ...c, reason: 'PolicyViolation' } : c)),
  };
}

function view(c: SystemdUnitSet, d: ReconcilerDeps): ChildStatusView {
  const age = d.heartbeatAgeMs(c.spec.nodeName);
  const v: ChildStatusView = {
    node: c.spec.nodeName,
    specHash: c.spec.hash,
    appliedHash: c.status?.appliedHash,
    phase: c.status?.phase,
    readySince: c.status?.readySince,
    units: c.status?.units,
    message: c.status?.message,
    agentSilent: age !== undefined && age >= d.heartbeatGraceMs,
  };
  return v;
}

/** A node name as a label value: itself when it fits (63 chars), else a stable digest. */
export function labelValue(node: string): string {
  if (node.length <= 63) return node;
  return `${node.slice(0, 50)}-${createHash('sha256').update(node).digest('hex').slice(0, 12)}`;
}

export function newChild(wl: SystemdWorkload, node: string, spec: SystemdUnitSetSpec): SystemdUnitSet {
  return {
    apiVersion: API_VERSION,
    kind: UNITSET_KIND,
    metadata: {
      name: childName(wl.metadata.name!, node),
      namespace: wl.metadata.namespace,
      labels: {
        [LABEL_NODE]: labelValue(node),
        [LABEL_WORKLOAD]: wl.metadata.name!.slice(0, 63),
        [LABEL_WORKLOAD_UID]: wl.metadata.uid!,
      },
      ownerReferences: [{
        apiVersion: API_VERSION, kind: WORKLOAD_KIND, name: wl.metadata.name!, uid: wl.metadata.uid!,
        controller: true, blockOwnerDeletion: true,
      }],
    },
    spec,
  };
}

export type { ChildView, SystemdWorkloadStatus };
