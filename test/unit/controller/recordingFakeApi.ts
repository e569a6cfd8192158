// A fake API server for controller-only unit tests: an in-memory store of
// workloads and children that records every call the reconciler makes
// (creates, patches, deletes, status patches, Events), and serves as its cache.
// It answers as the API server does where the reconciler depends on it: 409 on a
// second create or a stale resourceVersion, 404 on a missing object, a merge
// patch on status. The real API server is what the e2e tests use.
import {
  API_VERSION,
  LABEL_WORKLOAD_UID,
  WORKLOAD_KIND,
  type ControllerRevision,
  type SystemdUnitSet,
  type SystemdUnitSetStatus,
  type SystemdWorkload,
  type SystemdWorkloadPolicy,
  type SystemdWorkloadSpec,
} from '../../../src/api/types.js';
import type { CreateExpectations } from '../../../src/controller/expectations.js';
import type { ReconcilerDeps } from '../../../src/controller/reconcile.js';
import type { NodeInfo } from '../../../src/controller/selection.js';
import { createLogger } from '../../../src/observability/log.js';

export type ApiCall =
  | { verb: 'create'; name: string; node: string }
  | { verb: 'patch'; name: string; node: string }
  | { verb: 'delete'; name: string; node: string }
  | { verb: 'patchStatus'; name: string }
  | { verb: 'event'; type: string; reason: string; message: string }
  | { verb: 'createRevision' | 'patchRevision' | 'deleteRevision'; name: string };

const apiError = (code: number, message: string): Error => Object.assign(new Error(message), { code });

export class RecordingFakeApi {
  readonly calls: ApiCall[] = [];
  readonly policies: SystemdWorkloadPolicy[] = [];
  nodes: NodeInfo[] = [];
  /** ms since each node's agent heartbeat; a node not listed never had one. */
  readonly heartbeatAges = new Map<string, number>();
  /** false: the watch has not delivered the children yet (the cache shows none). */
  cacheShowsChildren = true;
  /** The ConfigMaps' data and the Secrets (every namespace's: names are enough here). */
  readonly configMaps = new Map<string, Record<string, string>>();
  readonly secrets = new Map<string, { uid: string; data: Record<string, Buffer> }>();
  now = Date.parse('2026-01-01T00:00:00Z');
  private readonly workloads = new Map<string, SystemdWorkload>();
  private readonly children = new Map<string, SystemdUnitSet>();
  /** ControllerRevisions by namespace/name. */
  readonly revisions = new Map<string, ControllerRevision>();
  private serial = 0;

  /** A workload as the API server stores it (uid, generation 1). */
  addWorkload(name: string, spec: SystemdWorkloadSpec): string {
    const key = `default/${name}`;
    this.workloads.set(key, {
      apiVersion: API_VERSION,
      kind: WORKLOAD_KIND,
      metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1, resourceVersion: this.nextVersion() },
      spec,
    });
    return key;
  }

  workload(key: string): SystemdWorkload {
    const wl = this.workloads.get(key);
    if (!wl) throw new Error(`no workload ${key}`);
    return wl;
  }

  /** A user's edit of the spec: the generation goes up. */
  editSpec(key: string, edit: (spec: SystemdWorkloadSpec) => SystemdWorkloadSpec): void {
    const wl = this.workload(key);
    this.workloads.set(key, {
      ...wl,
      metadata: { ...wl.metadata, generation: (wl.metadata.generation ?? 0) + 1 },
      spec: edit(structuredClone(wl.spec)),
    });
  }

  childrenOf(key: string): SystemdUnitSet[] {
    const uid = this.workload(key).metadata.uid;
    return [...this.children.values()].filter((c) => c.metadata.ownerReferences?.some((o) => o.uid === uid));
  }

  /** What the node's agent would report: the child's spec applied, and this phase since `sinceMs` ago. */
  agentReports(key: string, node: string, phase: SystemdUnitSetStatus['phase'], sinceMs = 60_000): void {
    for (const c of this.childrenOf(key).filter((x) => x.spec.nodeName === node)) {
      c.status = { appliedHash: c.spec.hash, phase, readySince: new Date(this.now - sinceMs).toISOString() };
    }
  }

  /** The calls that change children or status (not Events, not revisions). */
  writes(): ApiCall[] {
    return this.calls.filter((c) => c.verb === 'create' || c.verb === 'patch' || c.verb === 'delete' || c.verb === 'patchStatus');
  }

  /** The workload's revisions, oldest number first. */
  revisionsOf(key: string): ControllerRevision[] {
    const uid = this.workload(key).metadata.uid;
    return [...this.revisions.values()]
      .filter((r) => r.metadata.labels?.[LABEL_WORKLOAD_UID] === uid)
      .sort((a, b) => a.revision - b.revision);
  }

  events(): Array<{ type: string; reason: string; message: string }> {
    return this.calls.flatMap((c) => (c.verb === 'event' ? [c] : []));
  }

  /** The reconciler's dependencies, its cache and its API both this store. */
  deps(expectations?: CreateExpectations): ReconcilerDeps {
    return {
      workload: (key) => this.workloads.get(key),
      children: (namespace, uid) =>
        this.cacheShowsChildren
          ? [...this.children.values()].filter((c) => c.metadata.namespace === namespace && c.metadata.labels?.[LABEL_WORKLOAD_UID] === uid)
          : [],
      nodes: () => this.nodes,
      policies: () => this.policies,
      sources: () => ({
        configMap: (name) => {
          const data = this.configMaps.get(name);
          return data && { data };
        },
        secret: (name) => this.secrets.get(name),
      }),
      heartbeatAgeMs: (node) => this.heartbeatAges.get(node),
      heartbeatGraceMs: 40_000,
      workloadApi: { patchStatus: (ns, name, body) => this.patchStatus(ns, name, body) },
      childApi: {
        create: (ns, body) => this.create(ns, body),
        patch: (ns, name, body) => this.patch(ns, name, body),
        delete: (ns, name, uid) => this.delete(ns, name, uid),
      },
      events: {
        record: async (_obj, type, reason, message) => {
          this.calls.push({ verb: 'event', type, reason, message });
        },
      },
      log: createLogger({}, 'error'),
      now: () => this.now,
      expectations,
      revisions: {
        list: (namespace, uid) =>
          [...this.revisions.values()].filter((r) => r.metadata.namespace === namespace && r.metadata.labels?.[LABEL_WORKLOAD_UID] === uid),
        api: {
          create: async (ns, body) => {
            const name = body.metadata.name ?? '';
            this.calls.push({ verb: 'createRevision', name });
            if (this.revisions.has(`${ns}/${name}`)) throw apiError(409, `controllerrevisions "${name}" already exists`);
            this.revisions.set(`${ns}/${name}`, structuredClone({ ...body, metadata: { ...body.metadata, uid: `uid-${name}` } }));
            return body;
          },
          patch: async (ns, name, body) => {
            this.calls.push({ verb: 'patchRevision', name });
            const r = this.revisions.get(`${ns}/${name}`);
            if (!r) throw apiError(404, `controllerrevisions "${name}" not found`);
            Object.assign(r, structuredClone(body));
            return r;
          },
          delete: async (ns, name) => {
            this.calls.push({ verb: 'deleteRevision', name });
            if (!this.revisions.delete(`${ns}/${name}`)) throw apiError(404, `controllerrevisions "${name}" not found`);
          },
        },
      },
    };
  }

  private nextVersion(): string {
    return String(++this.serial);
  }

  private async create(ns: string, body: SystemdUnitSet): Promise<SystemdUnitSet> {
    const name = body.metadata.name ?? '';
    this.calls.push({ verb: 'create', name, node: body.spec.nodeName });
    const key = `${ns}/${name}`;
    if (this.children.has(key)) throw apiError(409, `systemdunitsets "${name}" already exists`);
    const stored = structuredClone({ ...body, metadata: { ...body.metadata, uid: `uid-${name}`, resourceVersion: this.nextVersion() } });
    this.children.set(key, stored);
    return stored;
  }

  private async patch(ns: string, name: string, body: object): Promise<SystemdUnitSet> {
    const c = this.children.get(`${ns}/${name}`);
    this.calls.push({ verb: 'patch', name, node: c?.spec.nodeName ?? '' });
    if (!c) throw apiError(404, `systemdunitsets "${name}" not found`);
    const patch = body as { metadata?: { resourceVersion?: string }; spec?: SystemdUnitSet['spec'] };
    const rv = patch.metadata?.resourceVersion;
    if (rv !== undefined && rv !== c.metadata.resourceVersion) throw apiError(409, 'the object has been modified');
    if (patch.spec) c.spec = structuredClone(patch.spec);
    c.metadata.resourceVersion = this.nextVersion();
    return c;
  }

  private async delete(ns: string, name: string, uid?: string): Promise<void> {
    const c = this.children.get(`${ns}/${name}`);
    this.calls.push({ verb: 'delete', name, node: c?.spec.nodeName ?? '' });
    if (!c) throw apiError(404, `systemdunitsets "${name}" not found`);
    if (uid && c.metadata.uid !== uid) throw apiError(409, 'precondition failed: uid');
    this.children.delete(`${ns}/${name}`);
  }

  /** A merge patch of status: null removes a field. */
  private async patchStatus(ns: string, name: string, body: object): Promise<SystemdWorkload> {
    this.calls.push({ verb: 'patchStatus', name });
    const key = `${ns}/${name}`;
    const wl = this.workloads.get(key);
    if (!wl) throw apiError(404, `systemdworkloads "${name}" not found`);
    const status: Record<string, unknown> = { ...wl.status };
    for (const [k, v] of Object.entries((body as { status: Record<string, unknown> }).status)) {
      if (v === null) delete status[k];
      else status[k] = structuredClone(v);
    }
    const next = { ...wl, status: status as SystemdWorkload['status'] };
    this.workloads.set(key, next);
    return next;
  }
}
