// Scenarios of one workload's reconcile against a recording fake API (controller
// only: no agent, no API server), named by what they prove, in kube-rs
// controller-rs's style. The e2e tests prove the same against the real parts.
import type { SystemdWorkloadSpec } from '../../../src/api/types.js';
import { CreateExpectations } from '../../../src/controller/expectations.js';
import { reconcileWorkload, requeueAfterMs, RESYNC_MS } from '../../../src/controller/reconcile.js';
import { RecordingFakeApi } from './recordingFakeApi.js';

const sleeper = (command = ['/bin/sleep', 'infinity']): SystemdWorkloadSpec => ({
  nodeSelector: { role: 'web' },
  units: [{ name: 'main', command, dynamicUser: true }],
});

/** Three nodes: web-1 and web-2 match the workload, db-1 does not. */
function cluster(spec: SystemdWorkloadSpec = sleeper()): { api: RecordingFakeApi; key: string } {
  const api = new RecordingFakeApi();
  api.nodes = [
    { name: 'web-1', labels: { role: 'web' }, taints: [] },
    { name: 'web-2', labels: { role: 'web' }, taints: [] },
    { name: 'db-1', labels: { role: 'db' }, taints: [] },
  ];
  return { api, key: api.addWorkload('app', spec) };
}

const verbs = (api: RecordingFakeApi): string[] => api.writes().map((c) => ('node' in c ? `${c.verb} ${c.node}` : c.verb));

describe('reconcile', () => {
  it('creates one child per matching node, and none elsewhere', async () => {
    const { api, key } = cluster();
    await reconcileWorkload(key, api.deps());
    expect(verbs(api)).toEqual(['create web-1', 'create web-2', 'patchStatus']);
    expect(api.workload(key).status).toMatchObject({ desiredNodes: 2, currentNodes: 2, phase: 'Pending' });
  });

  it('writes status only when it changes: a second pass with nothing new writes nothing', async () => {
    const { api, key } = cluster();
    await reconcileWorkload(key, api.deps());
    const first = api.calls.length;
    await reconcileWorkload(key, api.deps());
    expect(api.calls.slice(first)).toEqual([]);
    // What an agent reports is a change: one status write, then quiet again.
    api.agentReports(key, 'web-1', 'Running');
    await reconcileWorkload(key, api.deps());
    await reconcileWorkload(key, api.deps());
    expect(verbs(api).slice(3)).toEqual(['patchStatus']);
  });

  it('leaves the children alone on a policy violation and records one PolicyViolation Event', async () => {
    const { api, key } = cluster();
    await reconcileWorkload(key, api.deps());
    const before = api.childrenOf(key).map((c) => [c.spec.nodeName, c.spec.hash]);
    api.editSpec(key, () => sleeper(['/usr/bin/env', 'sleep', 'infinity']));
    api.policies.push({
      apiVersion: 'systemd.operators.dev/v1alpha1',
      kind: 'SystemdWorkloadPolicy',
      metadata: { name: 'bin-only' },
      spec: { namespaces: ['default'], allowedExecutables: ['/bin/'] },
    });
    const first = api.calls.length;
    await reconcileWorkload(key, api.deps());
    await reconcileWorkload(key, api.deps());
    const calls = api.calls.slice(first);
    expect(calls.filter((c) => c.verb === 'create' || c.verb === 'patch' || c.verb === 'delete')).toEqual([]);
    expect(api.childrenOf(key).map((c) => [c.spec.nodeName, c.spec.hash])).toEqual(before);
    const events = api.events().filter((e) => e.reason === 'PolicyViolation');
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'Warning',
      message: expect.stringMatching(/command\[0\]: '\/usr\/bin\/env' is not an allowed executable/),
    });
    const conditions = api.workload(key).status?.conditions ?? [];
    expect(conditions.find((c) => c.type === 'Progressing')).toMatchObject({ status: 'False', reason: 'PolicyViolation' });
    expect(conditions.find((c) => c.type === 'Available')).toMatchObject({ status: 'False', reason: 'PolicyViolation' });
    expect(api.workload(key).status?.phase).toBe('Failed');
  });

  it('records InvalidSpec once for a spec admission should have refused, and creates nothing', async () => {
    const { api, key } = cluster({
      nodeSelector: { role: 'web' },
      units: [
        { name: 'a', command: ['/bin/true'], dynamicUser: true, after: ['b'] },
        { name: 'b', command: ['/bin/true'], dynamicUser: true, after: ['a'] },
      ],
    });
    await reconcileWorkload(key, api.deps());
    await reconcileWorkload(key, api.deps());
    expect(verbs(api)).toEqual(['patchStatus']);
    expect(api.events().map((e) => [e.type, e.reason])).toEqual([['Warning', 'InvalidSpec']]);
    expect(api.events()[0]?.message).toMatch(/ordering cycle/);
    expect(api.workload(key).status).toMatchObject({ phase: 'Failed', currentNodes: 0 });
  });

  it('deletes the child of a node that no longer matches, and only that one', async () => {
    const { api, key } = cluster();
    await reconcileWorkload(key, api.deps());
    api.nodes = api.nodes.map((n) => (n.name === 'web-2' ? { ...n, labels: { role: 'db' } } : n));
    const first = api.writes().length;
    await reconcileWorkload(key, api.deps());
    expect(verbs(api).slice(first)).toEqual(['delete web-2', 'patchStatus']);
    expect(api.childrenOf(key).map((c) => c.spec.nodeName)).toEqual(['web-1']);
    expect(api.workload(key).status).toMatchObject({ desiredNodes: 1, currentNodes: 1 });
  });

  it('rolls a changed spec out one node at a time (maxUnavailable 1) while the others are ready', async () => {
    const { api, key } = cluster();
    await reconcileWorkload(key, api.deps());
    api.agentReports(key, 'web-1', 'Running');
    api.agentReports(key, 'web-2', 'Running');
    api.editSpec(key, () => sleeper(['/bin/sleep', '1000']));
    const first = api.writes().length;
    await reconcileWorkload(key, api.deps());
    expect(verbs(api).slice(first)).toEqual(['patch web-1', 'patchStatus']);
    expect(api.events().map((e) => e.reason)).toContain('RolloutStarted');
  });

  it('does not create again what a cache that is behind does not show yet (create expectations)', async () => {
    const { api, key } = cluster();
    api.cacheShowsChildren = false;
    const deps = api.deps(new CreateExpectations(5 * 60_000, () => api.now));
    await reconcileWorkload(key, deps);
    await reconcileWorkload(key, deps);
    expect(
      api
        .writes()
        .filter((c) => c.verb === 'create')
        .map((c) => ('node' in c ? c.node : '')),
    ).toEqual(['web-1', 'web-2']);
  });

  it('writes nothing for a workload being deleted (its children go by garbage collection)', async () => {
    const { api, key } = cluster();
    await reconcileWorkload(key, api.deps());
    const wl = api.workload(key);
    wl.metadata.deletionTimestamp = new Date(api.now).toISOString();
    const first = api.calls.length;
    expect(await reconcileWorkload(key, api.deps())).toEqual({});
    expect(api.calls.slice(first)).toEqual([]);
  });

  it('fails the pass, with no status written, when a child write fails (the loop retries with backoff)', async () => {
    const { api, key } = cluster();
    const deps = api.deps();
    const create = deps.childApi.create;
    deps.childApi.create = async (ns, body) => {
      if (body.spec.nodeName === 'web-2') throw Object.assign(new Error('etcdserver: request timed out'), { code: 500 });
      return create(ns, body);
    };
    await expect(reconcileWorkload(key, deps)).rejects.toThrow(/timed out/);
    // The other child was still created (writes are independent); the status was not written.
    expect(verbs(api)).toEqual(['create web-1']);
  });

  describe('when to look again', () => {
    it('nothing bound to time: the 5-minute resync', async () => {
      const { api, key } = cluster();
      expect(await reconcileWorkload(key, api.deps())).toEqual({ requeueAfterMs: RESYNC_MS });
    });

    it('a node inside minReadySeconds: when it becomes available', async () => {
      const { api, key } = cluster({ ...sleeper(), minReadySeconds: 10 });
      await reconcileWorkload(key, api.deps());
      api.agentReports(key, 'web-1', 'Running', 2_000);
      api.agentReports(key, 'web-2', 'Running', 60_000);
      expect(await reconcileWorkload(key, api.deps())).toEqual({ requeueAfterMs: 8_000 });
    });

    it('a live agent heartbeat: just after its grace would run out', async () => {
      const { api, key } = cluster();
      api.heartbeatAges.set('web-1', 10_000);
      api.heartbeatAges.set('web-2', 30_000);
      expect(await reconcileWorkload(key, api.deps())).toEqual({ requeueAfterMs: 40_000 - 30_000 + 50 });
    });

    it.each<[string, number | undefined, Array<number | undefined>, number]>([
      ['nothing: the resync', undefined, [], RESYNC_MS],
      ['the plan recheck', 8_000, [undefined], 8_000],
      ['the nearest heartbeat expiry', undefined, [1_000, 39_000], 1_050],
      ['an expired heartbeat asks nothing more', undefined, [40_000, undefined], RESYNC_MS],
      ['the earlier of plan and heartbeat', 8_000, [35_000], 5_050],
      ['never later than the resync', 10 * 60_000, [], RESYNC_MS],
    ])('%s', (_name, recheck, ages, want) => {
      expect(requeueAfterMs(recheck, ages, 40_000)).toBe(want);
    });
  });
});
