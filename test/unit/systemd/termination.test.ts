import { nearMemoryLimit, terminationFrom, type TerminationInput } from '../../../src/systemd/termination.js';

const MiB = 2 ** 20;
const T = '2024-01-01T00:00:00.000Z';

describe('terminationFrom', () => {
  it.each<[string, TerminationInput, { lastMemoryBytes?: number } | undefined, object | undefined]>([
    ['never ran', { execMainCode: 0, execMainStatus: 0 }, undefined, undefined],
    ['status unknown', { execMainCode: 1 }, undefined, undefined],
    [
      'clean exit',
      { result: 'success', execMainCode: 1, execMainStatus: 0, execMainExitTimestamp: T },
      undefined,
      { code: 'exited', status: 0, exitCode: 0, reason: 'Completed', time: T },
    ],
    [
      'exit 3',
      { result: 'exit-code', execMainCode: 1, execMainStatus: 3 },
      undefined,
      { code: 'exited', status: 3, exitCode: 3, reason: 'Error(exit 3)' },
    ],
    [
      'cgroup v2 oom-kill',
      { result: 'oom-kill', execMainCode: 2, execMainStatus: 9 },
      undefined,
      { code: 'killed', signal: 9, reason: 'OOMKilled' },
    ],
    [
      'cgroup v2 oom-kill, exited (OOMPolicy=continue, child killed)',
      { result: 'oom-kill', execMainCode: 1, execMainStatus: 137 },
      undefined,
      { code: 'exited', reason: 'OOMKilled' },
    ],
    [
      'hybrid OOM: SIGKILL near MemoryMax',
      { result: 'signal', execMainCode: 2, execMainStatus: 9, memoryMax: 48 * MiB },
      { lastMemoryBytes: 47 * MiB },
      { code: 'killed', signal: 9, signalName: 'SIGKILL', reason: 'OOMKilled' },
    ],
    [
      'hybrid: SIGKILL with MemoryMax, memory far from it',
      { result: 'signal', execMainCode: 2, execMainStatus: 9, memoryMax: 48 * MiB },
      { lastMemoryBytes: 4 * MiB },
      { reason: 'Killed(signal 9)' },
    ],
    [
      'hybrid: SIGKILL with MemoryMax, no evidence',
      { result: 'signal', execMainCode: 2, execMainStatus: 9, memoryMax: 48 * MiB },
      undefined,
      { reason: 'Killed(signal 9)' },
    ],
    [
      'SIGKILL without MemoryMax, even at high memory',
      { result: 'signal', execMainCode: 2, execMainStatus: 9 },
      { lastMemoryBytes: 10_000 * MiB },
      { reason: 'Killed(signal 9)' },
    ],
    [
      'SIGKILL with MemoryPeak (v2, systemd >= 255) near the limit',
      { result: 'signal', execMainCode: 2, execMainStatus: 9, memoryMax: 100, memoryPeak: 95 },
      undefined,
      { reason: 'OOMKilled' },
    ],
    [
      'SIGSEGV',
      { result: 'signal', execMainCode: 2, execMainStatus: 11 },
      undefined,
      { code: 'killed', signal: 11, signalName: 'SIGSEGV', reason: 'Killed(signal 11)' },
    ],
    [
      'core dump',
      { result: 'core-dump', execMainCode: 3, execMainStatus: 6 },
      undefined,
      { code: 'dumped', signal: 6, signalName: 'SIGABRT', reason: 'CoreDumped(signal 6)' },
    ],
    [
      'stopped by systemctl stop (SIGTERM counts as success)',
      { result: 'success', execMainCode: 2, execMainStatus: 15 },
      undefined,
      { code: 'killed', reason: 'Stopped(signal 15)' },
    ],
    ['start timeout', { result: 'timeout', execMainCode: 2, execMainStatus: 15 }, undefined, { reason: 'Timeout' }],
    ['watchdog', { result: 'watchdog', execMainCode: 2, execMainStatus: 6 }, undefined, { reason: 'Watchdog' }],
  ])('%s', (_label, input, hints, expected) => {
    const t = terminationFrom(input, hints);
    if (expected === undefined) expect(t).toBeUndefined();
    else expect(t).toMatchObject(expected);
  });
});

describe('nearMemoryLimit', () => {
  it('uses the ratio (default 0.9) of MemoryMax and the best evidence known', () => {
    expect(nearMemoryLimit({ memoryMax: 100 }, { lastMemoryBytes: 90 })).toBe(true);
    expect(nearMemoryLimit({ memoryMax: 100 }, { lastMemoryBytes: 89 })).toBe(false);
    expect(nearMemoryLimit({ memoryMax: 100 }, { lastMemoryBytes: 60, nearLimitRatio: 0.5 })).toBe(true);
    expect(nearMemoryLimit({ memoryMax: 100, memoryPeak: 99 }, { lastMemoryBytes: 1 })).toBe(true);
    expect(nearMemoryLimit({}, { lastMemoryBytes: 1e12 })).toBe(false);
  });
});
