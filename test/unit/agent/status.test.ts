import { childStatus, RESTART_SETTLE_MS, settlesInMs, type StatusInput } from '../../../src/agent/status.js';
import type { UnitState } from '../../../src/systemd/properties.js';
import { terminationFrom, type Termination } from '../../../src/systemd/termination.js';
import { child, svc } from './fixtures.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const T1 = '2024-05-01T11:59:00.000Z';

function input(c: ReturnType<typeof child>, st: Record<string, UnitState>, extra: Partial<StatusInput> = {}): StatusInput {
  return { child: c, states: new Map(Object.entries(st)), terminations: new Map(), usage: new Map(), applied: true, now: NOW, ...extra };
}
const running: UnitState = {
  loadState: 'loaded',
  activeState: 'active',
  subState: 'running',
  result: 'success',
  nRestarts: 0,
  execMainCode: 0,
  execMainStatus: 0,
};

/** A service that exited with status 3 after 5 restarts, and systemd gave up. */
const failed: UnitState = {
  loadState: 'loaded',
  activeState: 'failed',
  subState: 'failed',
  result: 'exit-code',
  nRestarts: 5,
  execMainCode: 1,
  execMainStatus: 3,
  execMainExitTimestamp: T1,
};

describe('childStatus', () => {
  const web = child('web', [svc('server'), svc('sidecar')]);
  const SERVER = 'sdw-default_web_server.service';
  const SIDE = 'sdw-default_web_sidecar.service';
  // restart: Never, so systemd's "failed" is the end (with a restarting policy the agent's back-off takes over).
  const webNever = child('web', [svc('server', { restart: { policy: 'Never' } }), svc('sidecar')]);

  it('Pending until the hash is applied and every unit runs', () => {
    expect(childStatus(input(web, {}, { applied: false })).phase).toBe('Pending');
    expect(childStatus(input(web, { [SERVER]: running, [SIDE]: { ...running, activeState: 'activating', subState: 'start' } })).phase).toBe(
      'Pending',
    );
  });

  it('Running with appliedHash and readySince once applied and all running', () => {
    const s = childStatus(input(web, { [SERVER]: running, [SIDE]: running }));
    expect(s).toMatchObject({
      phase: 'Running',
      appliedHash: web.spec.hash,
      readySince: new Date(NOW).toISOString(),
      observedGeneration: 1,
    });
    expect(s.units?.map((u) => [u.name, u.unit, u.activeState, u.subState, u.restarts])).toEqual([
      ['server', SERVER, 'active', 'running', 0],
      ['sidecar', SIDE, 'active', 'running', 0],
    ]);
    // readySince is kept while it stays ready.
    const again = childStatus(input({ ...web, status: s }, { [SERVER]: running, [SIDE]: running }, { now: NOW + 60_000 }));
    expect(again.readySince).toBe(s.readySince);
  });

  it('Failed with the reason and exit code when a unit failed; the termination is kept', () => {
    const term = terminationFrom(failed)!;
    const s = childStatus(input(webNever, { [SERVER]: failed, [SIDE]: running }, { terminations: new Map([[SERVER, term]]) }));
    expect(s.phase).toBe('Failed');
    expect(s.units?.[0]).toMatchObject({
      restarts: 5,
      exitCode: 3,
      result: 'exit-code',
      lastTermination: { code: 'exited', status: 3, reason: 'Error(exit 3)', time: T1 },
    });
    expect(s.message).toBe(`${SERVER} failed: Error(exit 3)`);
    expect(s.readySince).toBeUndefined();
    // The next successful start resets Result and ExecMainStatus: the last termination stays (from the previous status).
    const healed = childStatus(input({ ...web, status: s }, { [SERVER]: { ...running, nRestarts: 6 }, [SIDE]: running }));
    expect(healed.phase).toBe('Running');
    expect(healed.units?.[0]?.lastTermination).toMatchObject({ reason: 'Error(exit 3)', status: 3, time: T1 });
    expect(healed.units?.[0]?.restarts).toBe(6);
  });

  it('keeps the reported termination of an exit the agent reads again after its restart; a newer exit replaces it', () => {
    const killed: UnitState = { ...failed, result: 'signal', execMainCode: 2, execMainStatus: 9, memoryMax: 33554432 };
    // Reported with the memory sampled before the kill; read again, no sample is left.
    const reported = { code: 'killed', status: 9, time: T1, reason: 'OOMKilled' };
    const reread = terminationFrom(killed)!;
    expect(reread.reason).toBe('Killed(signal 9)');
    const prev = { ...webNever, status: { units: [{ name: 'server', unit: SERVER, lastTermination: reported }] } } as typeof webNever;
    const s = childStatus(input(prev, { [SERVER]: killed, [SIDE]: running }, { terminations: new Map([[SERVER, reread]]) }));
    expect(s.units?.[0]?.lastTermination).toEqual(reported);
    const later = { ...killed, execMainExitTimestamp: '2024-05-01T13:00:00.000Z' };
    const next = childStatus(
      input(prev, { [SERVER]: later, [SIDE]: running }, { terminations: new Map([[SERVER, terminationFrom(later)!]]) }),
    );
    expect(next.units?.[0]?.lastTermination).toMatchObject({ reason: 'Killed(signal 9)', time: '2024-05-01T13:00:00.000Z' });
  });

  it('says why a SIGKILL under a memory limit probably was an OOM kill (hybrid cgroups)', () => {
    const killed: UnitState = {
      loadState: 'loaded',
      activeState: 'failed',
      subState: 'failed',
      result: 'signal',
      execMainCode: 2,
      execMainStatus: 9,
      memoryMax: 33554432,
      execMainExitTimestamp: T1,
    };
    const s = childStatus(
      input(webNever, { [SERVER]: killed, [SIDE]: running }, { terminations: new Map([[SERVER, terminationFrom(killed)!]]) }),
    );
    expect(s.units?.[0]?.lastTermination).toMatchObject({ code: 'killed', status: 9, reason: 'Killed(signal 9)' });
    expect(s.units?.[0]?.exitCode).toBe(9);
    expect(s.message).toMatch(/Killed\(signal 9\).*MemoryMax=33554432.*out of memory/);
    // cgroup v2: systemd says oom-kill itself.
    const oom: UnitState = { ...killed, result: 'oom-kill' };
    const v2 = childStatus(
      input(webNever, { [SERVER]: oom, [SIDE]: running }, { terminations: new Map([[SERVER, terminationFrom(oom)!]]) }),
    );
    expect(v2.message).toBe(`${SERVER} failed: OOMKilled (MemoryMax=33554432)`);
  });

  it('a failed unit whose policy restarts is in back-off: CrashLoopBackOff with the next start and the last exit, restarts carried', () => {
    const backOff = new Map([[SERVER, { attempts: 2, earlierRestarts: 12, nextStartAt: NOW + 40_000 }]]);
    const s = childStatus(
      input(web, { [SERVER]: failed, [SIDE]: running }, { terminations: new Map([[SERVER, terminationFrom(failed)!]]), backOff }),
    );
    expect(s.phase).toBe('Pending');
    expect(s.units?.[0]).toMatchObject({
      reason: 'CrashLoopBackOff',
      restarts: 17,
      earlierRestarts: 12,
      backOffAttempts: 2,
      nextStartTime: '2024-05-01T12:00:40Z',
    });
    expect(s.message).toBe(`${SERVER} back-off, next start in 40s (17 restarts); last exit: Error(exit 3)`);
  });

  it('reports a crash loop while systemd restarts the unit', () => {
    const t: Termination = { code: 'exited', status: 3, exitCode: 3, reason: 'Error(exit 3)', time: T1 };
    const s = childStatus(
      input(
        web,
        { [SERVER]: { ...running, activeState: 'activating', subState: 'auto-restart', nRestarts: 2 }, [SIDE]: running },
        { terminations: new Map([[SERVER, t]]) },
      ),
    );
    expect(s.phase).toBe('Pending');
    expect(s.units?.[0]).toMatchObject({ restarts: 2, exitCode: 3, message: `${SERVER} restarting (2 restarts) after Error(exit 3)` });
  });

  it('is not ready while running between crashes, and settles after RESTART_SETTLE_MS up', () => {
    const crashedAt = new Date(NOW - 5_000).toISOString();
    const t: Termination = { code: 'exited', status: 3, exitCode: 3, reason: 'Error(exit 3)', time: crashedAt };
    const upAgain = { [SERVER]: { ...running, nRestarts: 3 }, [SIDE]: running };
    const s = childStatus(input(web, upAgain, { terminations: new Map([[SERVER, t]]) }));
    expect(s.phase).toBe('Pending');
    expect(s.units?.[0]?.message).toBe(`${SERVER} restarting (3 restarts) after Error(exit 3)`);
    expect(settlesInMs(s.units ?? [], NOW)).toBe(RESTART_SETTLE_MS - 5_000);
    const later = childStatus(input(web, upAgain, { terminations: new Map([[SERVER, t]]), now: NOW + RESTART_SETTLE_MS }));
    expect(later.phase).toBe('Running');
    expect(later.units?.[0]?.message).toBeUndefined();
    expect(settlesInMs(later.units ?? [], NOW + RESTART_SETTLE_MS)).toBeUndefined();
  });

  it('Completed when every unit is a oneshot that ran to success', () => {
    const chain = child('chain', [
      svc('a', { type: 'oneshot', command: ['/bin/true'] }),
      svc('b', { type: 'oneshot', command: ['/bin/true'], after: ['a'], requires: ['a'] }),
    ]);
    const done: UnitState = {
      loadState: 'loaded',
      activeState: 'active',
      subState: 'exited',
      result: 'success',
      execMainCode: 1,
      execMainStatus: 0,
      execMainExitTimestamp: T1,
    };
    const s = childStatus(input(chain, { 'sdw-default_chain_a.service': done, 'sdw-default_chain_b.service': done }));
    expect(s.phase).toBe('Completed');
    expect(s.units?.[1]).toMatchObject({ exitCode: 0, activeState: 'active', subState: 'exited' });
    const half = childStatus(
      input(chain, {
        'sdw-default_chain_a.service': done,
        'sdw-default_chain_b.service': { loadState: 'loaded', activeState: 'activating', subState: 'start' },
      }),
    );
    expect(half.phase).toBe('Pending');
  });

  it('a scheduled unit reports its timer: last trigger, next elapse, last result', () => {
    const cron = child('cron', [svc('tick', { type: 'oneshot', command: ['/bin/true'], schedule: '* * * * *' })]);
    const s = childStatus(
      input(cron, {
        'sdw-default_cron_tick.service': {
          loadState: 'loaded',
          activeState: 'inactive',
          subState: 'dead',
          result: 'success',
          execMainCode: 1,
          execMainStatus: 0,
          execMainExitTimestamp: T1,
        },
        'sdw-default_cron_tick.timer': {
          loadState: 'loaded',
          activeState: 'active',
          subState: 'waiting',
          timer: { lastTriggerUSec: T1, nextElapseUSecRealtime: '2024-05-01T12:01:00.000Z', result: 'success' },
        },
      }),
    );
    expect(s.phase).toBe('Running'); // a waiting timer is a running schedule, never "Completed"
    expect(s.units?.[0]).toMatchObject({
      unit: 'sdw-default_cron_tick.timer',
      activeState: 'active',
      subState: 'waiting',
      timer: { lastTrigger: T1, nextElapse: '2024-05-01T12:01:00.000Z', lastResult: 'success' },
    });
    // A timer that never fired has no lastTrigger.
    const fresh = childStatus(
      input(cron, {
        'sdw-default_cron_tick.service': { loadState: 'loaded', activeState: 'inactive', subState: 'dead', result: 'success' },
        'sdw-default_cron_tick.timer': {
          loadState: 'loaded',
          activeState: 'active',
          subState: 'waiting',
          timer: { nextElapseUSecRealtime: '2024-05-01T12:01:00.000Z' },
        },
      }),
    );
    expect(fresh.units?.[0]?.timer).toEqual({ nextElapse: '2024-05-01T12:01:00.000Z' });
  });

  it('usage figures systemd cannot account stay undefined, never a number', () => {
    const s = childStatus(
      input(
        web,
        { [SERVER]: running, [SIDE]: running },
        {
          usage: new Map([
            [SERVER, { memoryBytes: 1024, cpuNanoseconds: undefined, tasks: 1 }],
            [SIDE, {}],
          ]),
        },
      ),
    );
    expect(s.units?.[0]).toMatchObject({ memoryBytes: 1024, tasks: 1 });
    expect(s.units?.[0]).not.toHaveProperty('cpuNanoseconds');
    expect(s.units?.[1]).not.toHaveProperty('memoryBytes');
    expect(JSON.stringify(s)).not.toContain('18446744073709551615');
  });

  it('a node-level error makes the phase Failed with its message', () => {
    const s = childStatus(
      input(
        web,
        { [SERVER]: running, [SIDE]: running },
        { error: 'unit store: cannot write /x/y.service: EPERM (operation not permitted)' },
      ),
    );
    expect(s).toMatchObject({ phase: 'Failed', message: 'unit store: cannot write /x/y.service: EPERM (operation not permitted)' });
  });
});

describe('childStatus with a readiness probe', () => {
  const web = child('web', [svc('server', { readinessProbe: { httpGet: { port: 8080 } } })]);
  const SERVER = 'sdw-default_web_server.service';
  const probeState = (result: 'Success' | 'Failure' | 'Pending', message: string) => ({
    readiness: { result, successes: result === 'Success' ? 1 : 0, failures: result === 'Success' ? 0 : 1, message },
  });

  it('an active unit is not ready, and the node not Running, until its readiness probe holds', () => {
    const before = childStatus(input(web, { [SERVER]: running }));
    expect(before.phase).toBe('Pending');
    expect(before.readySince).toBeUndefined();
    expect(before.units?.[0]).toMatchObject({ ready: false, message: `${SERVER} not ready: readiness probe not run yet` });

    const refused = childStatus(
      input(web, { [SERVER]: running }, { probes: new Map([['server', probeState('Pending', 'ECONNREFUSED')]]) }),
    );
    expect(refused.units?.[0]).toMatchObject({
      ready: false,
      probes: { readiness: { result: 'Pending', consecutiveFailures: 1, message: 'ECONNREFUSED' } },
    });

    const holds = childStatus(input(web, { [SERVER]: running }, { probes: new Map([['server', probeState('Success', 'HTTP 200')]]) }));
    expect(holds).toMatchObject({ phase: 'Running', readySince: new Date(NOW).toISOString() });
    expect(holds.units?.[0]).toMatchObject({ ready: true, probes: { readiness: { result: 'Success', message: 'HTTP 200' } } });
  });

  it('a result from an earlier run of the unit does not count: a restarted unit (or a new version) waits for its own probe', () => {
    const started = (t: string): UnitState => ({ ...running, execMainStartTimestamp: t });
    const heldFor = (t: string) => new Map([['server', { readiness: { ...probeState('Success', 'HTTP 200').readiness, startedAt: t } }]]);
    const T1 = '2026-11-30T10:00:00.000Z';
    const T2 = '2026-11-30T10:05:00.000Z';
    expect(childStatus(input(web, { [SERVER]: started(T1) }, { probes: heldFor(T1) })).units?.[0]?.ready).toBe(true);
    const restarted = childStatus(input(web, { [SERVER]: started(T2) }, { probes: heldFor(T1) }));
    expect(restarted.phase).toBe('Pending');
    expect(restarted.units?.[0]).toMatchObject({ ready: false, message: `${SERVER} not ready: readiness probe not run yet` });
    expect(restarted.units?.[0]?.probes).toBeUndefined();
  });

  it('a probe that holds does not make an inactive unit ready', () => {
    const s = childStatus(
      input(
        web,
        { [SERVER]: { ...running, activeState: 'inactive', subState: 'dead' } },
        { probes: new Map([['server', probeState('Success', 'HTTP 200')]]) },
      ),
    );
    expect(s.units?.[0]?.ready).toBe(false);
    expect(s.phase).toBe('Pending');
  });
});
