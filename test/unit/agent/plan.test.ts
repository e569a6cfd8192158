import { desiredFiles, liveOnlyChange, planSync, type DiskFile, type ObservedState } from '../../../src/agent/plan.js';
import type { SystemdUnitSet } from '../../../src/api/types.js';
import { child, svc } from './fixtures.js';

const WEB = 'sdw-default_web_server.service';
const SIDE = 'sdw-default_web_sidecar.service';

/** The files of these children, as if already on disk. */
function onDisk(...children: SystemdUnitSet[]): Map<string, DiskFile> {
  const d = desiredFiles(children);
  return new Map([...d.values()].map((f) => [f.file, { file: f.file, content: f.content }]));
}
function states(entries: Record<string, ObservedState>): Map<string, ObservedState> {
  return new Map(Object.entries(entries));
}
const running: ObservedState = { loadState: 'loaded', activeState: 'active', subState: 'running' };
const web = (memory = '64Mi', cpu = '500m', tasks = 50, sidecar = 'infinity'): SystemdUnitSet =>
  child('web', [svc('server', { resources: { limits: { memory, cpu, tasks } } }), svc('sidecar', { command: ['/bin/sleep', sidecar] })]);

describe('planSync', () => {
  it('writes, enables and starts new files with one reload', () => {
    const plan = planSync(desiredFiles([web()]), new Map(), new Map(), { firstSyncDone: false });
    expect(plan.write.map((w) => w.file)).toEqual([WEB, SIDE]);
    expect(plan.enable).toEqual([WEB, SIDE]);
    expect(plan.start).toEqual([WEB, SIDE]);
    expect(plan.reload).toBe(true);
    expect(plan).toMatchObject({ restart: [], remove: [], liveUpdate: [], repaired: [] });
  });

  it('does nothing when everything is as specified', () => {
    const c = web();
    const plan = planSync(desiredFiles([c]), onDisk(c), states({ [WEB]: running, [SIDE]: running }), { firstSyncDone: true });
    expect(plan).toEqual({
      write: [],
      remove: [],
      reload: false,
      enable: [],
      start: [],
      restart: [],
      reloadUnits: [],
      resetFailed: [],
      liveUpdate: [],
      repaired: [],
    });
  });

  it('restarts only the unit whose content changed', () => {
    const plan = planSync(desiredFiles([web('64Mi', '500m', 50, '86400')]), onDisk(web()), states({ [WEB]: running, [SIDE]: running }), {
      firstSyncDone: true,
    });
    expect(plan.write.map((w) => w.file)).toEqual([SIDE]);
    expect(plan.restart).toEqual([SIDE]);
    expect(plan.start).toEqual([]);
    expect(plan.repaired).toEqual([]);
    expect(plan.reload).toBe(true);
  });

  it('applies a resource-only change live, without a restart', () => {
    const plan = planSync(desiredFiles([web('96Mi', '250m', 20)]), onDisk(web()), states({ [WEB]: running, [SIDE]: running }), {
      firstSyncDone: true,
    });
    expect(plan.write.map((w) => w.file)).toEqual([WEB]);
    expect(plan.restart).toEqual([]);
    expect(plan.start).toEqual([]);
    expect(plan.liveUpdate).toEqual([{ file: WEB, directives: { MemoryMax: String(96 * 2 ** 20), CPUQuota: '25%', TasksMax: '20' } }]);
    expect(plan.reload).toBe(true); // the reload is what applies it
  });

  it('liveOnlyChange: any other directive needs a restart', () => {
    const a = desiredFiles([web()]).get(WEB)!.content;
    const b = desiredFiles([
      child('web', [svc('server', { command: ['/bin/sleep', '5'], resources: { limits: { memory: '64Mi', cpu: '500m', tasks: 50 } } })]),
    ]).get(WEB)!.content;
    expect(liveOnlyChange(a, b)).toBeUndefined();
    expect(liveOnlyChange(a, a)).toEqual({});
  });

  it('detects a hand edit of a managed file, puts it back and restarts the running unit', () => {
    const c = web();
    const disk = onDisk(c);
    const edited = disk.get(WEB)!.content.replace('"infinity"', '"1"');
    expect(edited).not.toBe(disk.get(WEB)!.content);
    disk.set(WEB, { file: WEB, content: edited });
    const plan = planSync(desiredFiles([c]), disk, states({ [WEB]: running, [SIDE]: running }), { firstSyncDone: true });
    expect(plan.repaired).toEqual([{ file: WEB, what: 'edited' }]);
    expect(plan.write.map((w) => w.file)).toEqual([WEB]);
    expect(plan.restart).toEqual([WEB]);
  });

  it('starts a Restart=always service stopped by hand and reports the repair', () => {
    const c = web();
    const plan = planSync(
      desiredFiles([c]),
      onDisk(c),
      states({ [WEB]: { loadState: 'loaded', activeState: 'inactive', subState: 'dead' }, [SIDE]: running }),
      { firstSyncDone: true },
    );
    expect(plan.start).toEqual([WEB]);
    expect(plan.repaired).toEqual([{ file: WEB, what: 'stopped' }]);
    expect(plan.write).toEqual([]);
    expect(plan.reload).toBe(false);
  });

  it('leaves an exited OnFailure/Never service alone', () => {
    const c = child('job', [svc('once', { restart: { policy: 'OnFailure' } }), svc('never', { restart: { policy: 'Never' } })]);
    const dead = { loadState: 'loaded', activeState: 'inactive', subState: 'dead' };
    const plan = planSync(
      desiredFiles([c]),
      onDisk(c),
      states({ 'sdw-default_job_once.service': dead, 'sdw-default_job_never.service': dead }),
      { firstSyncDone: true },
    );
    expect(plan.start).toEqual([]);
    expect(plan.repaired).toEqual([]);
  });

  it('does not force a failed unit back, but starts it afresh when its spec changes', () => {
    const failed = { loadState: 'loaded', activeState: 'failed', subState: 'failed' };
    const c = web();
    const same = planSync(desiredFiles([c]), onDisk(c), states({ [WEB]: failed, [SIDE]: running }), { firstSyncDone: true });
    expect(same.start).toEqual([]);
    expect(same.restart).toEqual([]);
    expect(same.repaired).toEqual([]);
    const fixed = web('64Mi', '500m', 50);
    const changed = child('web', [
      svc('server', { command: ['/bin/sleep', '1000'], resources: { limits: { memory: '64Mi', cpu: '500m', tasks: 50 } } }),
      svc('sidecar'),
    ]);
    const plan = planSync(desiredFiles([changed]), onDisk(fixed), states({ [WEB]: failed, [SIDE]: running }), { firstSyncDone: true });
    expect(plan.resetFailed).toEqual([WEB]);
    expect(plan.start).toEqual([WEB]);
  });

  it('never starts the service of a timer directly; starts and enables the timer', () => {
    const c = child('cron', [svc('tick', { type: 'oneshot', command: ['/bin/true'], schedule: '* * * * *' })]);
    const fresh = planSync(desiredFiles([c]), new Map(), new Map(), { firstSyncDone: true });
    expect(fresh.write.map((w) => w.file).sort()).toEqual(['sdw-default_cron_tick.service', 'sdw-default_cron_tick.timer']);
    expect(fresh.start).toEqual(['sdw-default_cron_tick.timer']);
    expect(fresh.enable).toEqual(['sdw-default_cron_tick.timer']);
    // The service ran and ended: still not started by the agent.
    const later = planSync(
      desiredFiles([c]),
      onDisk(c),
      states({
        'sdw-default_cron_tick.service': { loadState: 'loaded', activeState: 'inactive', subState: 'dead' },
        'sdw-default_cron_tick.timer': { loadState: 'loaded', activeState: 'active', subState: 'waiting' },
      }),
      { firstSyncDone: true },
    );
    expect(later.start).toEqual([]);
  });

  it('starts an inactive oneshot and a stopped timer', () => {
    const c = child('chain', [svc('a', { type: 'oneshot', command: ['/bin/true'] })]);
    const plan = planSync(
      desiredFiles([c]),
      onDisk(c),
      states({ 'sdw-default_chain_a.service': { loadState: 'loaded', activeState: 'inactive' } }),
      { firstSyncDone: true },
    );
    expect(plan.start).toEqual(['sdw-default_chain_a.service']);
  });

  it('removes owned files no child wants only after the first full sync', () => {
    const old = child('old', [svc('x')]);
    const c = web();
    const disk = onDisk(c, old);
    const st = states({ [WEB]: running, [SIDE]: running, 'sdw-default_old_x.service': running });
    const before = planSync(desiredFiles([c]), disk, st, { firstSyncDone: false });
    expect(before.remove).toEqual([]);
    expect(before.reload).toBe(false);
    const after = planSync(desiredFiles([c]), disk, st, { firstSyncDone: true });
    expect(after.remove).toEqual(['sdw-default_old_x.service']);
    expect(after.reload).toBe(true);
    // An empty list (all workloads deleted) removes everything owned, but again only after the first sync.
    expect(planSync(new Map(), disk, st, { firstSyncDone: false }).remove).toEqual([]);
    expect(planSync(new Map(), disk, st, { firstSyncDone: true }).remove).toHaveLength(3);
  });

  it('ignores a child being deleted (its units go) and never lists a file it was not given', () => {
    const c = web();
    c.metadata.deletionTimestamp = '2024-01-01T00:00:00Z';
    expect(desiredFiles([c]).size).toBe(0);
    // Foreign files never reach planSync (the store lists only marked files): a plan
    // made from the owned files names nothing else, whatever systemd reports.
    const plan = planSync(new Map(), new Map(), states({ 'foreign.service': { activeState: 'inactive' } }), { firstSyncDone: true });
    expect(plan.remove).toEqual([]);
    expect(plan.start).toEqual([]);
  });

  it('enables again a unit whose enablement was lost, without restarting it', () => {
    const c = web();
    const plan = planSync(
      desiredFiles([c]),
      onDisk(c),
      states({ [WEB]: { ...running, unitFileState: 'disabled' }, [SIDE]: { ...running, unitFileState: 'enabled' } }),
      { firstSyncDone: true },
    );
    expect(plan.enable).toEqual([WEB]);
    expect(plan.start).toEqual([]);
    expect(plan.restart).toEqual([]);
  });

  it('reloads when a file on disk is not loaded by systemd yet (not-found)', () => {
    const c = web();
    const plan = planSync(
      desiredFiles([c]),
      onDisk(c),
      states({ [WEB]: { loadState: 'not-found', activeState: 'inactive' }, [SIDE]: running }),
      { firstSyncDone: true },
    );
    expect(plan.reload).toBe(true);
    expect(plan.start).toEqual([WEB]);
  });
});
