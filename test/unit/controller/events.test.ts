import { eventsFor } from '../../../src/controller/events.js';
import type { NodeSummary, SystemdWorkloadStatus } from '../../../src/api/types.js';

const st = (x: Partial<SystemdWorkloadStatus> & { progressing?: string } = {}): SystemdWorkloadStatus => {
  const { progressing, ...rest } = x;
  return {
    hash: 'aaaaaaaaaaaaaaaa',
    desiredNodes: 2,
    updatedNodes: 2,
    nodes: [],
    conditions: progressing ? [{ type: 'Progressing', status: 'True', reason: progressing, message: '', lastTransitionTime: 't' }] : [],
    ...rest,
  };
};
const n = (node: string, phase: NodeSummary['phase'], restarts = 0, extra: Partial<NodeSummary> = {}): NodeSummary => ({
  node,
  phase,
  restarts,
  ...extra,
});

describe('eventsFor', () => {
  it.each<[string, SystemdWorkloadStatus | undefined, SystemdWorkloadStatus, Array<[string, string, RegExp?]>]>([
    ['first status, not done: nothing', undefined, st({ progressing: 'RollingOut' }), []],
    [
      'first status, done: RolloutComplete',
      undefined,
      st({ progressing: 'RolloutComplete' }),
      [['Normal', 'RolloutComplete', /2 of 2 nodes/]],
    ],
    [
      'hash changed: RolloutStarted',
      st({ progressing: 'RolloutComplete' }),
      st({ hash: 'bbbbbbbbbbbbbbbb', progressing: 'RollingOut' }),
      [['Normal', 'RolloutStarted', /bbbbbbbbbbbb to 2 nodes/]],
    ],
    [
      'held at the partition: said once',
      st({ progressing: 'RollingOut' }),
      st({ progressing: 'PartitionedRollout' }),
      [['Normal', 'PartitionedRollout']],
    ],
    ['still held: nothing', st({ progressing: 'PartitionedRollout' }), st({ progressing: 'PartitionedRollout' }), []],
    [
      'a partition above the node count: a Warning',
      st({ progressing: 'RollingOut' }),
      st({ progressing: 'PartitionExceedsNodes' }),
      [['Warning', 'PartitionExceedsNodes']],
    ],
    [
      'finished: RolloutComplete once',
      st({ progressing: 'RollingOut' }),
      st({ progressing: 'RolloutComplete' }),
      [['Normal', 'RolloutComplete']],
    ],
    ['still complete: nothing', st({ progressing: 'RolloutComplete' }), st({ progressing: 'RolloutComplete' }), []],
    [
      'a node fails: NodeFailed with exit code',
      st({ nodes: [n('a', 'Running')] }),
      st({ nodes: [n('a', 'Failed', 0, { exitCode: 3, message: 'Error' })] }),
      [['Warning', 'NodeFailed', /node a: Error \(exit code 3\)/]],
    ],
    ['still failed: nothing', st({ nodes: [n('a', 'Failed')] }), st({ nodes: [n('a', 'Failed')] }), []],
    [
      'a node goes silent: NodeUnknown',
      st({ nodes: [n('a', 'Running')] }),
      st({ nodes: [n('a', 'Unknown')] }),
      [['Warning', 'NodeUnknown', /node a/]],
    ],
    [
      'restarts grow: UnitRestarting',
      st({ nodes: [n('a', 'Running', 1)] }),
      st({ nodes: [n('a', 'Running', 3, { exitCode: 1 })] }),
      [['Warning', 'UnitRestarting', /2 more time\(s\), 3 in all, last exit code 1/]],
    ],
    ['restarts on a new node: nothing to compare', st({ nodes: [] }), st({ nodes: [n('a', 'Running', 3)] }), []],
  ])('%s', (_name, prev, next, want) => {
    const got = eventsFor(prev, next);
    expect(got.map((e) => [e.type, e.reason])).toEqual(want.map(([t, r]) => [t, r]));
    want.forEach(([, , re], i) => {
      if (re) expect(got[i]!.message).toMatch(re);
    });
  });
});

describe('eventsFor: a spec the controller refuses', () => {
  const refused = (reason: string, message: string): SystemdWorkloadStatus => ({
    hash: 'aaaaaaaaaaaaaaaa',
    desiredNodes: 1,
    nodes: [],
    conditions: [{ type: 'Progressing', status: 'False', reason, message, lastTransitionTime: 't' }],
  });

  it.each<[string, SystemdWorkloadStatus | undefined, SystemdWorkloadStatus, Array<[string, string, string]>]>([
    [
      'first refusal: InvalidSpec with the message',
      undefined,
      refused('InvalidSpec', 'spec.units[0].after: ordering cycle'),
      [['Warning', 'InvalidSpec', 'spec.units[0].after: ordering cycle']],
    ],
    [
      'a policy refuses: PolicyViolation',
      st({ progressing: 'RolloutComplete' }),
      refused('PolicyViolation', 'spec.units[0].user: root is not allowed'),
      [['Warning', 'PolicyViolation', 'spec.units[0].user: root is not allowed']],
    ],
    ['the same refusal again: nothing', refused('InvalidSpec', 'bad'), refused('InvalidSpec', 'bad'), []],
    [
      'a different message: said again',
      refused('InvalidSpec', 'bad'),
      refused('InvalidSpec', 'worse'),
      [['Warning', 'InvalidSpec', 'worse']],
    ],
    ['fixed: nothing', refused('InvalidSpec', 'bad'), st({ progressing: 'RollingOut' }), []],
  ])('%s', (_name, prev, next, want) => {
    expect(eventsFor(prev, next).map((e) => [e.type, e.reason, e.message])).toEqual(want);
  });
});
