import type * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  LABEL_WORKLOAD_UID,
  type ControllerRevision,
  type SystemdUnitSet,
  type SystemdWorkload,
  type SystemdWorkloadPolicy,
} from '../../../src/api/types.js';
import { CreateExpectations } from '../../../src/controller/expectations.js';
import { newRevision } from '../../../src/controller/revisions.js';
import {
  cacheTransforms,
  ControllerIndex,
  heartbeatChangeMatters,
  nodeChangeMatters,
  nodeInfo,
  registerWatches,
  watchOptions,
  type EventSource,
} from '../../../src/controller/watches.js';
import type { EventType } from '../../../src/kube/informer.js';
import { HEARTBEAT_LABEL } from '../../../src/kube/heartbeat.js';
import { createLogger } from '../../../src/observability/log.js';

const node = (name: string, labels: Record<string, string> = {}, taints: k8s.V1Taint[] = [], ready = 'True'): k8s.V1Node => ({
  metadata: { name, labels },
  spec: { taints },
  status: { conditions: [{ type: 'Ready', status: ready }] },
});
const workload = (name: string, uid: string): SystemdWorkload =>
  ({
    apiVersion: API_VERSION,
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default', uid },
    spec: { units: [] },
  }) as unknown as SystemdWorkload;
const child = (name: string, ownerUid: string, nodeName: string): SystemdUnitSet =>
  ({
    apiVersion: API_VERSION,
    kind: 'SystemdUnitSet',
    metadata: { name, namespace: 'default', labels: { [LABEL_WORKLOAD_UID]: ownerUid } },
    spec: { nodeName, hash: 'h', units: [] },
  }) as unknown as SystemdUnitSet;
const lease = (nodeName: string, renewed = true): k8s.V1Lease => ({
  metadata: { name: `sdw-agent-${nodeName}`, annotations: { 'systemd.operators.dev/node': nodeName } },
  spec: renewed ? { renewTime: new Date(0) } : {},
});

describe('nodeChangeMatters: only what changes matching', () => {
  it.each<[string, EventType, k8s.V1Node, k8s.V1Node | undefined, boolean]>([
    ['a new node', 'add', node('a'), undefined, true],
    ['a node gone', 'delete', node('a'), undefined, true],
    ['labels changed', 'update', node('a', { role: 'web' }), node('a'), true],
    ['a taint added', 'update', node('a', {}, [{ key: 'k', effect: 'NoSchedule' }]), node('a'), true],
    ['only its status changed (the kubelet heartbeat)', 'update', node('a', {}, [], 'False'), node('a'), false],
  ])('%s: %p', (_name, type, n, old, want) => {
    expect(nodeChangeMatters(type, n, old)).toBe(want);
  });
});

describe('heartbeatChangeMatters: only a node turning alive, appearing or going', () => {
  const grace = 40_000;
  it.each<[string, EventType, number | undefined, number, boolean]>([
    ['the first heartbeat of a node', 'add', undefined, 1000, true],
    ['a heartbeat Lease deleted', 'delete', 1000, 2000, true],
    ['a routine renewal', 'update', 1000, 11_000, false],
    ['a renewal first seen by this replica', 'update', undefined, 1000, true],
    ['a renewal after the agent was silent past the grace', 'update', 1000, 1000 + grace, true],
  ])('%s: %p', (_name, type, before, now, want) => {
    expect(heartbeatChangeMatters(type, before, now, grace)).toBe(want);
  });
});

describe('nodeInfo', () => {
  it('keeps name, labels and taints', () => {
    expect(nodeInfo(node('a', { role: 'web' }, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]))).toEqual({
      name: 'a',
      labels: { role: 'web' },
      taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
    });
  });

  it('a Node without a name is no node to match', () => {
    expect(nodeInfo({ metadata: {} })).toBeUndefined();
  });
});

describe('watchOptions', () => {
  const o = watchOptions('ops', createLogger({}, 'error'));
  it('watches only children with the owner label, and heartbeat Leases of one namespace', () => {
    expect(o.children.labelSelector).toBe(LABEL_WORKLOAD_UID);
    expect(o.heartbeats).toMatchObject({
      namespace: 'ops',
      labelSelector: HEARTBEAT_LABEL,
      path: '/apis/coordination.k8s.io/v1/namespaces/ops/leases',
    });
    expect(o.workloads.path).toBe('/apis/systemd.operators.dev/v1alpha1/systemdworkloads');
  });
});

describe('cacheTransforms: the caches keep only what the controller reads', () => {
  const managedFields = [{ manager: 'sdw-agent', operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': {} } }];
  const meta = { name: 'c1', namespace: 'default', uid: 'c1-uid', resourceVersion: '7', labels: { [LABEL_WORKLOAD_UID]: 'u1' } };

  it('a child: name, namespace, uid, resourceVersion, labels; spec.nodeName and spec.hash; its status; the input is left alone', () => {
    const full = {
      apiVersion: API_VERSION,
      kind: 'SystemdUnitSet',
      metadata: {
        ...meta,
        generation: 2,
        creationTimestamp: '2026-01-01T00:00:00Z',
        annotations: { a: 'b' },
        ownerReferences: [{ apiVersion: API_VERSION, kind: 'SystemdWorkload', name: 'w', uid: 'u1' }],
        managedFields,
      },
      spec: {
        nodeName: 'n1',
        hash: 'abc',
        shortHash: 'abc',
        units: [{ name: 'u0', type: 'service', scheduled: false, files: [{ name: 'x.service', content: '[Service]\n' }] }],
      },
      status: { appliedHash: 'abc', phase: 'Running', units: [{ name: 'u0', unit: 'x.service', activeState: 'active' }] },
    } as unknown as SystemdUnitSet;
    const before = structuredClone(full);
    const kept = cacheTransforms.children(full);
    expect(kept).toEqual({
      apiVersion: API_VERSION,
      kind: 'SystemdUnitSet',
      metadata: meta,
      spec: { nodeName: 'n1', hash: 'abc' },
      status: full.status,
    });
    expect(full).toEqual(before);
    expect(cacheTransforms.children({ ...full, status: undefined })).not.toHaveProperty('status');
  });

  it('a Node: name, uid, resourceVersion, labels and taints: what matching and change detection read', () => {
    const n: k8s.V1Node = {
      ...node('a', { role: 'web' }, [{ key: 'k', value: 'v', effect: 'NoSchedule' }]),
      metadata: { name: 'a', uid: 'a-uid', resourceVersion: '3', labels: { role: 'web' }, annotations: { big: 'x' }, managedFields },
      status: { images: [{ names: ['registry/some:1'], sizeBytes: 1 }], conditions: [{ type: 'Ready', status: 'True' }] },
    };
    const kept = cacheTransforms.nodes(n);
    expect(kept).toEqual({
      metadata: { name: 'a', uid: 'a-uid', resourceVersion: '3', labels: { role: 'web' } },
      spec: { taints: n.spec!.taints },
    });
    expect(nodeInfo(kept)).toEqual(nodeInfo(n));
    expect(nodeChangeMatters('update', kept, cacheTransforms.nodes({ ...n, metadata: { ...n.metadata, labels: {} } }))).toBe(true);
    expect(nodeChangeMatters('update', kept, cacheTransforms.nodes({ ...n, status: {} }))).toBe(false);
  });

  it('workloads, policies, heartbeat Leases, revisions: whole but for managedFields', () => {
    const w = { ...workload('a', 'ua'), metadata: { ...workload('a', 'ua').metadata, managedFields } } as SystemdWorkload;
    const { managedFields: _w, ...wMeta } = w.metadata as SystemdWorkload['metadata'] & { managedFields?: unknown };
    expect(cacheTransforms.workloads(w)).toEqual({ ...w, metadata: wMeta });
    expect(w.metadata).toHaveProperty('managedFields');
    const l = lease('n1');
    expect(cacheTransforms.heartbeats({ ...l, metadata: { ...l.metadata, managedFields } })).toEqual(l);
    const plain = workload('b', 'ub');
    expect(cacheTransforms.workloads(plain)).toBe(plain);
  });
});

describe('ControllerIndex', () => {
  it('keeps children by owner through add, update and delete', () => {
    const ix = new ControllerIndex();
    const c = child('c1', 'u1', 'n1');
    ix.childEvent('add', c);
    expect(ix.children('u1').map((x) => x.metadata.name)).toEqual(['c1']);
    const moved = child('c1', 'u2', 'n1'); // relabelled to another owner
    ix.childEvent('update', moved, c);
    expect(ix.children('u1')).toEqual([]);
    expect(ix.children('u2')).toEqual([moved]);
    ix.childEvent('delete', moved);
    expect(ix.children('u2')).toEqual([]);
  });

  it('finds the workloads with a child on a node, by their keys', () => {
    const ix = new ControllerIndex();
    ix.workloadEvent('add', workload('a', 'ua'));
    ix.workloadEvent('add', workload('b', 'ub'));
    ix.childEvent('add', child('a-n1', 'ua', 'n1'));
    ix.childEvent('add', child('b-n2', 'ub', 'n2'));
    ix.childEvent('add', child('orphan-n1', 'gone', 'n1'));
    expect(ix.workloadKeysOnNode('n1')).toEqual(['default/a']);
    ix.workloadEvent('delete', workload('a', 'ua'));
    expect(ix.workloadKeysOnNode('n1')).toEqual([]);
  });

  it('heartbeat age by our own clock; none for a node never seen or whose Lease is gone', () => {
    const ix = new ControllerIndex();
    expect(ix.heartbeatEvent('add', 'n1', lease('n1'), 1000)).toBeUndefined();
    expect(ix.heartbeatAgeMs('n1', 4000)).toBe(3000);
    expect(ix.heartbeatEvent('update', 'n1', lease('n1'), 5000)).toBe(1000);
    expect(ix.heartbeatAgeMs('n1', 5000)).toBe(0);
    ix.heartbeatEvent('delete', 'n1', lease('n1'), 6000);
    expect(ix.heartbeatAgeMs('n1', 7000)).toBeUndefined();
    expect(ix.heartbeatAgeMs('never', 7000)).toBeUndefined();
  });
});

/** An informer stand-in: what is cached, and the handlers registerWatches gives it. */
class FakeSource<T> implements EventSource<T> {
  readonly items: T[] = [];
  private readonly handlers: Array<(type: EventType, obj: T, old?: T) => void> = [];
  on(handler: (type: EventType, obj: T, old?: T) => void): this {
    this.handlers.push(handler);
    return this;
  }
  list(): T[] {
    return this.items;
  }
  emit(type: EventType, obj: T, old?: T): void {
    this.handlers.forEach((h) => h(type, obj, old));
  }
}

describe('registerWatches: which workloads each event sends to the queue', () => {
  function setup() {
    const informers = {
      workloads: new FakeSource<SystemdWorkload>(),
      children: new FakeSource<SystemdUnitSet>(),
      policies: new FakeSource<SystemdWorkloadPolicy>(),
      nodes: new FakeSource<k8s.V1Node>(),
      heartbeats: new FakeSource<k8s.V1Lease>(),
      revisions: new FakeSource<ControllerRevision>(),
      configMaps: new FakeSource<k8s.V1ConfigMap>(),
      secrets: new FakeSource<k8s.V1Secret>(),
    };
    const queued: string[] = [];
    let now = 0;
    const expectations = new CreateExpectations();
    const index = new ControllerIndex();
    registerWatches({ informers, index, expectations, heartbeatGraceMs: 40_000, enqueue: (k) => queued.push(k), now: () => now });
    const a = workload('a', 'ua');
    const b = workload('b', 'ub');
    informers.workloads.items.push(a, b);
    informers.workloads.emit('add', a);
    informers.workloads.emit('add', b);
    informers.children.emit('add', child('a-n1', 'ua', 'n1'));
    informers.children.emit('add', child('b-n2', 'ub', 'n2'));
    queued.length = 0;
    return { informers, queued, expectations, index, setNow: (t: number) => (now = t) };
  }

  it('a ConfigMap or Secret event enqueues only the workloads of its namespace that name it', () => {
    const { informers, queued } = setup();
    const a = informers.workloads.items[0]!;
    a.spec.files = [{ name: 'conf', path: '/etc/sdw/default/a/conf', configMapKeyRef: { name: 'cfg', key: 'k' } }];
    const b = informers.workloads.items[1]!;
    b.spec.units = [
      { name: 'main', command: ['/bin/true'], env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 'k' } } }] },
    ];
    informers.configMaps.emit('update', { metadata: { namespace: 'default', name: 'cfg' } });
    informers.configMaps.emit('update', { metadata: { namespace: 'other', name: 'cfg' } });
    informers.secrets.emit('update', { metadata: { namespace: 'default', name: 'tok' } });
    informers.secrets.emit('update', { metadata: { namespace: 'default', name: 'cfg' } });
    expect(queued).toEqual(['default/a', 'default/b']);
  });

  it('every event of a workload enqueues it; its deletion forgets its expectations', () => {
    const { informers, queued, expectations } = setup();
    expectations.expect('ua', 'n9', 'h');
    informers.workloads.emit('delete', workload('a', 'ua'));
    expect(queued).toEqual(['default/a']);
    expect(expectations.unseen('ua', new Set())).toEqual([]);
  });

  it('a child enqueues its owner, and its first sight meets the create expectation', () => {
    const { informers, queued, expectations } = setup();
    expectations.expect('ua', 'n3', 'h');
    informers.children.emit('add', child('a-n3', 'ua', 'n3'));
    expect(queued).toEqual(['default/a']);
    expect(expectations.unseen('ua', new Set())).toEqual([]);
  });

  it('a child of an owner not in the cache enqueues nothing', () => {
    const { informers, queued } = setup();
    informers.children.emit('add', child('x-n1', 'unknown', 'n1'));
    expect(queued).toEqual([]);
  });

  it('a Node whose labels change enqueues every workload; its status alone, none', () => {
    const { informers, queued } = setup();
    informers.nodes.emit('update', node('n1', {}, [], 'False'), node('n1'));
    expect(queued).toEqual([]);
    informers.nodes.emit('update', node('n1', { role: 'web' }), node('n1'));
    expect(queued).toEqual(['default/a', 'default/b']);
  });

  it('a policy change enqueues every workload', () => {
    const { informers, queued } = setup();
    informers.policies.emit('add', { metadata: { name: 'p' }, spec: { namespaces: ['default'] } } as SystemdWorkloadPolicy);
    expect(queued).toEqual(['default/a', 'default/b']);
  });

  it('a heartbeat appearing or coming back enqueues the workloads on that node; a routine renewal, none', () => {
    const { informers, queued, setNow } = setup();
    informers.heartbeats.emit('add', lease('n1'));
    expect(queued).toEqual(['default/a']);
    setNow(10_000);
    informers.heartbeats.emit('update', lease('n1'));
    expect(queued).toEqual(['default/a']);
    setNow(60_000); // silent for longer than the grace, then back
    informers.heartbeats.emit('update', lease('n1'));
    expect(queued).toEqual(['default/a', 'default/a']);
  });

  it('a Lease without the node annotation is not a heartbeat', () => {
    const { informers, queued } = setup();
    informers.heartbeats.emit('add', { metadata: { name: 'other' } });
    expect(queued).toEqual([]);
  });

  it('a ControllerRevision enqueues the workload its uid label names', () => {
    const { informers, queued } = setup();
    informers.revisions.emit('delete', newRevision({ namespace: 'default', name: 'b', uid: 'ub' }, 'f'.repeat(64), [], 1));
    expect(queued).toEqual(['default/b']);
  });
});
