import {
  availability,
  planRollout,
  resolveMaxUnavailable,
  updateOrder,
  type ChildView,
  type RolloutInput,
} from '../../../src/controller/rollout.js';

const NOW = Date.parse('2025-01-01T00:10:00Z');
const OLD = 'old';
const NEW = 'new';
/** A child running the given hash, ready since long ago. */
const ready = (node: string, hash = OLD, extra: Partial<ChildView> = {}): ChildView => ({
  node,
  specHash: hash,
  appliedHash: hash,
  phase: 'Running',
  readySince: '2025-01-01T00:00:00Z',
  ...extra,
});
const input = (x: Partial<RolloutInput>): RolloutInput => ({
  desiredHash: NEW,
  nodes: [],
  children: [],
  maxUnavailable: 1,
  minReadySeconds: 0,
  paused: false,
  now: NOW,
  ...x,
});

describe('resolveMaxUnavailable', () => {
  it.each([
    [undefined, 10, 1],
    [1, 10, 1],
    [3, 10, 3],
    [0, 10, 1],
    ['2', 10, 2],
    ['25%', 10, 2], // rounded down
    ['50%', 4, 2],
    ['100%', 7, 7],
    ['10%', 3, 1], // at least 1
    ['1%', 0, 1],
    ['junk', 10, 1],
  ])('%p of %p nodes -> %p', (v, desired, want) => {
    expect(resolveMaxUnavailable(v, desired)).toBe(want);
  });
});

describe('availability', () => {
  it.each<[string, ChildView, number, { available: boolean; inMs?: number }]>([
    ['ready long enough', ready('a'), 30, { available: true }],
    ['not applied yet', ready('a', OLD, { appliedHash: 'x' }), 0, { available: false }],
    ['pending', ready('a', OLD, { phase: 'Pending' }), 0, { available: false }],
    ['failed', ready('a', OLD, { phase: 'Failed' }), 0, { available: false }],
    ['completed oneshot', ready('a', OLD, { phase: 'Completed' }), 0, { available: true }],
    ['ready 5s of 30s', ready('a', OLD, { readySince: new Date(NOW - 5000).toISOString() }), 30, { available: false, inMs: 25000 }],
    ['no readySince, minReady 0', ready('a', OLD, { readySince: undefined }), 0, { available: true }],
    ['no readySince, minReady 10', ready('a', OLD, { readySince: undefined }), 10, { available: false }],
    ['agent silent', ready('a', OLD, { agentSilent: true }), 0, { available: false }],
  ])('%s', (_n, c, minReady, want) => {
    expect(availability(c, minReady, NOW)).toEqual(want);
  });
});

describe('planRollout', () => {
  it.each<[string, Partial<RolloutInput>, { create?: string[]; update?: string[]; delete?: string[]; recheckAfterMs?: number }]>([
    [
      'new nodes are created at once, whatever maxUnavailable',
      { nodes: ['a', 'b', 'c', 'd'], maxUnavailable: 1 },
      { create: ['a', 'b', 'c', 'd'] },
    ],
    [
      'a child for a node that no longer matches is deleted',
      { nodes: ['a'], children: [ready('a', NEW), ready('gone', NEW)] },
      { delete: ['gone'] },
    ],
    ['nothing to do when everything runs the desired hash', { nodes: ['a', 'b'], children: [ready('a', NEW), ready('b', NEW)] }, {}],
    [
      'maxUnavailable 1: one node at a time, in name order',
      { nodes: ['c', 'a', 'b'], children: [ready('c'), ready('a'), ready('b')] },
      { update: ['a'] },
    ],
    [
      'maxUnavailable 2: two at a time',
      { nodes: ['a', 'b', 'c'], children: [ready('a'), ready('b'), ready('c')], maxUnavailable: 2 },
      { update: ['a', 'b'] },
    ],
    [
      'an updating node uses the budget: the next waits',
      {
        nodes: ['a', 'b', 'c'],
        children: [ready('a', NEW, { appliedHash: OLD, phase: 'Running' }), ready('b'), ready('c')],
      },
      {},
    ],
    [
      'an updated node that is ready frees the budget',
      {
        nodes: ['a', 'b', 'c'],
        children: [ready('a', NEW), ready('b'), ready('c')],
      },
      { update: ['b'] },
    ],
    [
      'outdated unavailable nodes are updated first and regardless of budget',
      {
        nodes: ['a', 'b', 'c', 'd'],
        children: [ready('a'), ready('b', OLD, { phase: 'Failed' }), ready('c', OLD, { phase: 'Pending' }), ready('d')],
        maxUnavailable: 1,
      },
      { update: ['b', 'c'] },
    ],
    [
      'running nodes still inside minReadySeconds (a change right after a rollout) are not updated for free',
      {
        nodes: ['a', 'b', 'c'],
        minReadySeconds: 10,
        children: ['a', 'b', 'c'].map((n) => ready(n, OLD, { readySince: new Date(NOW - 2000).toISOString() })),
        maxUnavailable: 1,
      },
      { recheckAfterMs: 8000 },
    ],
    [
      'an outdated node mid-update (agent has not applied its spec) is updated for free',
      {
        nodes: ['a', 'b'],
        children: [ready('a', 'older', { appliedHash: OLD }), ready('b')],
        maxUnavailable: 1,
      },
      { update: ['a'] },
    ],
    [
      'an unavailable node that is up to date still counts against the budget',
      {
        nodes: ['a', 'b', 'c'],
        children: [ready('a', NEW, { phase: 'Failed' }), ready('b'), ready('c')],
        maxUnavailable: 1,
      },
      {},
    ],
    [
      'a silent agent counts as unavailable',
      {
        nodes: ['a', 'b'],
        children: [ready('a', NEW, { agentSilent: true }), ready('b')],
        maxUnavailable: 1,
      },
      {},
    ],
    [
      'paused: creates and deletes, updates nothing',
      {
        nodes: ['a', 'b', 'new'],
        children: [ready('a'), ready('b', OLD, { phase: 'Failed' }), ready('x')],
        paused: true,
      },
      { create: ['new'], delete: ['x'] },
    ],
    [
      'minReadySeconds: an updated node ready for 10 of 30 s blocks the batch and asks for a recheck',
      {
        nodes: ['a', 'b'],
        children: [ready('a', NEW, { readySince: new Date(NOW - 10_000).toISOString() }), ready('b')],
        minReadySeconds: 30,
      },
      { recheckAfterMs: 20_000 },
    ],
    [
      'minReadySeconds passed: the next batch goes',
      {
        nodes: ['a', 'b'],
        children: [ready('a', NEW, { readySince: new Date(NOW - 31_000).toISOString() }), ready('b')],
        minReadySeconds: 30,
      },
      { update: ['b'] },
    ],
  ])('%s', (_name, x, want) => {
    const plan = planRollout(input(x));
    expect(plan).toEqual({ create: [], update: [], delete: [], held: [], ...want });
  });

  it('never takes more than maxUnavailable nodes down, step by step to the end (a simulation)', () => {
    for (const maxUnavailable of [1, 2, 3]) {
      const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];
      let children = nodes.map((n) => ready(n));
      for (let step = 0; step < 50; step++) {
        const plan = planRollout(input({ nodes, children, maxUnavailable }));
        // apply the plan: updated children become unavailable until their agent applies
        children = children.map((c) => (plan.update.includes(c.node) ? { ...c, specHash: NEW } : c));
        const down = children.filter((c) => !availability(c, 0, NOW).available).length;
        expect(down).toBeLessThanOrEqual(maxUnavailable);
        // the agents apply one pass later
        children = children.map((c) => (c.specHash === NEW ? { ...c, appliedHash: NEW } : c));
        if (children.every((c) => c.appliedHash === NEW)) break;
      }
      expect(children.every((c) => c.appliedHash === NEW)).toBe(true);
    }
  });
});

/** Steps a rollout to its end: each pass's updates are applied and ready by the next pass. */
function simulate(x: Partial<RolloutInput>): { order: string[][]; children: ChildView[] } {
  let children = x.children ?? [];
  const order: string[][] = [];
  for (let step = 0; step < 50; step++) {
    const plan = planRollout(input({ ...x, children }));
    if (plan.update.length === 0) break;
    order.push(plan.update);
    children = children.map((c) => (plan.update.includes(c.node) ? ready(c.node, NEW) : c));
  }
  return { order, children };
}

describe('planRollout: partition (nodes kept on the old version)', () => {
  const nodes = ['c', 'a', 'b'];
  const old = () => nodes.map((n) => ready(n));

  it('partition 2 of 3: only the first node in name order is updated, the other two are held', () => {
    const { order, children } = simulate({ nodes, children: old(), partition: 2 });
    expect(order).toEqual([['a']]);
    expect(children.filter((c) => c.specHash === NEW).map((c) => c.node)).toEqual(['a']);
    expect(planRollout(input({ nodes, children, partition: 2 })).held).toEqual(['b', 'c']);
  });

  it('promote (partition 0) after the hold: the rest follow one at a time', () => {
    const held = simulate({ nodes, children: old(), partition: 2 }).children;
    expect(simulate({ nodes, children: held, partition: 0 }).order).toEqual([['b'], ['c']]);
  });

  it('a partition of at least the node count updates nothing and holds every outdated node', () => {
    for (const partition of [3, 7]) {
      const plan = planRollout(input({ nodes, children: old(), partition }));
      expect(plan.update).toEqual([]);
      expect(plan.held).toEqual(['a', 'b', 'c']);
    }
  });

  it('a held node that is down stays held (the canary set does not grow by failures)', () => {
    const children = [ready('a'), ready('b'), ready('c', OLD, { phase: 'Failed' })];
    expect(planRollout(input({ nodes, children, partition: 2, maxUnavailable: 2 }))).toMatchObject({ update: ['a'], held: ['b', 'c'] });
  });

  it('a new node gets the current version at once, whatever the partition', () => {
    expect(planRollout(input({ nodes: ['a', 'b', 'd'], children: [ready('a'), ready('b')], partition: 3 }))).toMatchObject({
      create: ['d'],
      update: [],
    });
  });
});

describe('planRollout: nodeOrder (one failure domain at a time)', () => {
  const zone = new Map<string, string | undefined>([
    ['n1', 'b'],
    ['n2', 'a'],
    ['n3', 'a'],
    ['n4', 'b'],
    ['n5', undefined],
  ]);
  const nodes = [...zone.keys()];

  it('orders by domain value, nodes without the label last, then by name', () => {
    expect(updateOrder(nodes, zone)).toEqual(['n2', 'n3', 'n1', 'n4', 'n5']);
    expect(updateOrder(['b', 'a'])).toEqual(['a', 'b']);
  });

  it('zone a entirely before zone b, b before the unlabelled nodes, even with budget to spare', () => {
    const { order } = simulate({ nodes, children: nodes.map((n) => ready(n)), domainOf: zone, maxUnavailable: 5 });
    expect(order).toEqual([['n2', 'n3'], ['n1', 'n4'], ['n5']]);
  });

  it('a node of the current domain updated but not available yet holds the next domain, even its down nodes', () => {
    const children = [
      ready('n2', NEW),
      ready('n3', NEW, { appliedHash: OLD }),
      ready('n1', OLD, { phase: 'Failed' }),
      ready('n4'),
      ready('n5'),
    ];
    const plan = planRollout(input({ nodes, children, domainOf: zone, maxUnavailable: 5 }));
    expect(plan).toMatchObject({ update: [], domain: 'a' });
  });

  it('with a partition: the canaries are the first nodes of the order (zone a), and zone b waits', () => {
    const { order } = simulate({ nodes, children: nodes.map((n) => ready(n)), domainOf: zone, partition: 3 });
    expect(order).toEqual([['n2'], ['n3']]);
  });
});
