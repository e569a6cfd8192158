import { MAX_NODE_SUMMARIES, type FoldInput } from '../../../src/controller/status.js';
import { cond, fold, H, NOW, run } from './foldFixtures.js';

describe('foldStatus: counts', () => {
  it('counts desired, current, ready, updated, failed, unknown, restarts', () => {
    const s = fold({
      nodes: ['a', 'b', 'c', 'd', 'e'],
      children: [
        run('a', { units: [{ name: 'u', unit: 'u.service', restarts: 2 }] }),
        run('b', { specHash: 'old', appliedHash: 'old' }), // outdated but ready
        run('c', { phase: 'Failed', units: [{ name: 'u', unit: 'u.service', restarts: 5, exitCode: 3 }] }),
        run('d', { agentSilent: true }),
        run('gone'), // a node that no longer matches: not counted
      ],
    });
    expect(s).toMatchObject({
      observedGeneration: 3,
      hash: H,
      desiredNodes: 5,
      currentNodes: 4,
      readyNodes: 2,
      updatedNodes: 3,
      failedNodes: 1,
      unknownNodes: 1,
      restarts: 7,
      phase: 'Degraded',
    });
  });

  it('a node is updated only when its agent applied the desired hash', () => {
    const s = fold({ nodes: ['a', 'b'], children: [run('a'), run('b', { appliedHash: 'old', phase: 'Pending' })] });
    expect(s.updatedNodes).toBe(1);
    expect(s.readyNodes).toBe(1);
  });

  it('a node ready for less than minReadySeconds is not ready', () => {
    const s = fold({ nodes: ['a'], children: [run('a', { readySince: new Date(NOW - 5000).toISOString() })], minReadySeconds: 30 });
    expect(s.readyNodes).toBe(0);
    expect(s.phase).toBe('Progressing');
  });
});

describe('foldStatus: phase', () => {
  it.each<[string, Partial<FoldInput>, string]>([
    ['no matching node', { nodes: [] }, 'Pending'],
    ['children not created yet', { nodes: ['a'] }, 'Pending'],
    [
      'child created, agent has not applied',
      { nodes: ['a'], children: [run('a', { appliedHash: undefined, phase: undefined })] },
      'Pending',
    ],
    [
      'rollout started, nothing ready yet (minReadySeconds raised): not Pending',
      {
        nodes: ['a', 'b'],
        minReadySeconds: 60,
        children: [
          run('a', { appliedHash: 'old', phase: 'Pending' }),
          run('b', { specHash: 'old', appliedHash: 'old', readySince: new Date(NOW - 1000).toISOString() }),
        ],
      },
      'Progressing',
    ],
    ['one of two ready', { nodes: ['a', 'b'], children: [run('a'), run('b', { phase: 'Pending' })] }, 'Progressing'],
    ['rollout half way', { nodes: ['a', 'b'], children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })] }, 'Progressing'],
    ['all running', { nodes: ['a', 'b'], children: [run('a'), run('b')] }, 'Running'],
    ['all completed', { nodes: ['a', 'b'], children: [run('a', { phase: 'Completed' }), run('b', { phase: 'Completed' })] }, 'Completed'],
    ['some completed, some running', { nodes: ['a', 'b'], children: [run('a', { phase: 'Completed' }), run('b')] }, 'Running'],
    ['one failed', { nodes: ['a', 'b'], children: [run('a'), run('b', { phase: 'Failed' })] }, 'Degraded'],
    ['one unknown', { nodes: ['a', 'b'], children: [run('a'), run('b', { agentSilent: true })] }, 'Degraded'],
    [
      'every node crash-looping (from the first failed restart)',
      {
        nodes: ['a', 'b'],
        children: ['a', 'b'].map((n) =>
          run(n, { phase: 'Pending', units: [{ name: 'u', unit: 'u.service', restarts: 1, reason: 'CrashLoopBackOff' }] }),
        ),
      },
      'Degraded',
    ],
    ['all failed', { nodes: ['a', 'b'], children: [run('a', { phase: 'Failed' }), run('b', { phase: 'Failed' })] }, 'Failed'],
    ['invalid spec', { nodes: ['a'], children: [run('a')], error: 'spec.units[0].after: ordering cycle' }, 'Failed'],
  ])('%s -> %s', (_n, x, phase) => {
    expect(fold(x).phase).toBe(phase);
  });
});

describe('foldStatus: conditions', () => {
  it('carry observedGeneration and the metav1.Condition fields', () => {
    const s = fold({ nodes: ['a'], children: [run('a')] });
    expect(s.conditions!.map((c) => c.type)).toEqual(['Available', 'Progressing', 'Degraded', 'Ready', 'Reconciling', 'Stalled']);
    for (const c of s.conditions!) {
      expect(c.observedGeneration).toBe(3);
      expect(c.lastTransitionTime).toBe('2025-01-01T00:10:00Z');
      expect(c.reason).toMatch(/^[A-Za-z]+$/);
      expect(typeof c.message).toBe('string');
    }
    expect(cond(s, 'Available')).toMatchObject({ status: 'True', reason: 'MinimumNodesReady' });
    expect(cond(s, 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutComplete' });
    expect(cond(s, 'Degraded')).toMatchObject({ status: 'False', reason: 'AsExpected' });
  });

  it.each<[string, Partial<FoldInput>, Record<string, [string, string]>]>([
    ['no nodes', {}, { Available: ['False', 'NoMatchingNodes'] }],
    [
      'rolling',
      { nodes: ['a', 'b'], children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })] },
      { Progressing: ['True', 'RollingOut'], Available: ['True', 'MinimumNodesReady'] },
    ],
    [
      'paused mid-rollout',
      { nodes: ['a', 'b'], children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })], paused: true },
      { Progressing: ['Unknown', 'RolloutPaused'] },
    ],
    [
      'held at the partition: the nodes it lets move are updated and ready',
      {
        nodes: ['a', 'b', 'c'],
        children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' }), run('c', { specHash: 'old', appliedHash: 'old' })],
        partition: 2,
        held: 2,
      },
      { Progressing: ['Unknown', 'PartitionedRollout'] },
    ],
    [
      'partition reached nodes not ready yet: still rolling',
      {
        nodes: ['a', 'b'],
        children: [run('a', { appliedHash: 'old' }), run('b', { specHash: 'old', appliedHash: 'old' })],
        partition: 1,
        held: 1,
      },
      { Progressing: ['True', 'RollingOut'] },
    ],
    [
      'a partition above the node count',
      {
        nodes: ['a', 'b'],
        children: [run('a', { specHash: 'old', appliedHash: 'old' }), run('b', { specHash: 'old', appliedHash: 'old' })],
        partition: 5,
        held: 2,
      },
      { Progressing: ['Unknown', 'PartitionExceedsNodes'] },
    ],
    ['paused when done is complete', { nodes: ['a'], children: [run('a')], paused: true }, { Progressing: ['False', 'RolloutComplete'] }],
    [
      'invalid spec',
      { nodes: ['a'], children: [run('a')], error: 'bad' },
      { Progressing: ['False', 'InvalidSpec'], Available: ['False', 'InvalidSpec'] },
    ],
    [
      'failed node',
      { nodes: ['a', 'b'], children: [run('a'), run('b', { phase: 'Failed', message: 'exit 3' })] },
      { Degraded: ['True', 'NodesFailed'] },
    ],
    ['unknown node', { nodes: ['a', 'b'], children: [run('a'), run('b', { agentSilent: true })] }, { Degraded: ['True', 'NodesUnknown'] }],
    [
      'none ready of one: not available even with maxUnavailable 1',
      { nodes: ['a'], children: [run('a', { phase: 'Pending' })] },
      { Available: ['False', 'NodesNotReady'] },
    ],
    [
      'below minimum',
      { nodes: ['a', 'b', 'c'], children: [run('a'), run('b', { phase: 'Pending' }), run('c', { phase: 'Pending' })] },
      { Available: ['False', 'NodesNotReady'] },
    ],
  ])('%s', (_n, x, want) => {
    const s = fold(x);
    for (const [t, [status, reason]] of Object.entries(want)) expect(cond(s, t)).toMatchObject({ status, reason });
  });

  it('keeps lastTransitionTime while the status stays, and moves it when the status changes', () => {
    const first = fold({ nodes: ['a'], children: [run('a')], now: NOW });
    const later = fold({ nodes: ['a'], children: [run('a')], now: NOW + 60_000, previous: first });
    expect(later.conditions).toEqual(first.conditions);
    const failed = fold({ nodes: ['a'], children: [run('a', { phase: 'Failed' })], now: NOW + 120_000, previous: later });
    expect(cond(failed, 'Degraded').lastTransitionTime).toBe('2025-01-01T00:12:00Z');
    expect(cond(failed, 'Available').lastTransitionTime).toBe('2025-01-01T00:12:00Z');
    // a reason/message change without a status change keeps the time (metav1 semantics)
    const rolling = fold({ nodes: ['a', 'b'], children: [run('a'), run('b', { phase: 'Pending' })], now: NOW + 180_000, previous: first });
    expect(cond(rolling, 'Progressing')).toMatchObject({ status: 'True', lastTransitionTime: '2025-01-01T00:13:00Z' });
  });

  it('is deterministic: the same input gives a deep-equal status (so "changed" is a plain comparison)', () => {
    const x = { nodes: ['a', 'b'], children: [run('b', { phase: 'Failed' }), run('a')] };
    const s1 = fold(x);
    expect(fold({ ...x, now: NOW + 5000, previous: s1 })).toEqual(s1);
  });
});

describe('foldStatus: node list', () => {
  it('puts problem nodes first (Failed, Unknown, Pending), then by restarts, then by name', () => {
    const s = fold({
      nodes: ['a', 'b', 'c', 'd', 'e', 'f'],
      children: [
        run('a'),
        run('b', { units: [{ name: 'u', unit: 'u.service', restarts: 4 }] }),
        run('c', { phase: 'Pending' }),
        run('d', { agentSilent: true }),
        run('e', {
          phase: 'Failed',
          message: 'boom',
          units: [
            {
              name: 'u',
              unit: 'u.service',
              exitCode: 3,
              lastTermination: { code: 'exited', status: 3, time: '2025-01-01T00:00:00Z', reason: 'Error' },
              memoryBytes: 1024,
              cpuNanoseconds: 1_500_000_000,
            },
          ],
        }),
        run('f', { phase: 'Completed' }),
      ],
    });
    expect(s.nodes!.map((n) => `${n.node}:${n.phase}`)).toEqual([
      'e:Failed',
      'd:Unknown',
      'c:Pending',
      'b:Running',
      'a:Running',
      'f:Completed',
    ]);
    expect(s.nodes![0]).toEqual({
      node: 'e',
      phase: 'Failed',
      restarts: 0,
      exitCode: 3,
      memoryBytes: 1024,
      cpuSeconds: 1.5,
      message: 'boom',
    });
    expect(s.nodes![1]!.message).toMatch(/heartbeat/);
  });

  it(`is bounded to ${MAX_NODE_SUMMARIES} entries and keeps the failed ones`, () => {
    const nodes = Array.from({ length: 60 }, (_, i) => `n${String(i).padStart(2, '0')}`);
    const children = nodes.map((n) => run(n, n === 'n59' || n === 'n58' ? { phase: 'Failed' } : {}));
    const s = fold({ nodes, children });
    expect(s.nodes).toHaveLength(MAX_NODE_SUMMARIES);
    expect(s.nodes!.slice(0, 2).map((n) => n.node)).toEqual(['n58', 'n59']);
    expect(s.desiredNodes).toBe(60);
    expect(s.failedNodes).toBe(2);
  });

  it('bounds a node message to what the API accepts', () => {
    const s = fold({ nodes: ['a'], children: [run('a', { phase: 'Failed', message: 'x'.repeat(5000) })] });
    expect(s.nodes![0]!.message!.length).toBeLessThanOrEqual(1024);
  });
});

describe('foldStatus: partition messages', () => {
  it('the hold names the partition and the promote command; a partition above the node count says no node is updated', () => {
    const old = { specHash: 'old', appliedHash: 'old' };
    const held = fold({ nodes: ['a', 'b', 'c'], children: [run('a'), run('b', old), run('c', old)], partition: 2, held: 2 });
    expect(cond(held, 'Progressing').message).toBe(
      'held at partition 2: 1 of 3 nodes updated, 2 kept on the old version until kubectl sdw rollout promote',
    );
    const tooLarge = fold({ nodes: ['a'], children: [run('a', old)], partition: 4, held: 1 });
    expect(cond(tooLarge, 'Progressing').message).toMatch(
      /^rollingUpdate\.partition 4 is larger than the 1 matching nodes: no node is updated/,
    );
  });
});
