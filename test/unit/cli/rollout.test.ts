// `kubectl sdw rollout`: the dispatcher's help and usage errors, and how
// `rollout status` reads a workload (a pure function; the waiting loop runs
// against the API server in test/e2e/controller/rollout-control.test.ts).
import type { Condition, SystemdWorkload, SystemdWorkloadStatus } from '../../../src/api/types.js';
import { exec } from './execCli.js';
import { SUBCOMMANDS } from '../../../src/cli/rollout/index.js';
import { parseDuration, rolloutProgress } from '../../../src/cli/rollout/status.js';

const cond = (type: string, status: Condition['status'], reason: string, message = ''): Condition => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

function wl(status: Partial<SystemdWorkloadStatus> | undefined, x: { generation?: number; paused?: boolean } = {}): SystemdWorkload {
  return {
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name: 'w', namespace: 'default', generation: x.generation ?? 2 },
    spec: { units: [{ name: 'u', command: ['/bin/true'] }], ...(x.paused ? { paused: true } : {}) },
    ...(status ? { status: { observedGeneration: 2, desiredNodes: 3, updatedNodes: 3, readyNodes: 3, phase: 'Running', ...status } } : {}),
  };
}

describe('kubectl sdw rollout', () => {
  it('lists every subcommand in its help, and each has its own', async () => {
    const top = await exec(['rollout', '--help']);
    expect(top.code).toBe(0);
    for (const name of ['status', 'pause', 'resume', 'restart', 'promote']) {
      expect(top.out).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
      const r = await exec(['rollout', name, '--help']);
      expect(r).toMatchObject({ code: 0 });
      expect(r.out).toContain(`kubectl sdw rollout ${name} NAME`);
    }
    expect(Object.keys(SUBCOMMANDS).sort()).toEqual(['history', 'pause', 'promote', 'restart', 'resume', 'status', 'undo']);
    expect((await exec(['--help'])).out).toMatch(/^ {2}rollout SUBCOMMAND/m);
  });

  it('usage errors exit 2 and say what is wrong', async () => {
    expect(await exec(['rollout'])).toMatchObject({ code: 2 });
    expect(await exec(['rollout', 'frobnicate', 'w'])).toMatchObject({
      code: 2,
      err: expect.stringContaining('unknown rollout subcommand "frobnicate"'),
    });
    expect(await exec(['rollout', 'status'])).toMatchObject({ code: 2, err: expect.stringContaining('missing argument NAME') });
    expect(await exec(['rollout', 'status', 'w', '--timeout', 'soon'])).toMatchObject({
      code: 2,
      err: expect.stringContaining("invalid value 'soon' for --timeout"),
    });
  });
});

describe('parseDuration', () => {
  it.each([
    ['0', 0],
    ['90', 90_000],
    ['90s', 90_000],
    ['5m', 300_000],
    ['1m30s', 90_000],
    ['500ms', 500],
    ['1h', 3_600_000],
  ])('%s -> %d ms', (v, ms) => expect(parseDuration(v)).toBe(ms));
  it.each(['', 'soon', '5x', '1m 30s', '-1s'])('%p is refused', (v) => expect(() => parseDuration(v)).toThrow(/--timeout/));
});

describe('rolloutProgress: how rollout status reads a workload', () => {
  it.each<[string, SystemdWorkload, 'waiting' | 'done' | 'failed', RegExp]>([
    ['no status yet', wl(undefined), 'waiting', /observe the latest spec/],
    ['an older generation observed', wl({ observedGeneration: 1 }, { generation: 2 }), 'waiting', /observe the latest spec/],
    [
      'nodes still to update',
      wl({ updatedNodes: 1, readyNodes: 2, conditions: [cond('Progressing', 'True', 'RollingOut')] }),
      'waiting',
      /^Waiting for rollout to finish: 1 out of 3 new nodes have been updated\.\.\.$/,
    ],
    [
      'updated, not all available',
      wl({ updatedNodes: 3, readyNodes: 1, conditions: [cond('Progressing', 'True', 'RollingOut')] }),
      'waiting',
      /^Waiting for rollout to finish: 1 of 3 updated nodes are available\.\.\.$/,
    ],
    [
      'paused',
      wl({ updatedNodes: 1, conditions: [cond('Progressing', 'Unknown', 'RolloutPaused')] }, { paused: true }),
      'waiting',
      /paused with 1 of 3 nodes updated \(kubectl sdw rollout resume\)/,
    ],
    [
      'complete',
      wl({ conditions: [cond('Progressing', 'False', 'RolloutComplete')] }),
      'done',
      /^rollout complete: 3 of 3 nodes updated and available$/,
    ],
    [
      'held at the partition',
      wl({ updatedNodes: 1, conditions: [cond('Progressing', 'Unknown', 'PartitionedRollout', 'held at partition 2: ...')] }),
      'done',
      /^partitioned rollout complete: held at partition 2/,
    ],
    [
      'a partition above the node count',
      wl({ updatedNodes: 0, conditions: [cond('Progressing', 'Unknown', 'PartitionExceedsNodes', 'partition 5 ...')] }),
      'failed',
      /^rollout cannot proceed: partition 5/,
    ],
    [
      'Stalled=True (kstatus), whatever else',
      wl({
        conditions: [
          cond('Stalled', 'True', 'ProgressDeadlineExceeded', 'no progress in 600 s'),
          cond('Progressing', 'False', 'RolloutComplete'),
        ],
      }),
      'failed',
      /^rollout stalled \(ProgressDeadlineExceeded\): no progress in 600 s$/,
    ],
    [
      'Stalled=False is no failure',
      wl({ conditions: [cond('Stalled', 'False', 'AsExpected'), cond('Progressing', 'False', 'RolloutComplete')] }),
      'done',
      /complete/,
    ],
    [
      'phase Failed: the refusal from Progressing',
      wl({ phase: 'Failed', conditions: [cond('Progressing', 'False', 'InvalidSpec', 'spec.units[0]: bad')] }),
      'failed',
      /^rollout failed: phase Failed \(InvalidSpec\): spec\.units\[0\]: bad$/,
    ],
    [
      'phase Failed: every node failed',
      wl({
        phase: 'Failed',
        conditions: [cond('Progressing', 'True', 'RollingOut'), cond('Degraded', 'True', 'NodesFailed', 'n1: Failed')],
      }),
      'failed',
      /^rollout failed: phase Failed \(NodesFailed\): n1: Failed$/,
    ],
  ])('%s', (_name, w, state, message) => {
    const p = rolloutProgress(w);
    expect(p.state).toBe(state);
    expect(p.message).toMatch(message);
  });
});
