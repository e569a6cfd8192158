// Revision history and auto-revert: the pure planners, then scenarios of the
// reconcile against the recording fake API (controller only; the e2e test
// test/e2e/controller/rollback.test.ts proves the same with real agents).
import { LABEL_REVISION_HASH, type ControllerRevision, type SystemdUnitSet, type SystemdWorkloadSpec } from '../../../src/api/types.js';
import { reconcileWorkload } from '../../../src/controller/reconcile.js';
import { decideRevert, newRevision, planRevisions, revisionName } from '../../../src/controller/revisions.js';
import { planRollout } from '../../../src/controller/rollout.js';
import { RecordingFakeApi } from './recordingFakeApi.js';

const owner = { namespace: 'default', name: 'app', uid: 'uid-app' };
const rev = (hash: string, n: number): ControllerRevision => newRevision(owner, hash, [], n);
const h = (c: string): string => c.repeat(64);

describe('planRevisions', () => {
  it('creates the first revision, numbered 1, named <workload>-<short hash>', () => {
    const p = planRevisions({ desiredHash: h('a'), revisions: [], childHashes: [], limit: 10 }, 'app');
    expect(p).toEqual({ create: { revision: 1 }, prune: [], update: { name: 'app-aaaaaaaaaa', revision: 1 } });
    expect(revisionName('app', h('a'))).toBe('app-aaaaaaaaaa');
    expect(rev(h('a'), 1).metadata.labels?.[LABEL_REVISION_HASH]).toBe('aaaaaaaaaa');
  });

  it('an old template applied again is renumbered as the newest, not copied', () => {
    const p = planRevisions({ desiredHash: h('a'), revisions: [rev(h('a'), 1), rev(h('b'), 2)], childHashes: [], limit: 10 }, 'app');
    expect(p.create).toBeUndefined();
    expect(p.renumber).toEqual({ name: 'app-aaaaaaaaaa', revision: 3 });
  });

  it('prunes the oldest revisions beyond the limit, never one a child runs or the current one', () => {
    const revisions = [rev(h('a'), 1), rev(h('b'), 2), rev(h('c'), 3), rev(h('d'), 4), rev(h('e'), 5)];
    const p = planRevisions({ desiredHash: h('e'), revisions, childHashes: [h('b')], currentRevision: 'app-aaaaaaaaaa', limit: 1 }, 'app');
    // history (not live): c, d; keep 1 -> delete c
    expect(p.prune.map((r) => r.revision)).toEqual([3]);
    const none = planRevisions({ desiredHash: h('e'), revisions, childHashes: [], limit: 0 }, 'app');
    expect(none.prune.map((r) => r.revision)).toEqual([1, 2, 3, 4]);
  });
});

describe('decideRevert', () => {
  const update = { name: 'app-bbbbbbbbbb', revision: 2, hash: h('b') };
  const stable = { name: 'app-aaaaaaaaaa', revision: 1, hash: h('a') };
  const base = { autoRevert: true, generation: 2, update, stable, now: 0 };

  it('a node on the new revision whose unit restarts reverts, naming revision, node and reason', () => {
    const d = decideRevert({
      ...base,
      children: [
        {
          node: 'n1',
          specHash: h('b'),
          appliedHash: h('b'),
          phase: 'Running',
          units: [{ name: 'main', unit: 'x', restarts: 2, exitCode: 3 }],
        },
        { node: 'n2', specHash: h('a'), appliedHash: h('a'), phase: 'Running', units: [{ name: 'main', unit: 'x', restarts: 5 }] },
      ],
    });
    expect(d.revert).toBe(true);
    expect(d.revert && d.condition).toMatchObject({
      type: 'RolledBack',
      status: 'True',
      observedGeneration: 2,
      reason: 'RevisionFailed',
      message:
        'revision 2 (app-bbbbbbbbbb) failed on node n1: unit main restarted 2 time(s), exit code 3; updated nodes returned to revision 1 (app-aaaaaaaaaa)',
    });
  });

  it('a revision that runs but is not ready on its node by the progress deadline reverts; a deadline passed for other reasons does not', () => {
    const stalled = {
      type: 'Stalled',
      status: 'True' as const,
      reason: 'ProgressDeadlineExceeded',
      message: 'no progress for 60s',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    const notReady = { node: 'n1', specHash: h('b'), appliedHash: h('b'), phase: 'Running' as const };
    const d = decideRevert({
      ...base,
      stalled,
      stalledGeneration: 2,
      children: [notReady, { ...notReady, node: 'n2', specHash: h('a'), appliedHash: h('a') }],
    });
    expect(d.revert && d.condition).toMatchObject({
      reason: 'ProgressDeadlineExceeded',
      message:
        'revision 2 (app-bbbbbbbbbb) was not ready on node n1 within progressDeadlineSeconds; updated nodes returned to revision 1 (app-aaaaaaaaaa)',
    });
    // The deadline of an older generation, a node that is ready on it, a silent agent, or nothing applied yet: no revert.
    expect(decideRevert({ ...base, stalled, stalledGeneration: 1, children: [notReady] })).toEqual({ revert: false });
    expect(
      decideRevert({ ...base, stalled, stalledGeneration: 2, children: [{ ...notReady, readySince: '2026-01-01T00:00:00Z' }] }),
    ).toEqual({
      revert: false,
    });
    expect(decideRevert({ ...base, stalled, stalledGeneration: 2, children: [{ ...notReady, agentSilent: true }] })).toEqual({
      revert: false,
    });
    expect(decideRevert({ ...base, stalled, stalledGeneration: 2, children: [{ ...notReady, appliedHash: h('a') }] })).toEqual({
      revert: false,
    });
    expect(decideRevert({ ...base, autoRevert: false, stalled, stalledGeneration: 2, children: [notReady] })).toEqual({ revert: false });
    expect(decideRevert({ ...base, stalled: { ...stalled, status: 'False' }, stalledGeneration: 2, children: [notReady] })).toEqual({
      revert: false,
    });
  });

  it('no revert without autoRevert, without a stable revision, or while the new one is healthy', () => {
    const failed = [{ node: 'n1', specHash: h('b'), appliedHash: h('b'), phase: 'Failed' as const }];
    expect(decideRevert({ ...base, autoRevert: false, children: failed })).toEqual({ revert: false });
    expect(decideRevert({ ...base, stable: undefined, children: failed })).toEqual({ revert: false });
    expect(decideRevert({ ...base, children: [{ node: 'n1', specHash: h('b'), appliedHash: h('b'), phase: 'Running' }] })).toEqual({
      revert: false,
    });
    // Not yet applied: the old version's state says nothing about the new one.
    expect(decideRevert({ ...base, children: [{ node: 'n1', specHash: h('b'), appliedHash: h('a'), phase: 'Failed' }] })).toEqual({
      revert: false,
    });
  });

  it('holds for the generation that failed, and ends with the next one', () => {
    const condition = {
      type: 'RolledBack',
      status: 'True' as const,
      observedGeneration: 2,
      reason: 'RevisionFailed',
      message: 'm',
      lastTransitionTime: 't',
    };
    expect(decideRevert({ ...base, previous: condition, children: [] })).toEqual({ revert: true, condition });
    expect(decideRevert({ ...base, generation: 3, previous: condition, children: [] })).toEqual({ revert: false });
  });
});

describe('planRollout with revertNodes', () => {
  it('takes a failed revision back from its nodes at once, even one inside minReadySeconds, with no budget spent on others', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const running = (node: string, hash: string, sinceMs: number) => ({
      node,
      specHash: hash,
      appliedHash: hash,
      phase: 'Running' as const,
      readySince: new Date(now - sinceMs).toISOString(),
    });
    const input = {
      desiredHash: h('a'),
      nodes: ['n1', 'n2', 'n3'],
      children: [running('n1', h('b'), 1000), running('n2', h('a'), 60_000), running('n3', h('a'), 60_000)],
      maxUnavailable: 1,
      minReadySeconds: 10,
      paused: false,
      now,
    };
    // Without it, n1 (running, inside minReadySeconds) waits.
    expect(planRollout(input).update).toEqual([]);
    expect(planRollout({ ...input, revertNodes: ['n1'] }).update).toEqual(['n1']);
  });
});

const spec = (version: string, extra: Partial<SystemdWorkloadSpec> = {}): SystemdWorkloadSpec => ({
  units: [{ name: 'main', command: ['/bin/sh', '-c', `echo ${version}; exec sleep infinity`], dynamicUser: true }],
  ...extra,
});

function cluster(s: SystemdWorkloadSpec): { api: RecordingFakeApi; key: string } {
  const api = new RecordingFakeApi();
  api.nodes = ['n1', 'n2', 'n3'].map((name) => ({ name, labels: {}, taints: [] }));
  return { api, key: api.addWorkload('app', s) };
}

/** Every node's agent reports its child applied and ready for a minute. */
function allReady(api: RecordingFakeApi, key: string): void {
  for (const n of ['n1', 'n2', 'n3']) api.agentReports(key, n, 'Running');
}

/** A child's agent reports it applied and active, but its unit has already restarted twice with exit code 3. */
function crashLoops(api: RecordingFakeApi, c: SystemdUnitSet): void {
  c.status = {
    appliedHash: c.spec.hash,
    phase: 'Running',
    readySince: new Date(api.now).toISOString(),
    units: [{ name: 'main', unit: 'sdw-default_app_main.service', restarts: 2, exitCode: 3 }],
  };
}

describe('reconcile: revisions', () => {
  it('keeps one revision per distinct template; status names the current and the update revision', async () => {
    const { api, key } = cluster(spec('v1', { revisionHistoryLimit: 1 }));
    await reconcileWorkload(key, api.deps());
    allReady(api, key);
    await reconcileWorkload(key, api.deps());
    const [r1] = api.revisionsOf(key);
    expect(r1).toMatchObject({ revision: 1, data: { spec: { units: spec('v1').units } } });
    expect(r1!.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'SystemdWorkload', name: 'app', controller: true })]);
    expect(api.workload(key).status).toMatchObject({
      currentRevision: r1!.metadata.name,
      updateRevision: r1!.metadata.name,
      updateRevisionNumber: 1,
    });

    api.editSpec(key, (s) => ({ ...s, units: spec('v2').units }));
    await reconcileWorkload(key, api.deps());
    expect(api.revisionsOf(key).map((r) => r.revision)).toEqual([1, 2]);
    expect(api.workload(key).status).toMatchObject({ currentRevision: r1!.metadata.name, updateRevisionNumber: 2 });

    // v3 while the v2 rollout is under way: v1 is current, v2 still runs on a node, so nothing is pruned yet.
    api.editSpec(key, (s) => ({ ...s, units: spec('v3').units }));
    await reconcileWorkload(key, api.deps());
    expect(api.revisionsOf(key).map((r) => r.revision)).toEqual([1, 2, 3]);
    // Rolled out everywhere: v1 and v2 are history, and the limit of 1 keeps v2 only.
    for (let i = 0; i < 4; i++) {
      allReady(api, key);
      await reconcileWorkload(key, api.deps());
    }
    expect(
      api.childrenOf(key).every((c) => c.spec.hash.startsWith(api.revisionsOf(key).at(-1)!.metadata.labels![LABEL_REVISION_HASH]!)),
    ).toBe(true);
    expect(api.revisionsOf(key).map((r) => r.revision)).toEqual([2, 3]);
  });
});

describe('reconcile: revisions with files', () => {
  const SECRET = 'hunter2-not-in-any-revision';
  const files = (conf: SystemdWorkloadSpec['files']): Partial<SystemdWorkloadSpec> => ({
    minReadySeconds: 10,
    updateStrategy: { rollingUpdate: { maxUnavailable: 1, autoRevert: true } },
    files: [...conf!, { name: 'token', path: '/etc/sdw/default/app/token', secretKeyRef: { name: 'tok', key: 'token' } }],
  });
  const withFiles = (version: string, conf: SystemdWorkloadSpec['files']): SystemdWorkloadSpec => {
    const s = spec(version, files(conf));
    s.units[0]!.files = [{ name: 'conf' }, { name: 'token' }];
    return s;
  };

  it('a revision records the files as declared (a Secret by its key ref only), and auto-revert restores them', async () => {
    const fromConfigMap = [{ name: 'conf', path: '/etc/sdw/default/app/app.conf', configMapKeyRef: { name: 'cfg', key: 'app.conf' } }];
    const { api, key } = cluster(withFiles('v1', fromConfigMap));
    api.configMaps.set('cfg', { 'app.conf': 'port = 80\n' });
    api.secrets.set('tok', { uid: 'uid-tok', data: { token: Buffer.from(SECRET) } });
    await reconcileWorkload(key, api.deps());
    allReady(api, key);
    await reconcileWorkload(key, api.deps());
    const [r1] = api.revisionsOf(key);
    expect(r1!.data.spec.files).toEqual(withFiles('v1', fromConfigMap).files);
    const v1 = api.childrenOf(key)[0]!.spec;
    expect(v1.files?.map((f) => f.source)).toEqual(['configmap/cfg/app.conf', 'secret/tok/token']);

    // v2 declares the file inline, and crash-loops on its first node: back to v1, files and all.
    api.editSpec(key, () => withFiles('v2', [{ name: 'conf', path: '/etc/sdw/default/app/app.conf', content: 'port = 81\n' }]));
    await reconcileWorkload(key, api.deps());
    const updated = api.childrenOf(key).filter((c) => c.spec.hash !== v1.hash);
    expect(updated.map((c) => c.spec.files?.[0]?.source)).toEqual(['inline']);
    crashLoops(api, updated[0]!);
    await reconcileWorkload(key, api.deps());
    expect(api.childrenOf(key).map((c) => c.spec.files)).toEqual([v1.files, v1.files, v1.files]);
    expect(api.revisionsOf(key).map((r) => r.data.spec.files?.[0]?.content ?? r.data.spec.files?.[0]?.configMapKeyRef?.name)).toEqual([
      'cfg',
      'port = 81\n',
    ]);
    expect(JSON.stringify(api.revisionsOf(key))).not.toContain(SECRET);
    expect(JSON.stringify(api.revisionsOf(key))).not.toContain(Buffer.from(SECRET).toString('base64'));
  });
});

describe('reconcile: auto-revert', () => {
  it('a revision that crash-loops on the first node goes back to the stable one there, and no other node gets it', async () => {
    const { api, key } = cluster(
      spec('v1', { minReadySeconds: 10, updateStrategy: { rollingUpdate: { maxUnavailable: 1, autoRevert: true } } }),
    );
    await reconcileWorkload(key, api.deps());
    allReady(api, key);
    await reconcileWorkload(key, api.deps());
    const v1 = api.childrenOf(key)[0]!.spec.hash;
    const stable = api.workload(key).status!.currentRevision;

    api.editSpec(key, (s) => ({ ...s, units: spec('v2').units }));
    await reconcileWorkload(key, api.deps());
    const updated = api.childrenOf(key).filter((c) => c.spec.hash !== v1);
    expect(updated.map((c) => c.spec.nodeName)).toEqual(['n1']);
    // n1's agent: applied, active, but the unit has already restarted twice with exit code 3.
    crashLoops(api, updated[0]!);
    await reconcileWorkload(key, api.deps());
    expect(api.childrenOf(key).map((c) => c.spec.hash)).toEqual([v1, v1, v1]);
    const status = api.workload(key).status!;
    expect(status.conditions?.find((c) => c.type === 'RolledBack')).toMatchObject({
      status: 'True',
      observedGeneration: 2,
      message: expect.stringMatching(
        /^revision 2 \(app-\w+\) failed on node n1: unit main restarted 2 time\(s\), exit code 3; updated nodes returned to revision 1/,
      ),
    });
    expect(api.events()).toContainEqual(
      expect.objectContaining({ type: 'Warning', reason: 'RolledBack', message: expect.stringContaining('node n1') }),
    );
    expect(status).toMatchObject({ currentRevision: stable, updateRevisionNumber: 2 });

    // The agents catch up: every node on v1, Available, and the decision holds (no second Event).
    for (let i = 0; i < 3; i++) {
      allReady(api, key);
      await reconcileWorkload(key, api.deps());
    }
    const after = api.workload(key).status!;
    expect(after.conditions?.find((c) => c.type === 'Available')?.status).toBe('True');
    expect(after.conditions?.find((c) => c.type === 'RolledBack')?.status).toBe('True');
    // The nodes are healthy, but the spec's revision was refused: kstatus must read Failed, not Current.
    const health = Object.fromEntries(
      (after.conditions ?? [])
        .filter((c) => ['Ready', 'Reconciling', 'Stalled'].includes(c.type))
        .map((c) => [c.type, [c.status, c.reason]]),
    );
    expect(health).toEqual({ Ready: ['False', 'RolledBack'], Reconciling: ['False', 'RolledBack'], Stalled: ['True', 'RolledBack'] });
    expect(after.lastProgress).toBeUndefined();
    expect(api.events().filter((e) => e.reason === 'RolledBack')).toHaveLength(1);
    expect(api.calls.filter((c) => c.verb === 'patch').map((c) => ('node' in c ? c.node : ''))).toEqual(['n1', 'n1']);

    // A new generation starts a new rollout.
    api.editSpec(key, (s) => ({ ...s, units: spec('v3').units }));
    await reconcileWorkload(key, api.deps());
    expect(api.workload(key).status!.conditions?.find((c) => c.type === 'RolledBack')).toBeUndefined();
    expect(api.workload(key).status!.conditions?.find((c) => c.type === 'Stalled')?.status).toBe('False');
    expect(
      api
        .childrenOf(key)
        .filter((c) => c.spec.hash !== v1)
        .map((c) => c.spec.nodeName),
    ).toEqual(['n1']);
  });
});
