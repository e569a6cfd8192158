// foldStatus's Ready, Reconciling and Stalled conditions and the progress
// deadline (src/controller/health.ts), read the way kstatus reads them:
// Reconciling True -> InProgress, else Stalled True -> Failed, else Ready.
import type { FoldInput } from '../../../src/controller/status.js';
import { progressDeadlineRecheckMs } from '../../../src/controller/health.js';
import { eventsFor } from '../../../src/controller/events.js';
import type { SystemdWorkloadStatus } from '../../../src/api/types.js';
import { cond, fold as foldTwo, NOW, run } from './foldFixtures.js';

const crashing = (node: string) => run(node, { phase: 'Failed', readySince: undefined, message: 'exit code 3' });
/** Two nodes, both updated and ready, unless the case says otherwise. */
const fold = (x: Partial<FoldInput>) => foldTwo({ nodes: ['a', 'b'], children: [run('a'), run('b')], ...x });
const at = (s: number) => NOW + s * 1000;

/** kstatus's generic rules (cli-utils pkg/kstatus/status), for a workload whose observedGeneration is current. */
function kstatusOf(s: SystemdWorkloadStatus): string {
  if (cond(s, 'Reconciling').status === 'True') return 'InProgress';
  if (cond(s, 'Stalled').status === 'True') return 'Failed';
  return cond(s, 'Ready').status === 'True' ? 'Current' : 'InProgress';
}

describe('foldStatus: Ready, Reconciling, Stalled', () => {
  it.each<[string, Partial<FoldInput>, string, Record<string, [string, string]>]>([
    [
      'every node updated and ready',
      {},
      'Current',
      { Ready: ['True', 'RolloutComplete'], Reconciling: ['False', 'RolloutComplete'], Stalled: ['False', 'RolloutComplete'] },
    ],
    ['no matching node', { nodes: [], children: [] }, 'Current', { Ready: ['True', 'NoMatchingNodes'] }],
    [
      'rolling out',
      { children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })] },
      'InProgress',
      { Ready: ['False', 'RollingOut'], Reconciling: ['True', 'RollingOut'], Stalled: ['False', 'MakingProgress'] },
    ],
    [
      'updated, a node not ready yet',
      { children: [run('a'), run('b', { phase: 'Pending', readySince: undefined })] },
      'InProgress',
      { Reconciling: ['True', 'NodesNotReady'] },
    ],
    ['crash loop before the deadline', { children: [run('a'), crashing('b')] }, 'InProgress', { Reconciling: ['True', 'NodesNotReady'] }],
    [
      'invalid spec',
      { error: 'units[0].command: bad' },
      'Failed',
      { Stalled: ['True', 'InvalidSpec'], Reconciling: ['False', 'InvalidSpec'], Ready: ['False', 'InvalidSpec'] },
    ],
    [
      'policy violation',
      { error: 'node label x not allowed', errorReason: 'PolicyViolation' },
      'Failed',
      { Stalled: ['True', 'PolicyViolation'], Ready: ['False', 'PolicyViolation'] },
    ],
    [
      'paused mid-rollout',
      { children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })], paused: true },
      'InProgress',
      { Reconciling: ['True', 'RolloutPaused'], Stalled: ['False', 'RolloutPaused'] },
    ],
    [
      'held at the partition: the nodes it lets move are updated and ready',
      { children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })], partition: 1, held: 1 },
      'Current',
      { Ready: ['True', 'PartitionedRollout'], Reconciling: ['False', 'PartitionedRollout'], Stalled: ['False', 'PartitionedRollout'] },
    ],
    [
      'a partition above the node count: nothing can move',
      {
        children: [run('a', { specHash: 'old', appliedHash: 'old' }), run('b', { specHash: 'old', appliedHash: 'old' })],
        partition: 5,
        held: 2,
      },
      'Failed',
      { Stalled: ['True', 'PartitionExceedsNodes'], Ready: ['False', 'PartitionExceedsNodes'] },
    ],
  ])('%s', (_n, x, verdict, want) => {
    const s = fold(x);
    for (const [t, [status, reason]] of Object.entries(want)) expect(cond(s, t)).toMatchObject({ status, reason, observedGeneration: 3 });
    expect(kstatusOf(s)).toBe(verdict);
    // kstatus would read a True Reconciling first: the two are never True together.
    expect(cond(s, 'Reconciling').status === 'True' && cond(s, 'Stalled').status === 'True').toBe(false);
  });

  it('a complete rollout keeps no progress clock', () => {
    expect(fold({}).lastProgress).toBeUndefined();
  });
});

describe('foldStatus: progressDeadlineSeconds', () => {
  const loop = { children: [run('a'), crashing('b')] };

  it('a crash loop is InProgress until the deadline, then Stalled with ProgressDeadlineExceeded', () => {
    const first = fold({ ...loop, previous: fold({}) });
    expect(first.lastProgress).toEqual({ time: '2025-01-01T00:10:00.000Z', updatedNodes: 2, readyNodes: 1 });
    const before = fold({ ...loop, now: at(599), previous: first });
    expect(before.lastProgress).toEqual(first.lastProgress);
    expect(kstatusOf(before)).toBe('InProgress');
    const after = fold({ ...loop, now: at(600), previous: before });
    expect(kstatusOf(after)).toBe('Failed');
    expect(cond(after, 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'ProgressDeadlineExceeded',
      lastTransitionTime: '2025-01-01T00:20:00Z',
    });
    expect(cond(after, 'Stalled').message).toMatch(
      /^no progress for 600s \(progressDeadlineSeconds\): 2 of 2 nodes updated, 1 ready; b: Failed \(exit code 3\)$/,
    );
    expect(cond(after, 'Progressing')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    expect(cond(after, 'Reconciling')).toMatchObject({ status: 'False', reason: 'ProgressDeadlineExceeded' });
    // and it stays Stalled while nothing moves
    expect(kstatusOf(fold({ ...loop, now: at(900), previous: after }))).toBe('Failed');
  });

  it('takes spec.progressDeadlineSeconds', () => {
    const first = fold({ ...loop, progressDeadlineSeconds: 30 });
    expect(kstatusOf(fold({ ...loop, progressDeadlineSeconds: 30, now: at(29), previous: first }))).toBe('InProgress');
    expect(kstatusOf(fold({ ...loop, progressDeadlineSeconds: 30, now: at(30), previous: first }))).toBe('Failed');
  });

  it('one more node ready or updated is progress: the clock restarts', () => {
    const three = { nodes: ['a', 'b', 'c'] };
    const first = fold({ ...three, children: [crashing('a'), crashing('b'), run('c', { specHash: 'old', appliedHash: 'old' })] });
    const moved = fold({
      ...three,
      children: [run('a'), crashing('b'), run('c', { specHash: 'old', appliedHash: 'old' })],
      now: at(500),
      previous: first,
    });
    expect(moved.lastProgress?.time).toBe(new Date(at(500)).toISOString());
    const updated = fold({ ...three, children: [run('a'), crashing('b'), crashing('c')], now: at(1000), previous: moved });
    expect(updated.lastProgress?.time).toBe(new Date(at(1000)).toISOString());
    expect(kstatusOf(fold({ ...three, children: [run('a'), crashing('b'), crashing('c')], now: at(1500), previous: updated }))).toBe(
      'InProgress',
    );
  });

  it('a unit flapping ready between crashes is no progress: only more nodes than at the last progress', () => {
    const first = fold(loop); // a ready, b crashing: mark 1 ready
    const down = fold({ children: [crashing('a'), crashing('b')], now: at(100), previous: first });
    const upAgain = fold({ ...loop, now: at(200), previous: down });
    expect(upAgain.lastProgress).toEqual(first.lastProgress);
    expect(kstatusOf(fold({ ...loop, now: at(600), previous: upAgain }))).toBe('Failed');
  });

  it('a new generation restarts the clock of a stalled workload', () => {
    const stalled = fold({ ...loop, now: at(600), previous: fold(loop) });
    expect(kstatusOf(stalled)).toBe('Failed');
    const next = fold({ ...loop, generation: 4, now: at(601), previous: stalled });
    expect(kstatusOf(next)).toBe('InProgress');
    expect(next.lastProgress?.time).toBe(new Date(at(601)).toISOString());
  });

  it('a workload that was complete starts the clock when a node fails', () => {
    const stable = fold({});
    const broke = fold({ ...loop, now: at(3600), previous: stable });
    expect(broke.lastProgress?.time).toBe(new Date(at(3600)).toISOString());
    expect(kstatusOf(broke)).toBe('InProgress');
  });

  it('a paused rollout never stalls', () => {
    const paused = { children: [run('a'), run('b', { specHash: 'old', appliedHash: 'old' })], paused: true };
    const first = fold(paused);
    expect(kstatusOf(fold({ ...paused, now: at(86400), previous: first }))).toBe('InProgress');
  });

  it('progressDeadlineRecheckMs: the requeue lands just after the deadline, only while reconciling', () => {
    const first = fold(loop);
    expect(progressDeadlineRecheckMs(first, 600, at(100))).toBe(500_000 + 50);
    expect(progressDeadlineRecheckMs(fold({}), 600, NOW)).toBeUndefined();
    expect(progressDeadlineRecheckMs(fold({ ...loop, now: at(600), previous: first }), 600, at(600))).toBeUndefined();
    expect(
      progressDeadlineRecheckMs(fold({ children: [run('a'), run('b', { specHash: 'old' })], paused: true }), 600, NOW),
    ).toBeUndefined();
  });

  it('eventsFor says ProgressDeadlineExceeded once, as a Warning', () => {
    const first = fold(loop);
    const stalled = fold({ ...loop, now: at(600), previous: first });
    expect(eventsFor(first, stalled)).toContainEqual({
      type: 'Warning',
      reason: 'ProgressDeadlineExceeded',
      message: cond(stalled, 'Stalled').message,
    });
    const still = fold({ ...loop, now: at(700), previous: stalled });
    expect(eventsFor(stalled, still).map((e) => e.reason)).not.toContain('ProgressDeadlineExceeded');
  });
});
