import { availability, planRollout, resolveMaxUnavailable, type ChildView, type RolloutInput } from '../../../src/controller/rollout.js';

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
    expect(plan).toEqual({ create: [], update: [], delete: [], ...want });
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
