// What the controller watches, the indexes it keeps over those caches, and which
// workloads each watch event sends to the work queue (kubebuilder's
// SetupWithManager: For, Owns, Watches with a map function). The mapping
// functions are pure; `registerWatches` gives each informer one handler that
// updates the indexes, then enqueues what the mapping says.
import type * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  LABEL_WORKLOAD_UID,
  POLICY_KIND,
  POLICY_PLURAL,
  UNITSET_KIND,
  UNITSET_PLURAL,
  VERSION,
  WORKLOAD_KIND,
  WORKLOAD_PLURAL,
  type ControllerRevision,
  type SystemdWorkload,
  type SystemdWorkloadPolicy,
} from '../api/types.js';
import { HEARTBEAT_LABEL, heartbeatNode } from '../kube/heartbeat.js';
import { Informer, objectKey, type EventType, type InformerOptions } from '../kube/informer.js';
import type { Logger } from '../observability/log.js';
import type { CreateExpectations } from './expectations.js';
import type { CachedChild, ReconcilerDeps } from './reconcile.js';
import type { NodeInfo } from './selection.js';

/** What the controller watches, by name, as its caches hold them (see cacheTransforms). */
export interface WatchedObjects {
  workloads: SystemdWorkload;
  /** Only children with the owner label: the controller's own. */
  children: CachedChild;
  /** Cluster-scoped SystemdWorkloadPolicies: the controller enforces them again (policy.ts). */
  policies: SystemdWorkloadPolicy;
  nodes: k8s.V1Node;
  /** The agents' heartbeat Leases, in one namespace. */
  heartbeats: k8s.V1Lease;
  /** ControllerRevisions with the owner label: the workloads' revision history. */
  revisions: ControllerRevision;
  /** ConfigMaps and Secrets: the content of spec.files and env[].valueFrom (an edit rolls out). */
  configMaps: k8s.V1ConfigMap;
  secrets: k8s.V1Secret;
}

export type ControllerInformers = { [K in keyof WatchedObjects]: Informer<WatchedObjects[K]> };

type WatchOptions = { [K in keyof WatchedObjects]: InformerOptions<WatchedObjects[K]> };

/** An object's metadata without managedFields (controller-runtime's cache drops them by default too). */
function withoutManagedFields<M extends object | undefined>(metadata: M): M {
  if (!metadata || !('managedFields' in metadata)) return metadata;
  const { managedFields: _dropped, ...rest } = metadata as M & { managedFields?: unknown };
  return rest as M;
}

function stripManagedFields<T extends { metadata?: object }>(o: T): T {
  return o.metadata && 'managedFields' in o.metadata ? { ...o, metadata: withoutManagedFields(o.metadata) } : o;
}

/**
 * What each cache keeps of an object (client-go's informer TransformFunc): only
 * what the controller reads. At 10,000 children the caches are most of the
 * controller's memory; the full objects stay on the API server.
 */
export const cacheTransforms: { [K in keyof WatchedObjects]: (o: WatchedObjects[K]) => WatchedObjects[K] } = {
  workloads: stripManagedFields,
  children: ({ apiVersion, kind, metadata: m, spec, status }) => ({
    apiVersion,
    kind,
    metadata: { name: m.name, namespace: m.namespace, uid: m.uid, resourceVersion: m.resourceVersion, labels: m.labels },
    // files stay: the controller re-seals a Secret's file for a node key that changed (sealing.ts).
    spec: { nodeName: spec.nodeName, hash: spec.hash, ...(spec.files ? { files: spec.files } : {}) },
    ...(status ? { status } : {}),
  }),
  policies: stripManagedFields,
  configMaps: stripManagedFields,
  secrets: stripManagedFields,
  // Matching reads labels and taints; a Node's status (images, conditions, addresses) is most of its bytes.
  nodes: (n) => ({
    apiVersion: n.apiVersion,
    kind: n.kind,
    metadata: {
      name: n.metadata?.name,
      uid: n.metadata?.uid,
      resourceVersion: n.metadata?.resourceVersion,
      ...(n.metadata?.labels ? { labels: n.metadata.labels } : {}),
    },
    spec: n.spec?.taints ? { taints: n.spec.taints } : {},
  }),
  heartbeats: stripManagedFields,
  revisions: stripManagedFields,
};

/** The informers' options: path, kind and selectors of each watch, and what its cache keeps. */
export function watchOptions(heartbeatNamespace: string, log: Logger): WatchOptions {
  const ours = (plural: string): string => `/apis/${GROUP}/${VERSION}/${plural}`;
  const t = cacheTransforms;
  return {
    workloads: { path: ours(WORKLOAD_PLURAL), apiVersion: API_VERSION, kind: WORKLOAD_KIND, transform: t.workloads, log },
    children: {
      path: ours(UNITSET_PLURAL),
      apiVersion: API_VERSION,
      kind: UNITSET_KIND,
      labelSelector: LABEL_WORKLOAD_UID,
      transform: t.children,
      log,
    },
    policies: { path: ours(POLICY_PLURAL), apiVersion: API_VERSION, kind: POLICY_KIND, transform: t.policies, log },
    nodes: { path: '/api/v1/nodes', apiVersion: 'v1', kind: 'Node', transform: t.nodes, log },
    heartbeats: {
      path: `/apis/coordination.k8s.io/v1/namespaces/${heartbeatNamespace}/leases`,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      namespace: heartbeatNamespace,
      labelSelector: HEARTBEAT_LABEL,
      transform: t.heartbeats,
      log,
    },
    revisions: {
      path: '/apis/apps/v1/controllerrevisions',
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      labelSelector: LABEL_WORKLOAD_UID,
      transform: t.revisions,
      log,
    },
    configMaps: { path: '/api/v1/configmaps', apiVersion: 'v1', kind: 'ConfigMap', log },
    // Service-account tokens are never a workload's source: not cached.
    secrets: { path: '/api/v1/secrets', apiVersion: 'v1', kind: 'Secret', fieldSelector: 'type!=kubernetes.io/service-account-token', log },
  };
}

export function createInformers(kc: k8s.KubeConfig, heartbeatNamespace: string, log: Logger): ControllerInformers {
  const o = watchOptions(heartbeatNamespace, log);
  return {
    workloads: new Informer(kc, o.workloads),
    children: new Informer(kc, o.children),
    policies: new Informer(kc, o.policies),
    nodes: new Informer(kc, o.nodes),
    heartbeats: new Informer(kc, o.heartbeats),
    revisions: new Informer(kc, o.revisions),
    configMaps: new Informer(kc, o.configMaps),
    secrets: new Informer(kc, o.secrets),
  };
}

/**
 * The indexes over the caches: children by owner uid (a reconcile is O(own
 * children)), workload keys by uid, and when each node's heartbeat was last seen
 * renewed (by our own clock, at the moment we saw it: no cross-machine clock trust).
 */
export class ControllerIndex {
  private readonly childrenByOwner = new Map<string, Map<string, CachedChild>>();
  private readonly workloadKeyByUid = new Map<string, string>();
  private readonly heartbeatSeenAt = new Map<string, number>();

  workloadEvent(type: EventType, w: SystemdWorkload): void {
    const uid = w.metadata.uid;
    if (!uid) return;
    if (type === 'delete') this.workloadKeyByUid.delete(uid);
    else this.workloadKeyByUid.set(uid, objectKey(w));
  }

  childEvent(type: EventType, c: CachedChild, old?: CachedChild): void {
    if (old) this.ownedBy(old)?.delete(objectKey(old));
    if (type === 'delete') {
      this.ownedBy(c)?.delete(objectKey(c));
      return;
    }
    const uid = ownerUid(c);
    if (!uid) return;
    let owned = this.childrenByOwner.get(uid);
    if (!owned) this.childrenByOwner.set(uid, (owned = new Map<string, CachedChild>()));
    owned.set(objectKey(c), c);
  }

  /** Records the renewal; returns when the node's heartbeat was seen before (undefined: never). */
  heartbeatEvent(type: EventType, node: string, lease: k8s.V1Lease, now: number): number | undefined {
    const before = this.heartbeatSeenAt.get(node);
    if (type === 'delete') this.heartbeatSeenAt.delete(node);
    else if (lease.spec?.renewTime) this.heartbeatSeenAt.set(node, now);
    return before;
  }

  children(ownerUid: string): CachedChild[] {
    return [...(this.childrenByOwner.get(ownerUid)?.values() ?? [])];
  }

  workloadKey(uid: string | undefined): string | undefined {
    return uid === undefined ? undefined : this.workloadKeyByUid.get(uid);
  }

  heartbeatAgeMs(node: string, now: number): number | undefined {
    const at = this.heartbeatSeenAt.get(node);
    return at === undefined ? undefined : now - at;
  }

  /** The keys of the workloads with a child on the node. */
  workloadKeysOnNode(node: string): string[] {
    const keys: string[] = [];
    for (const [uid, owned] of this.childrenByOwner) {
      const key = this.workloadKey(uid);
      if (!key) continue;
      for (const c of owned.values()) {
        if (c.spec.nodeName === node) {
          keys.push(key);
          break;
        }
      }
    }
    return keys;
  }

  private ownedBy(c: CachedChild): Map<string, CachedChild> | undefined {
    const uid = ownerUid(c);
    return uid ? this.childrenByOwner.get(uid) : undefined;
  }
}

function ownerUid(c: CachedChild): string | undefined {
  return c.metadata.labels?.[LABEL_WORKLOAD_UID];
}

/** Only what changes matching matters: labels, taints, existence. Status heartbeats do not. */
export function nodeChangeMatters(type: EventType, n: k8s.V1Node, old?: k8s.V1Node): boolean {
  if (type !== 'update') return true;
  return JSON.stringify([n.metadata?.labels, n.spec?.taints]) !== JSON.stringify([old?.metadata?.labels, old?.spec?.taints]);
}

/**
 * A routine renewal changes nothing a reconcile would see; only a node turning
 * silent->alive (or appearing/disappearing) does. alive->silent is found by the
 * reconciler's own recheck timer, so renewals do not cost a pass per workload.
 */
export function heartbeatChangeMatters(type: EventType, seenBefore: number | undefined, now: number, graceMs: number): boolean {
  return type !== 'update' || seenBefore === undefined || now - seenBefore >= graceMs;
}

export function nodeInfo(n: k8s.V1Node): NodeInfo | undefined {
  const name = n.metadata?.name;
  if (!name) return undefined;
  return {
    name,
    labels: n.metadata?.labels ?? {},
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
  };
}

/** The part of an informer the watches use: a handler per event, and the cache's contents. */
export interface EventSource<T> {
  on(handler: (type: EventType, obj: T, old?: T) => void): unknown;
  list(): T[];
}

export interface WatchTargets {
  informers: { [K in keyof WatchedObjects]: EventSource<WatchedObjects[K]> };
  index: ControllerIndex;
  expectations: CreateExpectations;
  enqueue: (key: string) => void;
  heartbeatGraceMs: number;
  now?: () => number;
}

/** What a reconcile reads, from the informers' caches and the indexes. */
export function cacheReads(
  i: ControllerInformers,
  index: ControllerIndex,
): Pick<ReconcilerDeps, 'workload' | 'children' | 'nodes' | 'policies' | 'heartbeatAgeMs' | 'sources'> & {
  revisionsOf: (namespace: string, uid: string) => ControllerRevision[];
} {
  return {
    workload: (key) => i.workloads.get(key),
    children: (_namespace, uid) => index.children(uid),
    nodes: () => i.nodes.list().flatMap((n) => nodeInfo(n) ?? []),
    policies: () => i.policies.list(),
    heartbeatAgeMs: (node) => index.heartbeatAgeMs(node, Date.now()),
    sources: (namespace) => ({
      configMap: (name) => {
        const cm = i.configMaps.get(`${namespace}/${name}`);
        return cm && { data: { ...cm.data, ...base64Values(cm.binaryData, 'utf8') } };
      },
      secret: (name) => {
        const s = i.secrets.get(`${namespace}/${name}`);
        return s && { uid: s.metadata?.uid ?? '', data: bufferValues(s.data) };
      },
    }),
    // Few per workload (revisionHistoryLimit); a scan of the cache is cheap next to a pass's writes.
    revisionsOf: (namespace, uid) =>
      i.revisions.list().filter((r) => r.metadata.namespace === namespace && r.metadata.labels?.[LABEL_WORKLOAD_UID] === uid),
  };
}

/** One handler per informer: update the indexes, then enqueue the workloads the event concerns. */
export function registerWatches(t: WatchTargets): void {
  const { informers: i, index } = t;
  const now = t.now ?? Date.now;
  const enqueueAll = (): void => {
    for (const w of i.workloads.list()) t.enqueue(objectKey(w));
  };
  i.workloads.on((type, w) => {
    index.workloadEvent(type, w);
    if (type === 'delete' && w.metadata.uid) t.expectations.forget(w.metadata.uid);
    t.enqueue(objectKey(w));
  });
  i.children.on((type, c, old) => {
    index.childEvent(type, c, old);
    const uid = ownerUid(c);
    if (type === 'add' && uid) t.expectations.observed(uid, c.spec.nodeName);
    const key = index.workloadKey(uid);
    if (key) t.enqueue(key);
  });
  i.nodes.on((type, n, old) => {
    if (nodeChangeMatters(type, n, old)) enqueueAll();
  });
  // A revision deleted or edited by someone else: its owner recomputes history and status.
  i.revisions.on((_type, r) => {
    const key = index.workloadKey(r.metadata.labels?.[LABEL_WORKLOAD_UID]);
    if (key) t.enqueue(key);
  });
  // A ConfigMap or Secret: the workloads of its namespace that name it (the mapping reads names only).
  const bySource = (kind: SourceKind) => (_type: EventType, o: k8s.V1ConfigMap | k8s.V1Secret) => {
    const ns = o.metadata?.namespace;
    const name = o.metadata?.name;
    if (!ns || !name) return;
    workloadsUsing(i.workloads.list(), kind, ns, name).forEach(t.enqueue);
  };
  i.configMaps.on(bySource('configMap'));
  i.secrets.on(bySource('secret'));
  // A policy change can refuse or free any workload of the namespaces it lists (or
  // listed): all workloads get a pass (policies change rarely).
  i.policies.on(() => enqueueAll());
  i.heartbeats.on((type, lease) => {
    const node = heartbeatNode(lease);
    if (!node) return;
    const at = now();
    const before = index.heartbeatEvent(type, node, lease, at);
    if (heartbeatChangeMatters(type, before, at, t.heartbeatGraceMs)) index.workloadKeysOnNode(node).forEach(t.enqueue);
  });
}

export type SourceKind = 'configMap' | 'secret';

/** The keys of the workloads in namespace that name this ConfigMap or Secret (spec.files, env[].valueFrom). */
export function workloadsUsing(workloads: readonly SystemdWorkload[], kind: SourceKind, namespace: string, name: string): string[] {
  const field = kind === 'configMap' ? 'configMapKeyRef' : 'secretKeyRef';
  return workloads
    .filter(
      (w) =>
        w.metadata.namespace === namespace &&
        ((w.spec.files ?? []).some((f) => f[field]?.name === name) ||
          w.spec.units.some((u) => (u.env ?? []).some((e) => e.valueFrom?.[field]?.name === name))),
    )
    .map((w) => objectKey(w));
}

function bufferValues(data: Record<string, string> | undefined): Record<string, Buffer> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

function base64Values(data: Record<string, string> | undefined, encoding: BufferEncoding): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString(encoding)]));
}
