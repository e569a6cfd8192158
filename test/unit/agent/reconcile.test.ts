// The agent's reconcilers (node sync, child status) against a recording fake
// systemd and an in-memory unit directory, over children deep-frozen as the
// informer's cache must be treated: any write to them throws here.
import { jest } from '@jest/globals';
import type { SystemdUnitSet, SystemdUnitSetStatus, UnitSpec } from '../../../src/api/types.js';
import { AgentMetrics } from '../../../src/agent/metrics.js';
import { desiredFiles } from '../../../src/agent/plan.js';
import {
  NODE_SYNC_KEY,
  NodeState,
  SYNC_BATCH_MS,
  WrittenStatuses,
  needsNodeSync,
  syncNode,
  writeChildStatus,
  type AgentBus,
  type AgentStore,
  type StatusDeps,
  type SyncDeps,
} from '../../../src/agent/reconcile.js';
import { foldSignal, type SignalOutcome } from '../../../src/agent/signals.js';
import { ControllerLoop } from '../../../src/kube/controllerLoop.js';
import { KeyedPacer, TokenBucket } from '../../../src/kube/rateLimit.js';
import { objectKey } from '../../../src/kube/informer.js';
import { createLogger } from '../../../src/observability/log.js';
import { Metrics } from '../../../src/observability/metrics.js';
import { parseOwnerMarker } from '../../../src/api/markers.js';
import type { UnitState } from '../../../src/systemd/properties.js';
import { child, svc } from './fixtures.js';

const log = createLogger({}, 'error', () => undefined);
const NOW = Date.parse('2024-05-01T12:00:00Z');

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/** A child as the informer holds it: with identity, a resourceVersion, frozen. */
function cached(name: string, units: UnitSpec[], extra: { rv?: string; status?: SystemdUnitSetStatus } = {}): SystemdUnitSet {
  const c = child(name, units);
  c.metadata.uid = `uid-${name}`;
  c.metadata.resourceVersion = extra.rv ?? '1';
  if (extra.status) c.status = extra.status;
  return deepFreeze(c);
}

/** systemd as the agent sees it: every call recorded; started units become active/running. */
class FakeSystemd implements AgentBus {
  readonly calls: string[] = [];
  readonly units = new Map<string, UnitState>();
  failStart = new Set<string>();
  /** The state a unit is in by the time it is read after its start (default: running). */
  readonly afterStart = new Map<string, UnitState>();

  getUnitState(name: string): Promise<UnitState> {
    return Promise.resolve(this.units.get(name) ?? { loadState: 'not-found', activeState: 'inactive', subState: 'dead' });
  }
  reload(): Promise<void> {
    this.calls.push('reload');
    return Promise.resolve();
  }
  startUnit(name: string): Promise<'done'> {
    this.calls.push(`start ${name}`);
    if (this.failStart.has(name)) return Promise.reject(new Error(`start of ${name} refused`));
    const after = this.afterStart.get(name);
    if (after) {
      this.units.set(name, after);
      return Promise.resolve('done');
    }
    this.units.set(name, {
      loadState: 'loaded',
      activeState: 'active',
      subState: 'running',
      result: 'success',
      nRestarts: 0,
      unitFileState: 'enabled',
    });
    return Promise.resolve('done');
  }
  restartUnit(name: string): Promise<'done'> {
    this.calls.push(`restart ${name}`);
    return Promise.resolve('done');
  }
  reloadUnit(name: string): Promise<'done'> {
    this.calls.push(`reload ${name}`);
    return Promise.resolve('done');
  }
  stopUnit(name: string): Promise<'done'> {
    this.calls.push(`stop ${name}`);
    this.units.delete(name);
    return Promise.resolve('done');
  }
  enableUnitFiles(names: string[]): Promise<{ carriesInstallInfo: boolean; changes: never[] }> {
    this.calls.push(`enable ${names.length}`);
    return Promise.resolve({ carriesInstallInfo: true, changes: [] });
  }
  disableUnitFiles(names: string[]): Promise<never[]> {
    this.calls.push(`disable ${names.join(' ')}`);
    return Promise.resolve([]);
  }
  resetFailedUnit(): Promise<void> {
    return Promise.resolve();
  }
  cleanUnit(name: string, what: string[]): Promise<void> {
    this.calls.push(`clean ${name} ${what.join(',')}`);
    return Promise.resolve();
  }
}

/** The unit directory: only files with the ownership marker are listed, as UnitFileStore does. */
class MemoryStore implements AgentStore {
  readonly files = new Map<string, string>();
  unwritable = false;

  listOwned(): ReturnType<AgentStore['listOwned']> {
    return Promise.resolve(
      [...this.files].flatMap(([name, content]) => {
        const owner = parseOwnerMarker(content);
        return owner ? [{ name, content, owner }] : [];
      }),
    );
  }
  writeMany(files: Array<{ name: string; content: string }>): Promise<Map<string, Error>> {
    const errors = new Map<string, Error>();
    for (const f of files) {
      if (this.unwritable) errors.set(f.name, new Error(`/etc/systemd/system/${f.name}: EPERM (operation not permitted)`));
      else this.files.set(f.name, f.content);
    }
    return Promise.resolve(errors);
  }
  remove(name: string): Promise<boolean> {
    return Promise.resolve(this.files.delete(name));
  }
}

interface Rig {
  bus: FakeSystemd;
  store: MemoryStore;
  node: NodeState;
  children: SystemdUnitSet[];
  statusDue: string[];
  writes: Array<{ name: string; body: { status: Record<string, unknown> } }>;
  written: WrittenStatuses;
  metrics: AgentMetrics;
  sync: SyncDeps;
  status: StatusDeps;
}

function rig(children: SystemdUnitSet[]): Rig {
  const r = {
    bus: new FakeSystemd(),
    store: new MemoryStore(),
    node: new NodeState(),
    children,
    statusDue: [] as string[],
    writes: [] as Rig['writes'],
    written: new WrittenStatuses(),
  } as Rig;
  r.metrics = new AgentMetrics(new Metrics());
  let rv = 100;
  r.sync = {
    nodeName: 'n1',
    children: () => r.children,
    store: r.store,
    bus: r.bus,
    node: r.node,
    events: { record: () => Promise.resolve() },
    metrics: r.metrics,
    log,
    statusDue: (keys) => r.statusDue.push(...keys),
  };
  r.status = {
    child: (key) => r.children.find((c) => objectKey(c) === key),
    node: r.node,
    written: r.written,
    metrics: r.metrics,
    now: () => NOW,
    api: {
      patchStatus: (_ns, name, body) => {
        r.writes.push({ name, body: body as Rig['writes'][number]['body'] });
        const c = r.children.find((x) => x.metadata.name === name)!;
        // The API server's answer: a new object, a new resourceVersion.
        return Promise.resolve({
          ...c,
          metadata: { ...c.metadata, resourceVersion: String(++rv) },
          status: (body as { status: SystemdUnitSetStatus }).status,
        });
      },
    },
  };
  return r;
}

const sortedFiles = (r: Rig): string[] => [...r.store.files.keys()].sort();

describe('syncNode', () => {
  it('applies every child in one pass with ONE Reload, and leaves the cached children untouched', async () => {
    const children = [cached('web', [svc('server'), svc('sidecar')]), cached('db', [svc('pg')])];
    const before = JSON.stringify(children);
    const r = rig(children);
    await syncNode(r.sync);
    expect(sortedFiles(r)).toEqual(['sdw-default_db_pg.service', 'sdw-default_web_server.service', 'sdw-default_web_sidecar.service']);
    expect(r.bus.calls.filter((c) => c === 'reload')).toHaveLength(1);
    expect(r.bus.calls.filter((c) => c.startsWith('start ')).sort()).toEqual([
      'start sdw-default_db_pg.service',
      'start sdw-default_web_server.service',
      'start sdw-default_web_sidecar.service',
    ]);
    expect(r.node.applied).toEqual(new Map(children.map((c) => [objectKey(c), c.spec.hash])));
    expect(r.statusDue.sort()).toEqual(['default/db-n1', 'default/web-n1']);
    expect(JSON.stringify(children)).toBe(before);
  });

  it('a unit that ended before the agent first read it: the read records how, and the status shows it', async () => {
    // Its signals came while the agent did not know the unit yet (foldSignal ignores
    // those), so only the read after the start can tell.
    const r = rig([cached('web', [svc('server')])]);
    const SERVER = 'sdw-default_web_server.service';
    r.bus.afterStart.set(SERVER, {
      loadState: 'loaded',
      activeState: 'failed',
      subState: 'failed',
      result: 'exit-code',
      execMainCode: 1,
      execMainStatus: 3,
      execMainExitTimestamp: '2024-05-01T11:59:59.000Z',
      unitFileState: 'enabled',
    });
    await syncNode(r.sync);
    expect(r.node.terminations.get(SERVER)).toMatchObject({ code: 'exited', exitCode: 3, reason: 'Error(exit 3)' });
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes.at(-1)!.body.status.units).toEqual([
      expect.objectContaining({
        lastTermination: { code: 'exited', status: 3, time: '2024-05-01T11:59:59.000Z', reason: 'Error(exit 3)' },
      }),
    ]);
    // Read again (the next sync): the same exit is not recorded twice.
    const recorded = r.node.terminations.get(SERVER);
    await syncNode(r.sync);
    expect(r.node.terminations.get(SERVER)).toBe(recorded);
  });

  it('removes nothing before its first complete sync, then removes only owned files no child asks for', async () => {
    const r = rig([cached('web', [svc('server')])]);
    const old = child('old', [svc('x')]).spec.units[0]!.files[0]!;
    r.store.files.set(old.name, old.content);
    r.store.files.set('foreign.service', '[Service]\nExecStart=/bin/true\n');
    r.bus.units.set(old.name, { loadState: 'loaded', activeState: 'active', subState: 'running' });
    await syncNode(r.sync);
    expect(r.store.files.has(old.name)).toBe(true);
    expect(r.bus.calls).not.toContain(`stop ${old.name}`);
    await syncNode(r.sync);
    expect(r.store.files.has(old.name)).toBe(false);
    expect(r.bus.calls).toContain(`stop ${old.name}`);
    expect(r.store.files.has('foreign.service')).toBe(true);
  });

  it('throws when a file cannot be written (the loop retries it with backoff) and reports the error in status', async () => {
    const r = rig([cached('web', [svc('server')])]);
    r.store.unwritable = true;
    await expect(syncNode(r.sync)).rejects.toThrow(/1 unit\(s\) not applied: sdw-default_web_server.service/);
    expect(r.node.applied.has('default/web-n1')).toBe(false);
    expect(r.statusDue).toEqual(['default/web-n1']);
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes[0]!.body.status).toMatchObject({ phase: 'Failed', message: expect.stringContaining('EPERM') });
  });

  it('stages artifacts, writes files, and only then activates the artifacts of a child none of whose units waits for a file', async () => {
    const env = [{ name: 'T', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }];
    const r = rig([cached('web', [svc('server', { env })]), cached('db', [svc('pg')])]);
    const steps: string[] = [];
    r.sync.files = {
      sync: () => {
        steps.push('files');
        return Promise.resolve(new Map([['/etc/sdw/default/web/.sdw-env/server.env', 'EACCES (permission denied)']]));
      },
    };
    r.sync.artifacts = {
      stage: () => {
        steps.push('stage');
        return Promise.resolve({ blocked: new Map<string, string>() });
      },
      activate: (c) => {
        steps.push(`activate ${c.metadata.name}`);
        return Promise.resolve();
      },
      sweep: () => Promise.resolve(),
    };
    await expect(syncNode(r.sync)).rejects.toThrow(/1 unit\(s\) not applied: sdw-default_web_server.service/);
    expect(steps).toEqual(['stage', 'files', 'activate db-n1']);
    expect(r.bus.calls).toContain('start sdw-default_db_pg.service');
    expect(r.bus.calls).not.toContain('start sdw-default_web_server.service');
    expect(r.node.fileErrors.get('sdw-default_web_server.service')).toMatch(/server\.env: EACCES/);
  });

  it('takes the restart policy from the child spec, not from the rendered text', () => {
    const c = child('job', [svc('w', { restart: { policy: 'OnFailure' } })]);
    expect(c.spec.units[0]!.restart).toBe('OnFailure');
    expect([...desiredFiles([c]).values()].map((d) => d.restart)).toEqual(['OnFailure']);
    // A child written before the field existed: the API's default for its type.
    const { restart: _omit, ...legacy } = child('old', [svc('s')]).spec.units[0]!;
    const oldChild = child('old', [svc('s')]);
    oldChild.spec.units = [legacy];
    expect([...desiredFiles([oldChild]).values()].map((d) => d.restart)).toEqual(['Always']);
  });
});

describe('writeChildStatus', () => {
  async function synced(): Promise<Rig> {
    const r = rig([cached('web', [svc('server')])]);
    await syncNode(r.sync);
    return r;
  }

  it('computes the status into a new object and writes it; the cached child stays as it was', async () => {
    const r = await synced();
    const before = JSON.stringify(r.children[0]);
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes).toHaveLength(1);
    expect(r.writes[0]!.body.status).toMatchObject({ phase: 'Running', appliedHash: r.children[0]!.spec.hash });
    expect(JSON.stringify(r.children[0])).toBe(before);
    expect(r.children[0]!.status).toBeUndefined();
  });

  it('does not write the same status again while the cache has not caught up with its write', async () => {
    const r = await synced();
    await writeChildStatus('default/web-n1', r.status);
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes).toHaveLength(1);
  });

  it('compares against the cache again once the watch delivers the written version', async () => {
    const r = await synced();
    await writeChildStatus('default/web-n1', r.status);
    const written = r.writes[0]!.body.status as unknown as SystemdUnitSetStatus;
    // The watch delivers our write (resourceVersion 101), as a new frozen object.
    const echoed = cached('web', [svc('server')], { rv: '101', status: written });
    r.children = [echoed];
    r.written.seen(echoed);
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes).toHaveLength(1);
    // Someone else changes the status: it is corrected.
    r.children = [cached('web', [svc('server')], { rv: '102', status: { ...written, phase: 'Pending' } })];
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes).toHaveLength(2);
    expect(r.writes[1]!.body.status).toMatchObject({ phase: 'Running' });
  });

  it('paces changed statuses through the node bucket: a waiting child comes back when due and writes its newest status', async () => {
    let clock = 0;
    const bucket = new TokenBucket(1, 1, () => clock);
    const r = rig([cached('web', [svc('server')]), cached('db', [svc('pg')])]);
    await syncNode(r.sync);
    r.status.pacer = new KeyedPacer(bucket);
    expect(await writeChildStatus('default/web-n1', r.status)).toEqual({});
    expect(await writeChildStatus('default/db-n1', r.status)).toEqual({ requeueAfterMs: 1000 });
    expect(r.writes.map((w) => w.name)).toEqual(['web-n1']);
    // An unchanged status asks for no token: nothing to write, nothing to wait for.
    expect(await writeChildStatus('default/web-n1', r.status)).toEqual({});
    // db's unit crashes while it waits: the write, when due, carries that.
    r.node.states.set('sdw-default_db_pg.service', {
      ...r.node.states.get('sdw-default_db_pg.service')!,
      activeState: 'failed',
      subState: 'failed',
    });
    clock = 400;
    const observed = jest.spyOn(r.metrics, 'observe');
    expect(await writeChildStatus('default/db-n1', r.status)).toEqual({ requeueAfterMs: 600 });
    expect(observed).not.toHaveBeenCalled(); // waiting: not even computed
    clock = 1000;
    await writeChildStatus('default/db-n1', r.status);
    expect(r.writes.map((w) => w.name)).toEqual(['web-n1', 'db-n1']);
    expect(r.writes[1]!.body.status).toMatchObject({ units: [expect.objectContaining({ activeState: 'failed' })] });
  });

  it('writes nothing for a child that is gone or being deleted', async () => {
    const r = await synced();
    await writeChildStatus('default/nope-n1', r.status);
    const deleting = child('web', [svc('server')]);
    deleting.metadata.deletionTimestamp = new Date(NOW).toISOString();
    r.children = [deepFreeze(deleting)];
    await writeChildStatus('default/web-n1', r.status);
    expect(r.writes).toHaveLength(0);
  });

  it('asks to come back when a restarting unit will have stayed up long enough', async () => {
    const r = await synced();
    const file = 'sdw-default_web_server.service';
    r.node.states.set(file, { ...r.node.states.get(file), nRestarts: 1 });
    r.node.terminations.set(file, { code: 'killed', status: 9, reason: 'Killed(signal 9)', time: new Date(NOW - 10_000).toISOString() });
    const res = await writeChildStatus('default/web-n1', r.status);
    expect(res.requeueAfterMs).toBe(20_000 + 100);
    expect(r.writes[0]!.body.status).toMatchObject({ phase: 'Pending' });
  });
});

describe('needsNodeSync', () => {
  const c = cached('web', [svc('server')]);
  it('a new, deleted or re-specified child needs a node sync', () => {
    expect(needsNodeSync('add', c)).toBe(true);
    expect(needsNodeSync('delete', c)).toBe(true);
    const changed = child('web', [svc('server', { command: ['/bin/sleep', '1'] })], { generation: 2 });
    expect(needsNodeSync('update', changed, c)).toBe(true);
  });
  it('a status-only change (our own write coming back) does not', () => {
    const echoed = { ...c, metadata: { ...c.metadata, resourceVersion: '2' }, status: { phase: 'Running' as const } };
    expect(needsNodeSync('update', echoed, c)).toBe(false);
  });
});

describe('the agent-sync loop', () => {
  it('folds a burst of child events into one sync pass (one Reload)', async () => {
    const metrics = new Metrics();
    let passes = 0;
    let release!: () => void;
    const idle = new Promise<void>((r) => (release = r));
    const loop = new ControllerLoop(
      'agent-sync',
      () => {
        passes++;
        release();
        return Promise.resolve({});
      },
      metrics,
      log,
      1,
    );
    loop.start();
    // 1,000 units in 32 children arrive as 32 watch events within the batching window.
    for (let i = 0; i < 32; i++) loop.queue.addAfter(NODE_SYNC_KEY, SYNC_BATCH_MS);
    await idle;
    loop.stop();
    expect(await loop.drain(1000)).toBe(true);
    expect(passes).toBe(1);
    expect(loop.queue.length).toBe(0);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="agent-sync",result="success"\} 1/);
    expect(text).toMatch(/workqueue_adds_total\{name="agent-sync"\} 1/);
  });

  it('retries a failing sync with per-key backoff and counts it in the controller-runtime metrics', async () => {
    const metrics = new Metrics();
    const r = rig([cached('web', [svc('server')])]);
    r.store.unwritable = true;
    let attempts = 0;
    let secondAttempt!: () => void;
    const retried = new Promise<void>((res) => (secondAttempt = res));
    const loop = new ControllerLoop(
      'agent-sync',
      async () => {
        attempts++;
        if (attempts === 2) {
          r.store.unwritable = false;
          secondAttempt();
        }
        return syncNode(r.sync);
      },
      metrics,
      log,
      1,
      { baseMs: 10, maxMs: 100 },
    );
    loop.start();
    loop.queue.add(NODE_SYNC_KEY);
    await retried;
    loop.stop();
    await loop.drain(1000);
    expect(sortedFiles(r)).toEqual(['sdw-default_web_server.service']);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/controller_runtime_reconcile_errors_total\{controller="agent-sync"\} 1/);
    expect(text).toMatch(/workqueue_retries_total\{name="agent-sync"\} 1/);
    expect(text).toMatch(/controller_runtime_reconcile_total\{controller="agent-sync",result="success"\} 1/);
    expect(await r.metrics.base.registry.getSingleMetricAsString('sdw_agent_syncs_total')).toMatch(/result="error"\} 1/);
  });

  it('two loops in one process share one longest-running gauge (both queues listed)', async () => {
    const metrics = new Metrics();
    new ControllerLoop('agent-sync', () => Promise.resolve({}), metrics, log, 1);
    new ControllerLoop('agent-status', () => Promise.resolve({}), metrics, log, 4);
    const text = await metrics.registry.getSingleMetricAsString('workqueue_longest_running_processor_seconds');
    expect(text).toContain('name="agent-sync"');
    expect(text).toContain('name="agent-status"');
  });
});

describe('foldSignal: what a PropertiesChanged asks of the loops', () => {
  const tick = svc('tick', { type: 'oneshot', command: ['/bin/true'], schedule: '* * * * *' });
  const TICK = 'sdw-default_cron_tick.service';
  const SERVER = 'sdw-default_web_server.service';
  const UNIT = 'org.freedesktop.systemd1.Unit';
  const SERVICE = 'org.freedesktop.systemd1.Service';

  async function synced(): Promise<Rig> {
    const r = rig([cached('cron', [tick]), cached('web', [svc('server')])]);
    await syncNode(r.sync);
    expect(r.node.timerServices).toEqual(new Set([TICK]));
    return r;
  }

  it("a timer's service that ran and stopped: status only, and a sync then would indeed do nothing", async () => {
    const r = await synced();
    r.bus.units.set(TICK, { loadState: 'loaded', activeState: 'inactive', subState: 'dead', unitFileState: 'static' });
    const fold = (state: string): SignalOutcome => foldSignal(r.node, TICK, { ActiveState: state }, UNIT);
    expect(['activating', 'inactive', 'failed'].map(fold)).toEqual(Array(3).fill({ sync: false, statusOf: 'default/cron-n1' }));
    expect(r.node.states.get(TICK)?.activeState).toBe('failed');
    // The claim the skip rests on: a sync finds nothing to start, restart or write for it.
    r.bus.units.set(TICK, { loadState: 'loaded', activeState: 'failed', subState: 'failed', unitFileState: 'static' });
    r.bus.calls.length = 0;
    await syncNode(r.sync);
    expect(r.bus.calls.filter((c) => c.includes(TICK))).toEqual([]);
  });

  it('a service of ours stopped by hand or failed: the node sync has work (put back, or back-off)', async () => {
    const r = await synced();
    const fold = (state: string): boolean => foldSignal(r.node, SERVER, { ActiveState: state }, UNIT).sync;
    expect(['inactive', 'failed', 'active'].map(fold)).toEqual([true, true, false]);
    expect(foldSignal(r.node, SERVER, { ActiveState: 'failed' }, UNIT).statusOf).toBe('default/web-n1');
  });

  it('records a termination from the Service interface once per exit', async () => {
    const r = await synced();
    const exit = { ExecMainExitTimestamp: 1_714_564_800_000_000n, ExecMainCode: 1, ExecMainStatus: 3, Result: 'exit-code' };
    foldSignal(r.node, SERVER, exit, SERVICE);
    const t = r.node.terminations.get(SERVER);
    expect(t?.time).toBe('2024-05-01T12:00:00.000Z');
    foldSignal(r.node, SERVER, { ...exit, ExecMainStatus: 4 }, SERVICE);
    expect(r.node.terminations.get(SERVER)).toBe(t);
  });

  it('a timer firing updates its timer state; a unit not ours changes nothing', async () => {
    const r = await synced();
    const timer = 'sdw-default_cron_tick.timer';
    expect(foldSignal(r.node, timer, { LastTriggerUSec: 1_714_564_800_000_000n }, 'org.freedesktop.systemd1.Timer')).toEqual({
      sync: false,
      statusOf: 'default/cron-n1',
    });
    expect(r.node.states.get(timer)?.timer?.lastTriggerUSec).toBe('2024-05-01T12:00:00.000Z');
    const before = new Map(r.node.states);
    expect(foldSignal(r.node, 'sshd.service', { ActiveState: 'inactive' }, UNIT)).toEqual({ sync: false });
    expect(r.node.states).toEqual(before);
  });
});
