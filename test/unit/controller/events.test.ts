import { eventsFor } from '../../../src/controller/events.js';
import type { NodeSummary, SystemdWorkloadStatus } from '../../../src/api/types.js';

const st = (x: Partial<SystemdWorkloadStatus> & { progressing?: string } = {}): SystemdWorkloadStatus => {
  const { progressing, ...rest } = x;
  return {
    hash: 'aaaaaaaaaaaaaaaa', desiredNodes: 2, updatedNodes: 2, nodes: [],
    conditions: progressing ? [{ type: 'Progressing', status: 'True', reason: progressing, message: '', lastTransitionTime: 't' }] : [],
    ...rest,
  };
};
const n = (node: string, phase: NodeSummary['phase'], restarts = 0, extra: Partial<NodeSummary> = {}): NodeSummary => ({ node, phase, restarts, ...extra });

describe('eventsFor', () => {
  it.each<[string, SystemdWorkloadStatus | undefined, SystemdWorkloadStatus, Array<[string, string, RegExp?]>]>([
    ['first status, not done: nothing', undefined, st({ progressing: 'RollingOut' }), []],
    ['first status, done: RolloutComplete', undefined, st({ progressing: 'RolloutComplete' }), [['Normal', 'RolloutComplete', /2 of 2 nodes/]]],
    ['hash changed: RolloutStarted', st({ progressing: 'RolloutComplete' }), st({ hash: 'bbbbbbbbbbbbbbbb', progressing: 'RollingOut' }), [['Normal', 'RolloutStarted', /bbbbbbbbbbbb to 2 nodes/]]],
    ['finished: RolloutComplete once', st({ progressing: 'RollingOut' }), st({ progressing: 'RolloutComplete' }), [['Normal', 'RolloutComplete']]],
    ['still complete: nothing', st({ progressing: 'RolloutComplete' }), st({ progressing: 'RolloutComplete' }), []],
    ['a node fails: NodeFailed with exit code', st({ nodes: [n('a', 'Running')] }), st({ nodes: [n('a', 'Failed', 0, { exitCode: 3, message: 'Error' })] }), [['Warning', 'NodeFailed', /node a: Error \(exit code 3\)/]]],
    ['still failed: nothing', st({ nodes: [n('a', 'Failed')] }), st({ nodes: [n('a', 'Failed')] }), []],
    ['a node goes silent: NodeUnknown', st({ nodes: [n('a', 'Running')] }), st({ nodes: [n('a', 'Unknown')] }), [['Warning', 'NodeUnknown', /node a/]]],
    ['restarts grow: UnitRestarting', st({ nodes: [n('a', 'Running', 1)] }), st({ nodes: [n('a', 'Running', 3, { exitCode: 1 })] }), [['Warning', 'UnitRestarting', /2 more time\(s\), 3 in all, last exit code 1/]]],
    ['restarts on a new node: nothing to compare', st({ nodes: [] }), st({ nodes: [n('a', 'Running', 3)] }), []],
  ])('%s', (_name, prev, next, want) => {
    const got = eventsFor(prev, next);
    expect(got.map((e) => [e.type, e.reason])).toEqual(want.map(([t, r]) => [t, r]));
    want.forEach(([, , re], i) => {
      if (re) expect(got[i]!.message).toMatch(re);
    });
  });
});
