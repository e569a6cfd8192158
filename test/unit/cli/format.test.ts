import {
  DASH,
  formatAge,
  formatBytes,
  formatCpu,
  formatDuration,
  formatStatus,
  formatStatusJson,
  formatWhen,
  table,
  useColour,
} from '../../../src/cli/format.js';
import type { WorkloadView } from '../../../src/cli/statusView.js';

const NOW = Date.parse('2025-01-01T12:00:00Z');

function view(over: Partial<WorkloadView> = {}): WorkloadView {
  return {
    namespace: 'default',
    name: 'web',
    phase: 'Running',
    desired: 2,
    ready: 2,
    updated: 2,
    failed: 0,
    restarts: 3,
    observedGeneration: 1,
    generation: 1,
    createdAt: '2025-01-01T11:55:00Z',
    message: null,
    nodes: [
      {
        node: 'n1',
        phase: 'Running',
        upToDate: true,
        unitSet: 'web-n1',
        message: null,
        units: [
          {
            name: 'server',
            unit: 'sdw-default_web_server.service',
            state: 'active/running',
            restarts: 3,
            exitCode: null,
            memoryBytes: 12.5 * 1024 * 1024,
            cpuSeconds: 1.234,
            tasks: 4,
            scheduled: false,
            lastRun: null,
            nextRun: null,
            message: null,
          },
          {
            name: 'cron',
            unit: 'sdw-default_web_cron.timer',
            state: 'active/waiting',
            restarts: 0,
            exitCode: 0,
            memoryBytes: null,
            cpuSeconds: null,
            tasks: null,
            scheduled: true,
            lastRun: '2025-01-01T11:57:00Z',
            nextRun: '2025-01-01T12:02:00Z',
            message: null,
          },
        ],
      },
      { node: 'n2', phase: 'Unknown', upToDate: null, unitSet: null, message: 'agent silent', units: [] },
    ],
    ...over,
  };
}

describe('figures', () => {
  it('prints unknown figures as "-" and never 0', () => {
    expect(formatBytes(undefined)).toBe(DASH);
    expect(formatBytes(null)).toBe(DASH);
    expect(formatCpu(null)).toBe(DASH);
    expect(formatAge(undefined, NOW)).toBe(DASH);
    expect(formatWhen(null, NOW)).toBe(DASH);
    expect(formatBytes(0)).toBe('0B');
  });

  it('formats bytes, CPU time and durations compactly', () => {
    expect(formatBytes(512)).toBe('512B');
    expect(formatBytes(1536)).toBe('1.5Ki');
    expect(formatBytes(64 * 1024 * 1024)).toBe('64.0Mi');
    expect(formatBytes(300 * 1024 * 1024)).toBe('300Mi');
    expect(formatCpu(0.5)).toBe('0.50s');
    expect(formatCpu(42)).toBe('42.0s');
    expect(formatCpu(3725)).toBe('1h2m');
    expect(formatDuration(45_000)).toBe('45s');
    expect(formatDuration(192_000)).toBe('3m12s');
    expect(formatDuration(42 * 60_000)).toBe('42m');
    expect(formatDuration(3 * 86_400_000 + 4 * 3_600_000)).toBe('3d4h');
    expect(formatWhen('2025-01-01T11:57:00Z', NOW)).toBe('3m ago');
    expect(formatWhen('2025-01-01T12:00:42Z', NOW)).toBe('in 42s');
  });
});

describe('colour', () => {
  it('only on a TTY without NO_COLOR', () => {
    expect(useColour(true, {})).toBe(true);
    expect(useColour(false, {})).toBe(false);
    expect(useColour(undefined, {})).toBe(false);
    expect(useColour(true, { NO_COLOR: '1' })).toBe(false);
    expect(useColour(true, { TERM: 'dumb' })).toBe(false);
  });

  it('does not shift columns', () => {
    const plain = table(['A', 'B'], [[{ text: 'Failed', colour: 'red' }, { text: 'x' }]], false);
    const coloured = table(['A', 'B'], [[{ text: 'Failed', colour: 'red' }, { text: 'x' }]], true);
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[\d+m/g, '')).toBe(plain);
    expect(coloured).toContain('\u001b[31mFailed');
  });
});

describe('formatStatus', () => {
  it('prints workload, node and unit rows with "-" for what is unknown', () => {
    const text = formatStatus([view()], { wide: false, colour: false, now: NOW });
    const lines = text.split('\n');
    expect(lines[0]).toBe('default/web  Running  desired=2  ready=2  up-to-date=2  failed=0  restarts=3  age=5m');
    expect(lines[1]).toMatch(/^ {2}NODE\s+PHASE\s+UNIT\s+STATE\s+RESTARTS\s+EXIT\s+MEMORY\s+CPU\s+LAST-RUN\s+NEXT-RUN$/);
    expect(lines[2]).toMatch(/^ {2}n1\s+Running\s+server\s+active\/running\s+3\s+-\s+12\.5Mi\s+1\.23s\s+-\s+-$/);
    expect(lines[3]).toMatch(/^\s+cron\s+active\/waiting\s+0\s+0\s+-\s+-\s+3m ago\s+in 2m$/);
    expect(lines[4]).toMatch(/^ {2}n2\s+Unknown\s+-\s+-\s+-\s+-\s+-\s+-\s+-\s+-$/);
    expect(text).not.toContain('\u001b[');
  });

  it('wide adds tasks, up-to-date, the systemd unit and messages', () => {
    const text = formatStatus([view()], { wide: true, colour: false, now: NOW });
    expect(text).toMatch(/TASKS\s+UP-TO-DATE\s+SYSTEMD-UNIT\s+MESSAGE/);
    expect(text).toMatch(/4\s+true\s+sdw-default_web_server\.service/);
    expect(text).toMatch(/n2.*agent silent/);
  });

  it('a workload without status shows Unknown and dashes, not zeros', () => {
    const text = formatStatus([view({ phase: null, desired: null, ready: null, updated: null, failed: null, restarts: null, nodes: [] })], {
      wide: false,
      colour: false,
      now: NOW,
    });
    expect(text).toContain('default/web  Unknown  desired=-  ready=-  up-to-date=-  failed=-  restarts=-');
    expect(text).toContain('(no nodes selected)');
  });

  it('json keeps every key, unknown as null', () => {
    const j = JSON.parse(formatStatusJson([view()])) as { kind: string; items: WorkloadView[] };
    expect(j.kind).toBe('StatusList');
    expect(j.items[0]!.nodes[0]!.units[1]).toMatchObject({ memoryBytes: null, nextRun: '2025-01-01T12:02:00Z', exitCode: 0 });
  });
});
