import { CreateExpectations } from '../../../src/controller/expectations.js';
import { reconcileWorkload, type ReconcilerDeps } from '../../../src/controller/reconcile.js';
import type { SystemdUnitSet, SystemdWorkload } from '../../../src/api/types.js';
import type { CustomObjects } from '../../../src/kube/client.js';
import { createLogger } from '../../../src/observability/log.js';

describe('CreateExpectations', () => {
  let t = 0;
  const clock = (): number => t;
  beforeEach(() => (t = 0));

  it.each<[string, (e: CreateExpectations) => void, string[], string[]]>([
    ['nothing expected', () => undefined, [], []],
    ['created, not cached: unseen', (e) => e.expect('w', 'a', 'h1'), [], ['a:h1']],
    ['created and cached: seen', (e) => e.expect('w', 'a', 'h1'), ['a'], []],
    [
      'created, observed by the informer',
      (e) => {
        e.expect('w', 'a', 'h1');
        e.observed('w', 'a');
      },
      [],
      [],
    ],
    [
      'created, expired after the TTL',
      (e) => {
        e.expect('w', 'a', 'h1');
        t = 1000;
      },
      [],
      [],
    ],
    [
      'created just before the TTL: still unseen',
      (e) => {
        e.expect('w', 'a', 'h1');
        t = 999;
      },
      [],
      ['a:h1'],
    ],
    ['another workload: not ours', (e) => e.expect('other', 'a', 'h1'), [], []],
    [
      'forgotten workload',
      (e) => {
        e.expect('w', 'a', 'h1');
        e.forget('w');
      },
      [],
      [],
    ],
    [
      're-created with a new hash: the latest',
      (e) => {
        e.expect('w', 'a', 'h1');
        e.expect('w', 'a', 'h2');
      },
      [],
      ['a:h2'],
    ],
  ])('%s', (_n, act, cached, want) => {
    const e = new CreateExpectations(1000, clock);
    act(e);
    expect(e.unseen('w', new Set(cached)).map((x) => `${x.node}:${x.hash}`)).toEqual(want);
  });

  it('drops what the cache shows, so a later deletion of that child is not masked', () => {
    const e = new CreateExpectations(1000, clock);
    e.expect('w', 'a', 'h1');
    expect(e.unseen('w', new Set(['a']))).toEqual([]);
    // The child is deleted afterwards: the cache no longer has it, and nothing is pending.
    expect(e.unseen('w', new Set())).toEqual([]);
  });
});

describe('reconcile with a cache that has not caught up', () => {
  const wl: SystemdWorkload = {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', generation: 1 },
    spec: { nodeSelector: {}, units: [{ name: 'main', command: ['/bin/sleep', 'infinity'] }] },
  };

  function deps(expectations?: CreateExpectations): { d: ReconcilerDeps; creates: string[] } {
    const creates: string[] = [];
    const existing = new Set<string>();
    const childApi = {
      create: async (_ns: string, c: SystemdUnitSet) => {
        creates.push(c.spec.nodeName);
        // The API server refuses a second create of the same name, as it does.
        if (existing.has(c.metadata.name!)) throw Object.assign(new Error('AlreadyExists'), { code: 409 });
        existing.add(c.metadata.name!);
        return c;
      },
    } as unknown as CustomObjects<SystemdUnitSet>;
    const d: ReconcilerDeps = {
      workload: () => wl,
      children: () => [], // the watch has delivered none of the children yet
      nodes: () => ['n1', 'n2', 'n3'].map((name) => ({ name, labels: {}, taints: [] })),
      heartbeatAgeMs: () => 0,
      heartbeatGraceMs: 40_000,
      workloadApi: { patchStatus: async () => wl },
      childApi,
      events: { record: async () => undefined },
      log: createLogger({}, 'error'),
      expectations,
    };
    return { d, creates };
  }

  it('a second pass does not create the children of the first again', async () => {
    const { d, creates } = deps(new CreateExpectations());
    await reconcileWorkload('default/web', d);
    await reconcileWorkload('default/web', d);
    expect(creates.sort()).toEqual(['n1', 'n2', 'n3']);
  });

  it('without expectations it would (the 409s the benchmark counted)', async () => {
    const { d, creates } = deps(undefined);
    await reconcileWorkload('default/web', d);
    await reconcileWorkload('default/web', d);
    expect(creates).toHaveLength(6);
  });
});
