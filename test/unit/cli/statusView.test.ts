import type { SystemdUnitSet, SystemdWorkload } from '../../../src/api/types.js';
import { childrenOf, statusViews, workloadView } from '../../../src/cli/statusView.js';

const wl: SystemdWorkload = {
  apiVersion: 'systemd.operators.dev/v1alpha1',
  kind: 'SystemdWorkload',
  metadata: { name: 'web', namespace: 'default', uid: 'u1', generation: 2 },
  spec: { units: [{ name: 'server', command: ['/bin/sleep', 'infinity'] }] },
  status: {
    observedGeneration: 2,
    phase: 'Degraded',
    desiredNodes: 2,
    readyNodes: 1,
    restarts: 4,
    nodes: [{ node: 'n2', phase: 'Failed', restarts: 4, exitCode: 3, message: 'exit 3' }],
  },
};

function child(node: string, over: Partial<SystemdUnitSet> = {}): SystemdUnitSet {
  return {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdUnitSet',
    metadata: { name: `web-${node}`, namespace: 'default', labels: { 'systemd.operators.dev/workload-uid': 'u1' } },
    spec: {
      nodeName: node,
      hash: 'h1',
      units: [{ name: 'server', type: 'service', scheduled: false, files: [{ name: 'sdw-default_web_server.service', content: '' }] }],
    },
    ...over,
  };
}

describe('status view', () => {
  it('finds children by label or by ownerReference, never across namespaces', () => {
    const byRef = child('n3', {
      metadata: {
        name: 'x',
        namespace: 'default',
        ownerReferences: [{ apiVersion: 'v', kind: 'SystemdWorkload', name: 'web', uid: 'u1' }],
      },
    });
    const other = child('n4', { metadata: { name: 'y', namespace: 'other', labels: { 'systemd.operators.dev/workload-uid': 'u1' } } });
    const stranger = child('n5', { metadata: { name: 'z', namespace: 'default', labels: { 'systemd.operators.dev/workload-uid': 'u2' } } });
    expect(childrenOf(wl, [child('n1'), byRef, other, stranger]).map((c) => c.spec.nodeName)).toEqual(['n1', 'n3']);
  });

  it('merges the child status with the controller summary; unknown usage stays null', () => {
    const n1 = child('n1', {
      status: {
        phase: 'Running',
        appliedHash: 'h1',
        units: [
          {
            name: 'server',
            unit: 'sdw-default_web_server.service',
            activeState: 'active',
            subState: 'running',
            restarts: 0,
            memoryBytes: 1024,
            cpuNanoseconds: 2_500_000_000,
          },
        ],
      },
    });
    const n2 = child('n2', {
      status: {
        phase: 'Failed',
        appliedHash: 'h0',
        units: [
          { name: 'server', unit: 'sdw-default_web_server.service', activeState: 'failed', subState: 'failed', restarts: 4, exitCode: 3 },
        ],
      },
    });
    const v = workloadView(wl, [n2, n1]);
    expect(v).toMatchObject({ namespace: 'default', name: 'web', phase: 'Degraded', desired: 2, ready: 1, updated: null, restarts: 4 });
    expect(v.nodes.map((n) => n.node)).toEqual(['n1', 'n2']);
    expect(v.nodes[0]).toMatchObject({ phase: 'Running', upToDate: true });
    expect(v.nodes[0]!.units[0]).toMatchObject({
      state: 'active/running',
      memoryBytes: 1024,
      cpuSeconds: 2.5,
      exitCode: null,
      tasks: null,
    });
    expect(v.nodes[1]).toMatchObject({ phase: 'Failed', upToDate: false, message: 'exit 3' });
    expect(v.nodes[1]!.units[0]).toMatchObject({ state: 'failed/failed', restarts: 4, exitCode: 3, memoryBytes: null, cpuSeconds: null });
  });

  it('a child without status is Pending with every figure unknown; timers get last/next run', () => {
    const timerChild = child('n1', {
      spec: {
        nodeName: 'n1',
        hash: 'h',
        units: [
          {
            name: 'job',
            type: 'oneshot',
            scheduled: true,
            files: [
              { name: 'a.service', content: '' },
              { name: 'a.timer', content: '' },
            ],
          },
        ],
      },
    });
    const v = workloadView({ ...wl, status: undefined }, [timerChild]);
    expect(v.phase).toBeNull();
    expect(v.nodes[0]).toMatchObject({ phase: 'Pending', upToDate: false });
    expect(v.nodes[0]!.units[0]).toMatchObject({
      name: 'job',
      unit: 'a.timer',
      scheduled: true,
      restarts: null,
      lastRun: null,
      nextRun: null,
    });
    const withTimer = child('n1', {
      spec: timerChild.spec,
      status: { units: [{ name: 'job', unit: 'a.timer', timer: { lastTrigger: 't1', nextElapse: 't2' } }] },
    });
    expect(workloadView(wl, [withTimer]).nodes[0]!.units[0]).toMatchObject({ lastRun: 't1', nextRun: 't2' });
  });

  it('sorts workloads by namespace/name', () => {
    const b = { ...wl, metadata: { ...wl.metadata, name: 'b', uid: 'x' } };
    const a = { ...wl, metadata: { ...wl.metadata, namespace: 'a', uid: 'y' } };
    expect(statusViews([b, wl, a], []).map((v) => `${v.namespace}/${v.name}`)).toEqual(['a/web', 'default/b', 'default/web']);
  });
});
