// SystemdBus against a real systemd node: jobs, state, signals, live limits, enable.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import dbus from 'dbus-next';
import type { SystemdNode } from '../../harness/systemdNode.js';
import { SystemdBus, type PropertiesChangedEvent } from '../../../src/systemd/bus.js';
import { UINT64_MAX, unitStatePatch } from '../../../src/systemd/properties.js';
import { terminationFrom } from '../../../src/systemd/termination.js';
import { UnitFileStore } from '../../../src/systemd/unitStore.js';
import { ownedUnit, removeRunDir, startNode, waitFor } from './helpers.js';

// ESM jest has no `jest` global: timeouts are passed per hook and test.
const T = 120_000;

let node: SystemdNode;
let bus: SystemdBus;
let store: UnitFileStore;

beforeAll(async () => {
  node = await startNode('bus-a');
  store = new UnitFileStore(node.unitDir);
  bus = await SystemdBus.connect(node.busAddress, { callTimeoutMs: 10_000 });
}, T);

afterAll(async () => {
  await bus?.close();
  await node?.stop();
  await removeRunDir();
}, T);

/** Collects PropertiesChanged events for one unit. */
function recorder(unit: string): { events: PropertiesChangedEvent[]; stop: () => void } {
  const events: PropertiesChangedEvent[] = [];
  const on = (e: PropertiesChangedEvent): void => {
    if (e.unit === unit) events.push(e);
  };
  bus.on('propertiesChanged', on);
  return { events, stop: () => bus.off('propertiesChanged', on) };
}

describe('SystemdBus on a real node', () => {
  // SDW_SYSTEMD_UNITS=1000 measures a bigger batch.
  const N = Number(process.env['SDW_SYSTEMD_UNITS'] ?? 50);
  it(
    `starts ${N} units pipelined, each awaited through JobRemoved, and reads their state`,
    async () => {
      const names = Array.from({ length: N }, (_, i) => `sdw-default-many-u${i}.service`);
      const t0 = performance.now();
      for (const n of names) {
        await store.write(n, ownedUnit({ workload: 'many', service: ['ExecStart=/bin/sleep infinity'] }));
      }
      const t1 = performance.now();
      await bus.reload();
      const t2 = performance.now();
      const results = await Promise.all(names.map((n) => bus.startUnit(n)));
      const t3 = performance.now();
      expect(results).toEqual(names.map(() => 'done'));
      console.log(
        `${N} units: write ${(t1 - t0).toFixed(0)} ms, reload ${(t2 - t1).toFixed(0)} ms, ` +
          `start (pipelined, JobRemoved) ${(t3 - t2).toFixed(0)} ms`,
      );

      const states = await Promise.all(names.map((n) => bus.getUnitState(n)));
      for (const s of states) {
        expect(s.loadState).toBe('loaded');
        expect(s.activeState).toBe('active');
        expect(s.subState).toBe('running');
        expect(s.nRestarts).toBe(0);
        expect(s.mainPid).toBeGreaterThan(1);
        expect(s.invocationId).toMatch(/^[0-9a-f]{32}$/);
        expect(s.execMainStartTimestamp).toMatch(/^\d{4}-\d\d-\d\dT/);
        expect(s.fragmentPath).toBe(`/etc/systemd/system/${names[states.indexOf(s)]}`);
        for (const v of [s.memoryCurrent, s.tasksCurrent, s.cpuUsageNSec]) {
          expect(v === undefined || typeof v === 'number').toBe(true);
          expect(v).not.toBe(Number(UINT64_MAX));
        }
      }
      // At least the figures the hybrid hosts do provide.
      expect(states.some((s) => typeof s.tasksCurrent === 'number' && s.tasksCurrent >= 1)).toBe(true);

      const listed = await bus.listUnitsByPatterns(['active'], ['sdw-default-many-*']);
      expect(listed.map((u) => u.name).sort()).toEqual([...names].sort());

      const t4 = performance.now();
      const stopped = await Promise.all(names.map((n) => bus.stopUnit(n)));
      console.log(`${N} units: stop (pipelined, JobRemoved) ${(performance.now() - t4).toFixed(0)} ms`);
      expect(stopped.every((r) => r === 'done')).toBe(true);
      expect((await bus.listUnitsByPatterns(['active'], ['sdw-default-many-*'])).length).toBe(0);
      for (const n of names) await store.remove(n);
      await bus.reload();
    },
    T,
  );

  it(
    'reports a failing start as a failed job',
    async () => {
      const n = 'sdw-default-bad-x.service';
      await store.write(n, ownedUnit({ workload: 'bad', service: ['Type=oneshot', 'ExecStart=/bin/false'] }));
      await bus.reload();
      expect(await bus.startUnit(n)).toBe('failed');
      const s = await bus.getUnitState(n);
      expect(s.activeState).toBe('failed');
      expect(s.result).toBe('exit-code');
      expect(terminationFrom(s)).toMatchObject({ code: 'exited', exitCode: 1, reason: 'Error(exit 1)' });
      await bus.resetFailedUnit(n);
      expect((await bus.getUnitState(n)).activeState).toBe('inactive');
    },
    T,
  );

  it(
    'signals a crash-looping Restart=always unit: Result=exit-code, status 3, NRestarts growing',
    async () => {
      const n = 'sdw-default-crash-loop.service';
      await store.write(
        n,
        ownedUnit({
          workload: 'crash',
          service: ['ExecStart=/bin/sh -c "sleep 0.2; exit 3"', 'Restart=always', 'RestartSec=100ms'],
        }),
      );
      await bus.reload();
      const rec = recorder(n);
      const t0 = Date.now();
      await bus.startUnit(n);
      const restarts = await waitFor(
        'NRestarts >= 2 from signals',
        () => {
          const seen = rec.events.map((e) => unitStatePatch(e.changed).nRestarts).filter((x) => x !== undefined);
          const max = Math.max(-1, ...seen);
          return max >= 2 ? max : undefined;
        },
        5000,
      );
      const elapsed = Date.now() - t0;
      rec.stop();
      const svc = rec.events.filter((e) => e.interface === 'org.freedesktop.systemd1.Service').map((e) => unitStatePatch(e.changed));
      expect(svc.some((p) => p.result === 'exit-code')).toBe(true);
      expect(svc.some((p) => p.execMainCode === 1 && p.execMainStatus === 3)).toBe(true);
      const crash = svc.find((p) => p.execMainCode === 1 && p.execMainStatus === 3);
      expect(terminationFrom({ ...crash, result: 'exit-code' })).toMatchObject({ reason: 'Error(exit 3)', exitCode: 3 });
      expect(rec.events.some((e) => unitStatePatch(e.changed).subState === 'auto-restart')).toBe(true);
      console.log(`crash loop: NRestarts=${restarts} seen through PropertiesChanged after ${elapsed} ms`);
      expect(elapsed).toBeLessThan(2500);
      expect(await bus.stopUnit(n)).toBe('done');
    },
    T,
  );

  it(
    'sees an OOM kill under MemoryMax',
    async () => {
      const n = 'sdw-default-oom-hog.service';
      // Grows to about 46 MiB (43 MiB plus the interpreter), holds (so a sample can see it near the 48M limit), then blows it.
      const py = 'import time; a=bytearray(43<<20); time.sleep(1.5); b=bytearray(200<<20); time.sleep(5)';
      await store.write(
        n,
        ownedUnit({
          workload: 'oom',
          service: [`ExecStart=/usr/bin/python3 -c "${py}"`, 'MemoryMax=48M', 'MemorySwapMax=0', 'Restart=no'],
        }),
      );
      await bus.reload();
      expect(await bus.startUnit(n)).toBe('done');
      let peak = 0;
      const s = await waitFor(
        'the hog to die',
        async () => {
          const st = await bus.getUnitState(n);
          if (st.memoryCurrent !== undefined) peak = Math.max(peak, st.memoryCurrent);
          return st.activeState === 'failed' || st.activeState === 'inactive' ? st : undefined;
        },
        15_000,
        25,
      );
      expect(s.memoryMax).toBe(48 * 1024 * 1024);
      // cgroup v2: oom-kill; these hybrid hosts: SIGKILL.
      if (s.result === 'oom-kill') {
        expect(terminationFrom(s)?.reason).toBe('OOMKilled');
      } else {
        expect(s).toMatchObject({ result: 'signal', execMainCode: 2, execMainStatus: 9 });
        const t = terminationFrom(s, { lastMemoryBytes: peak });
        console.log(`OOM: peak sampled ${(peak / 2 ** 20).toFixed(1)} MiB of 48 MiB -> ${t?.reason}`);
        expect(t).toMatchObject({ code: 'killed', signal: 9, signalName: 'SIGKILL', reason: 'OOMKilled' });
        expect(terminationFrom(s)?.reason).toBe('Killed(signal 9)'); // no memory evidence: honest
      }
      await bus.resetFailedUnit(n);
    },
    T,
  );

  it(
    'changes MemoryMax live with SetUnitProperties, without a restart',
    async () => {
      const n = 'sdw-default-live-limits.service';
      await store.write(n, ownedUnit({ workload: 'live', service: ['ExecStart=/bin/sleep infinity', 'MemoryMax=100M'] }));
      await bus.reload();
      expect(await bus.startUnit(n)).toBe('done');
      const before = await bus.getUnitState(n);
      expect(before.memoryMax).toBe(100 * 2 ** 20);
      await bus.setUnitProperties(n, true, [
        ['MemoryMax', new dbus.Variant('t', 64n * 2n ** 20n)],
        ['TasksMax', new dbus.Variant('t', 50n)],
      ]);
      const after = await bus.getUnitState(n);
      expect(after.memoryMax).toBe(64 * 2 ** 20);
      expect(after.invocationId).toBe(before.invocationId);
      expect(after.mainPid).toBe(before.mainPid);
      const raw = await bus.getUnitProperties(n);
      expect(raw['org.freedesktop.systemd1.Service']?.['TasksMax']).toMatchObject({ value: 50n });
      // runtime=true lands in /run (the node's), not in the unit directory.
      expect(await fs.readdir(node.unitDir)).not.toContain(`${n}.d`);
      await bus.killUnit(n, 'main', 9);
      await waitFor('killed', async () => ((await bus.getUnitState(n)).activeState === 'failed' ? true : undefined));
      const killed = await bus.getUnitState(n);
      expect(terminationFrom(killed)).toMatchObject({ reason: 'Killed(signal 9)' }); // MemoryMax set, no evidence
      await bus.resetFailedUnit(n);
    },
    T,
  );

  it(
    'enables a unit: the wants symlink appears in the unit directory',
    async () => {
      const n = 'sdw-default-enabled-svc.service';
      await store.write(n, ownedUnit({ workload: 'en', service: ['ExecStart=/bin/sleep infinity'], install: ['WantedBy=sdnode.target'] }));
      await bus.reload();
      const r = await bus.enableUnitFiles([n]);
      expect(r.carriesInstallInfo).toBe(true);
      expect(r.changes).toEqual([
        { type: 'symlink', file: `/etc/systemd/system/sdnode.target.wants/${n}`, destination: `/etc/systemd/system/${n}` },
      ]);
      const link = path.join(node.unitDir, 'sdnode.target.wants', n);
      expect((await fs.lstat(link)).isSymbolicLink()).toBe(true);
      expect(await fs.readlink(link)).toBe(`/etc/systemd/system/${n}`);
      await bus.reload();
      expect((await bus.getUnitState(n)).unitFileState).toBe('enabled');
      // The store lists the unit, never the symlink directory nor the harness's own (foreign) target.
      const owned = (await store.listOwned()).map((f) => f.name);
      expect(owned).toContain(n);
      expect(owned).not.toContain('sdnode.target');
      await expect(store.remove('sdnode.target')).rejects.toThrow(/X-SDW-Owner/);
      const gone = await bus.disableUnitFiles([n]);
      expect(gone.map((c) => c.type)).toEqual(['unlink']);
      await expect(fs.lstat(link)).rejects.toMatchObject({ code: 'ENOENT' });
    },
    T,
  );

  it(
    'lists units and keeps the in-flight window bounded',
    async () => {
      const all = await bus.listUnits();
      expect(all.some((u) => u.name === 'dbus.service' && u.activeState === 'active')).toBe(true);
      // 200 concurrent calls: more than the bus's 128 pending replies, fine through the window.
      const many = await Promise.all(Array.from({ length: 200 }, () => bus.getUnitState('dbus.service')));
      expect(many.every((s) => s.activeState === 'active')).toBe(true);
      expect(bus.load.inFlight).toBe(0);
    },
    T,
  );
});
