// SystemdBus survives what happens to a node's bus in real life: dbus-daemon
// restarting (every connection dropped) and systemd re-executing itself (systemd
// leaves the bus and comes back). After each, the adapter must be re-subscribed
// (signals flow again), and report 'reconnected' so the agent resyncs.
import type { SystemdNode } from '../../harness/systemdNode.js';
import { BusDisconnectedError } from '../../../src/systemd/errors.js';
import { SystemdBus, type ConnectionCause, type PropertiesChangedEvent } from '../../../src/systemd/bus.js';
import { UnitFileStore } from '../../../src/systemd/unitStore.js';
import { ownedUnit, removeRunDir, startNode, waitFor } from './helpers.js';

const T = 120_000; // ESM jest has no `jest` global: timeouts per hook and test.

let node: SystemdNode;
let bus: SystemdBus;
let store: UnitFileStore;
const disconnects: ConnectionCause[] = [];
const reconnects: ConnectionCause[] = [];

beforeAll(async () => {
  node = await startNode('reconn-a');
  store = new UnitFileStore(node.unitDir);
  bus = await SystemdBus.connect(node.busAddress, { callTimeoutMs: 5_000, reconnectInitialDelayMs: 50 });
  bus.on('disconnected', (e) => disconnects.push(e.cause));
  bus.on('reconnected', (e) => reconnects.push(e.cause));
  for (const i of [1, 2, 3]) {
    await store.write(`sdw-default-rc-u${i}.service`, ownedUnit({ workload: 'rc', service: ['ExecStart=/bin/sleep infinity'] }));
  }
  await bus.reload();
}, T);

afterAll(async () => {
  await bus?.close();
  await node?.stop();
  await removeRunDir();
}, T);

/** Signals flow: a start is awaited through JobRemoved and PropertiesChanged reports it active. */
async function signalsFlow(unit: string): Promise<void> {
  const seen: PropertiesChangedEvent[] = [];
  const on = (e: PropertiesChangedEvent): void => {
    if (e.unit === unit) seen.push(e);
  };
  bus.on('propertiesChanged', on);
  try {
    expect(await bus.startUnit(unit)).toBe('done');
    await waitFor(
      `PropertiesChanged ActiveState=active for ${unit}`,
      () => seen.some((e) => (e.changed['ActiveState'] as { value?: unknown } | undefined)?.value === 'active') || undefined,
    );
  } finally {
    bus.off('propertiesChanged', on);
  }
}

describe('SystemdBus reconnect', () => {
  it(
    'reconnects after dbus-daemon restarts, fails the pending job, and receives signals again',
    async () => {
      await signalsFlow('sdw-default-rc-u1.service');
      const before = reconnects.length;
      const t0 = Date.now();
      // The reply (and the JobRemoved) die with the daemon: the caller learns it, recognisably.
      const restart = bus.restartUnit('dbus.service').then(
        (r) => r,
        (e: unknown) => e,
      );
      await waitFor('reconnected after the dbus restart', () => (reconnects.length > before ? true : undefined), 20_000);
      const elapsed = Date.now() - t0;
      expect(reconnects.at(-1)).toBe('bus');
      expect(disconnects).toContain('bus');
      const outcome = await restart;
      expect(outcome === 'done' || outcome instanceof BusDisconnectedError).toBe(true);
      console.log(
        `dbus restart: reconnected in ${elapsed} ms (restart call -> ${outcome instanceof Error ? outcome.name : String(outcome)})`,
      );
      expect(bus.connected).toBe(true);
      await signalsFlow('sdw-default-rc-u2.service');
      expect((await bus.getUnitState('sdw-default-rc-u1.service')).activeState).toBe('active');
    },
    T,
  );

  it(
    'survives systemd daemon-reexec: re-subscribes and receives signals again',
    async () => {
      const before = reconnects.length;
      const pidBefore = (await bus.getUnitState('sdw-default-rc-u1.service')).mainPid;
      const t0 = Date.now();
      await bus.reexecute();
      console.log(`daemon-reexec: back and subscribed in ${Date.now() - t0} ms`);
      expect(reconnects.length).toBeGreaterThan(before);
      expect(reconnects.at(-1)).toBe('systemd');
      expect(disconnects.at(-1)).toBe('systemd');
      // Units keep running across a reexec.
      expect((await bus.getUnitState('sdw-default-rc-u1.service')).mainPid).toBe(pidBefore);
      await signalsFlow('sdw-default-rc-u3.service');
    },
    T,
  );

  it(
    'fails calls with BusDisconnectedError after close()',
    async () => {
      const other = await SystemdBus.connect(node.busAddress);
      const pending = other.getUnitState('dbus.service');
      await other.close();
      await expect(pending).rejects.toBeInstanceOf(BusDisconnectedError);
      await expect(other.listUnits()).rejects.toBeInstanceOf(BusDisconnectedError);
    },
    T,
  );

  it(
    'times out connecting to a bus that does not exist',
    async () => {
      const t0 = Date.now();
      await expect(SystemdBus.connect(`unix:path=${node.dir}/no-such-socket`, { connectTimeoutMs: 500 })).rejects.toThrow(
        /no answer within 500 ms/,
      );
      expect(Date.now() - t0).toBeLessThan(2000);
    },
    T,
  );
});
