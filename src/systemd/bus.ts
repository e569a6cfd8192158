// SystemdBus: the node agent's one connection to systemd (org.freedesktop.systemd1)
// over a D-Bus system bus. Imperative shell, no policy. What it adds to dbus-next:
//   - a timeout on every call (dbus-next has none: a lost reply hangs for ever);
//   - at most `maxInFlight` (64) calls awaiting a reply (the bus refuses > 128);
//   - job tracking: startUnit() & co. resolve with the JobRemoved result (jobTracker.ts);
//   - signals for 1000 units through two match rules and the bus-level 'message'
//     handler, not a proxy object per unit;
//   - reconnect: when the bus connection ends (dbus-daemon restart) or systemd leaves
//     the bus (daemon-reexec), pending calls and job waits fail with
//     BusDisconnectedError, the adapter reconnects with backoff, re-adds its match
//     rules, Subscribe()s again and emits 'reconnected': signals may have been
//     missed, so the agent resyncs from getUnitState()/listUnits().
import { EventEmitter } from 'node:events';
import dbus from 'dbus-next';
import type { Message as DBusMessage, MessageBus, Variant } from 'dbus-next';
import { BusDisconnectedError } from './errors.js';
import { JobTracker, type JobRemoved, type JobResult } from './jobTracker.js';
import { UNIT_PATH_PREFIX, unitNameFromPath } from './objectPath.js';
import { timerStateFrom, unitStateFrom, type RawProps, type UnitState } from './properties.js';
import { Semaphore } from './semaphore.js';
import { withTimeout } from '../async/timeout.js';

const SYSTEMD = 'org.freedesktop.systemd1';
const MANAGER_PATH = '/org/freedesktop/systemd1';
const MANAGER = 'org.freedesktop.systemd1.Manager';
const DBUS = 'org.freedesktop.DBus';
const DBUS_PATH = '/org/freedesktop/DBus';
const PROPERTIES = 'org.freedesktop.DBus.Properties';

/** Match rules re-added on every connection (a new connection starts with none). */
export const MATCH_RULES: readonly string[] = [
  `type='signal',sender='${SYSTEMD}',path='${MANAGER_PATH}',interface='${MANAGER}',member='JobRemoved'`,
  `type='signal',sender='${SYSTEMD}',interface='${PROPERTIES}',member='PropertiesChanged',path_namespace='${UNIT_PATH_PREFIX.slice(0, -1)}'`,
  // systemd leaving/rejoining the bus: daemon-reexec, or systemd reconnecting after a dbus restart.
  `type='signal',sender='${DBUS}',path='${DBUS_PATH}',interface='${DBUS}',member='NameOwnerChanged',arg0='${SYSTEMD}'`,
];

export type JobMode = 'replace' | 'fail' | 'isolate' | 'ignore-dependencies' | 'ignore-requirements';
export type { JobResult, JobRemoved };

export type BusLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type BusLog = (level: BusLogLevel, msg: string, fields?: Record<string, unknown>) => void;

export interface SystemdBusOptions {
  /**
   * Per D-Bus call, from send to reply (default 25 s, sd-bus's and dbus-daemon's
   * own default). A PID 1 busy with hundreds of starts on a loaded node answers
   * late, not never: CI saw one StartUnit of 200 pipelined ones go unanswered
   * for 10 s, the old default, which then declared it lost.
   */
  callTimeoutMs?: number;
  /** From a job's creation to its JobRemoved (default 5 min; systemd's own start timeout is 90 s). */
  jobTimeoutMs?: number;
  /** Calls awaiting a reply at once (default 64; the system bus refuses more than 128). */
  maxInFlight?: number;
  /**
   * Jobs queued and not yet removed (default 128). systemd tracks the client of
   * every job with a bus match rule of its own, and dbus-daemon allows it 512
   * (max_match_rules_per_connection): 1000 pipelined StartUnit calls got systemd
   * refused, and it dropped off the bus. Seen here.
   */
  maxJobsInFlight?: number;
  /** For connect() to reach a subscribed systemd (default 15 s). */
  connectTimeoutMs?: number;
  /** Reconnect backoff: first delay and cap (default 100 ms, 5 s). */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  log?: BusLog;
}

export interface PropertiesChangedEvent {
  unit: string;
  path: string;
  /** org.freedesktop.systemd1.Unit, .Service, .Timer, ... */
  interface: string;
  /** Raw values (dbus-next Variants): feed to unitStatePatch(). */
  changed: RawProps;
  invalidated: string[];
}

export type ConnectionCause = 'bus' | 'systemd';

export interface SystemdBusEvents {
  jobRemoved: (e: JobRemoved) => void;
  propertiesChanged: (e: PropertiesChangedEvent) => void;
  /** The connection to systemd is lost; calls wait for the reconnect (up to their timeout). */
  disconnected: (e: { cause: ConnectionCause; error?: string }) => void;
  /** Reconnected and re-subscribed: signals were possibly missed, resync. */
  reconnected: (e: { cause: ConnectionCause }) => void;
}

export interface UnitListEntry {
  name: string;
  description: string;
  loadState: string;
  activeState: string;
  subState: string;
  following: string;
  path: string;
  jobId: number;
  jobType: string;
  jobPath: string;
}

export interface UnitFileChange {
  type: string; // symlink | unlink | ...
  file: string;
  destination: string;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  reject: (e: Error) => void;
}
function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => undefined); // observed by whoever awaits it; never "unhandled"
  return { promise, resolve, reject };
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function dbusErrorName(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'type' in e ? String(e.type) : undefined;
}

const noopLog: BusLog = () => undefined;

export class SystemdBus {
  private readonly events = new EventEmitter();
  private readonly jobs = new JobTracker();
  private readonly sem: Semaphore;
  private readonly jobSem: Semaphore;
  private readonly callTimeoutMs: number;
  private readonly jobTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly backoff: { initial: number; max: number };
  private readonly log: BusLog;

  /** Bumped for every connection attempt: events of an older connection are ignored. */
  private gen = 0;
  private bus: MessageBus | undefined;
  private systemdOwner: string | undefined;
  private subscribing = false;
  private ready = false;
  private gate = deferred<void>();
  private readonly closedGate = deferred<never>();
  private lostCause: ConnectionCause | undefined;
  private reconnecting = false;
  private closed = false;
  private wakeSleep: (() => void) | undefined;
  private readonly inflight = new Set<{ what: string; reject: (e: Error) => void }>();

  private constructor(
    readonly address: string,
    opts: SystemdBusOptions,
  ) {
    this.callTimeoutMs = opts.callTimeoutMs ?? 25_000;
    this.jobTimeoutMs = opts.jobTimeoutMs ?? 300_000;
    this.connectTimeoutMs = opts.connectTimeoutMs ?? 15_000;
    this.sem = new Semaphore(opts.maxInFlight ?? 64);
    this.jobSem = new Semaphore(opts.maxJobsInFlight ?? 128);
    this.backoff = { initial: opts.reconnectInitialDelayMs ?? 100, max: opts.reconnectMaxDelayMs ?? 5_000 };
    this.log = opts.log ?? noopLog;
    this.events.setMaxListeners(100);
  }

  /** Connects to the bus at `address` (e.g. 'unix:path=/run/dbus/system_bus_socket') and subscribes. */
  static async connect(address: string, opts: SystemdBusOptions = {}): Promise<SystemdBus> {
    const b = new SystemdBus(address, opts);
    void b.reconnectLoop();
    try {
      await withTimeout(b.waitReady(), b.connectTimeoutMs, `connect to systemd at ${address}`);
    } catch (e) {
      await b.close();
      throw e;
    }
    return b;
  }

  get connected(): boolean {
    return this.ready;
  }
  /** Calls awaiting a reply now, and calls queued behind the window. */
  get load(): { inFlight: number; queued: number; jobsInFlight: number; jobsQueued: number } {
    return { inFlight: this.sem.inFlight, queued: this.sem.queued, jobsInFlight: this.jobSem.inFlight, jobsQueued: this.jobSem.queued };
  }

  on<E extends keyof SystemdBusEvents>(event: E, listener: SystemdBusEvents[E]): this {
    this.events.on(event, listener);
    return this;
  }
  once<E extends keyof SystemdBusEvents>(event: E, listener: SystemdBusEvents[E]): this {
    this.events.once(event, listener);
    return this;
  }
  off<E extends keyof SystemdBusEvents>(event: E, listener: SystemdBusEvents[E]): this {
    this.events.off(event, listener);
    return this;
  }

  // ---- units and jobs -------------------------------------------------------

  startUnit(name: string, mode: JobMode = 'replace'): Promise<JobResult> {
    return this.job('StartUnit', name, mode);
  }
  stopUnit(name: string, mode: JobMode = 'replace'): Promise<JobResult> {
    return this.job('StopUnit', name, mode);
  }
  restartUnit(name: string, mode: JobMode = 'replace'): Promise<JobResult> {
    return this.job('RestartUnit', name, mode);
  }
  /** The unit's own reload (ExecReload=): the same main process, the same InvocationID. */
  reloadUnit(name: string, mode: JobMode = 'replace'): Promise<JobResult> {
    return this.job('ReloadUnit', name, mode);
  }

  /**
   * StartTransientUnit: a unit made of properties alone (no file), each as
   * [name, D-Bus signature, value]; resolves with its start job's result (for a
   * Type=oneshot unit: once its process exited, 'done' for exit 0).
   */
  startTransientUnit(name: string, props: ReadonlyArray<readonly [string, string, unknown]>, mode: JobMode = 'fail'): Promise<JobResult> {
    const variants = props.map(([k, signature, v]) => [k, new dbus.Variant(signature, v)]);
    return this.job('StartTransientUnit', 'ssa(sv)a(sa(sv))', [name, mode, variants, []], name);
  }

  /** Manager.Reload (daemon-reload): systemd re-reads every unit file; the reply comes when done. */
  async reload(timeoutMs = Math.max(this.callTimeoutMs, 60_000)): Promise<void> {
    await this.call(MANAGER_PATH, MANAGER, 'Reload', '', [], timeoutMs);
  }

  /**
   * Manager.Reexecute (daemon-reexec). systemd never replies: it drops off the bus
   * and comes back; this resolves once it is back and subscribed again.
   */
  async reexecute(timeoutMs = 30_000): Promise<void> {
    const back = new Promise<void>((resolve) => {
      const on = (): void => {
        this.off('reconnected', on);
        resolve();
      };
      this.on('reconnected', on);
    });
    try {
      await this.call(MANAGER_PATH, MANAGER, 'Reexecute', '', []);
    } catch (e) {
      // Expected: "NoReply" from the bus when systemd leaves, or our own disconnect error.
      const name = dbusErrorName(e);
      if (!(e instanceof BusDisconnectedError) && name !== 'org.freedesktop.DBus.Error.NoReply') throw e;
    }
    await withTimeout(back, timeoutMs, 'systemd back after Reexecute');
  }

  /** Manager.EnableUnitFiles. Reload afterwards, as systemctl does. */
  async enableUnitFiles(
    names: string[],
    runtime = false,
    force = true,
  ): Promise<{ carriesInstallInfo: boolean; changes: UnitFileChange[] }> {
    const [carries, changes] = await this.call(MANAGER_PATH, MANAGER, 'EnableUnitFiles', 'asbb', [names, runtime, force]);
    return { carriesInstallInfo: Boolean(carries), changes: toChanges(changes) };
  }

  async disableUnitFiles(names: string[], runtime = false): Promise<UnitFileChange[]> {
    const [changes] = await this.call(MANAGER_PATH, MANAGER, 'DisableUnitFiles', 'asb', [names, runtime]);
    return toChanges(changes);
  }

  /**
   * CleanUnit: removes what systemd keeps of a stopped unit; for a timer, "state"
   * is its Persistent= stamp (/var/lib/systemd/timers/stamp-<timer>), so the
   * same timer installed again does not catch up a run it never owned.
   */
  async cleanUnit(name: string, what: string[]): Promise<void> {
    await this.call(MANAGER_PATH, MANAGER, 'CleanUnit', 'sas', [name, what]);
  }

  async resetFailedUnit(name: string): Promise<void> {
    await this.call(MANAGER_PATH, MANAGER, 'ResetFailedUnit', 's', [name]);
  }

  /** who: 'main' | 'control' | 'all'. */
  async killUnit(name: string, who: 'main' | 'control' | 'all' = 'all', signal = 15): Promise<void> {
    await this.call(MANAGER_PATH, MANAGER, 'KillUnit', 'ssi', [name, who, signal]);
  }

  /** Live resource changes (MemoryMax, CPUQuotaPerSecUSec, TasksMax...) without a restart. */
  async setUnitProperties(name: string, runtime: boolean, props: Array<[string, Variant]>): Promise<void> {
    await this.call(MANAGER_PATH, MANAGER, 'SetUnitProperties', 'sba(sv)', [name, runtime, props]);
  }

  async listUnits(): Promise<UnitListEntry[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER, 'ListUnits', '', []);
    return toUnitList(rows);
  }

  /** Units loaded in memory, filtered by ActiveState/LoadState/SubState and glob patterns. */
  async listUnitsByPatterns(states: string[], patterns: string[]): Promise<UnitListEntry[]> {
    const [rows] = await this.call(MANAGER_PATH, MANAGER, 'ListUnitsByPatterns', 'asas', [states, patterns]);
    return toUnitList(rows);
  }

  /** LoadUnit: the unit's object path (loads it from disk if needed; LoadState tells if found). */
  async loadUnit(name: string): Promise<string> {
    const [path] = await this.call(MANAGER_PATH, MANAGER, 'LoadUnit', 's', [name]);
    return String(path);
  }

  /** Merged raw properties of the unit's interfaces (Unit + Service/Timer/... by suffix). */
  async getUnitProperties(name: string, interfaces = interfacesOf(name)): Promise<Record<string, RawProps>> {
    const path = await this.loadUnit(name);
    const maps = await Promise.all(interfaces.map((i) => this.getAll(path, i)));
    return Object.fromEntries(interfaces.map((i, k) => [i, maps[k] ?? {}]));
  }

  async getUnitState(name: string): Promise<UnitState> {
    const byIface = await this.getUnitProperties(name);
    const unit = byIface['org.freedesktop.systemd1.Unit'] ?? {};
    const service = byIface['org.freedesktop.systemd1.Service'] ?? {};
    const state = unitStateFrom({ ...unit, ...service });
    const timer = byIface['org.freedesktop.systemd1.Timer'];
    if (timer) state.timer = timerStateFrom(timer);
    return state;
  }

  // ---- lifecycle -------------------------------------------------------------

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gen++;
    this.ready = false;
    this.closedGate.reject(new BusDisconnectedError('call', 'closed'));
    this.failInflight('closed');
    this.jobs.abortAll('closed');
    this.wakeSleep?.();
    const bus = this.bus;
    this.bus = undefined;
    if (bus) hangUp(bus);
    this.events.removeAllListeners();
  }

  // ---- internals ---------------------------------------------------------------

  private job(
    method: string,
    ...args: [name: string, mode: JobMode] | [signature: string, body: unknown[], name: string]
  ): Promise<JobResult> {
    const [signature, body, name] = args.length === 2 ? ['ss', [args[0], args[1]], args[0]] : args;
    return this.jobSem.run(async () => {
      const epoch = this.jobs.epoch;
      const [path] = await this.call(MANAGER_PATH, MANAGER, method, signature, body);
      // Lost between the reply and here: the tracker was reset, the JobRemoved may never come.
      if (this.jobs.epoch !== epoch) throw new BusDisconnectedError(`${method}(${name})`, this.lostCause ?? 'bus');
      // JobRemoved may already have been recorded by now: the tracker looks there first.
      const removed = await this.jobs.wait(String(path), this.jobTimeoutMs);
      return removed.result;
    });
  }

  private async getAll(path: string, iface: string): Promise<RawProps | undefined> {
    try {
      const [props] = await this.call(path, PROPERTIES, 'GetAll', 's', [iface]);
      return (props ?? {}) as RawProps;
    } catch (e) {
      // A unit that is not found (or not of that type) has no such interface.
      if (dbusErrorName(e) === 'org.freedesktop.DBus.Error.UnknownInterface') return undefined;
      throw e;
    }
  }

  private async waitReady(): Promise<void> {
    if (this.closed) throw new BusDisconnectedError('call', 'closed');
    if (this.ready) return;
    await Promise.race([this.gate.promise, this.closedGate.promise]);
  }

  /** A call to systemd: waits for a slot in the window and for a ready connection. */
  private async call(
    path: string,
    iface: string,
    member: string,
    signature: string,
    body: unknown[],
    timeoutMs = this.callTimeoutMs,
  ): Promise<unknown[]> {
    const what = `${iface.split('.').pop()}.${member}(${body
      .map((b) => JSON.stringify(b, bigintSafe))
      .join(', ')
      .slice(0, 200)})`;
    await this.sem.acquire();
    try {
      await withTimeout(this.waitReady(), timeoutMs, `${what} (waiting for the bus)`);
      const bus = this.bus;
      if (!bus) throw new BusDisconnectedError(what, this.lostCause ?? 'bus');
      return await this.rawCall(bus, SYSTEMD, path, iface, member, signature, body, timeoutMs, what);
    } finally {
      this.sem.release();
    }
  }

  /** One call on a given connection, with a timeout; failed by failInflight() if the connection drops. */
  private rawCall(
    bus: MessageBus,
    destination: string,
    path: string,
    iface: string,
    member: string,
    signature: string,
    body: unknown[],
    timeoutMs = this.callTimeoutMs,
    what = `${iface}.${member}`,
  ): Promise<unknown[]> {
    const msg = new dbus.Message({ destination, path, interface: iface, member, signature, body });
    let entry: { what: string; reject: (e: Error) => void } | undefined;
    const reply = new Promise<DBusMessage | null>((resolve, reject) => {
      entry = { what, reject };
      this.inflight.add(entry);
      bus.call(msg).then(resolve, reject);
    });
    const dropHandler = (): void => {
      // dbus-next keeps a reply handler per serial for ever; drop it on timeout.
      const handlers = (bus as unknown as { _methodReturnHandlers?: Record<number, unknown> })._methodReturnHandlers;
      if (handlers && msg.serial !== null) delete handlers[msg.serial];
    };
    return withTimeout(reply, timeoutMs, what, dropHandler)
      .then((m) => {
        const body: unknown[] = m?.body ?? [];
        return body;
      })
      .finally(() => {
        if (entry) this.inflight.delete(entry);
      });
  }

  private failInflight(cause: ConnectionCause | 'closed'): void {
    const all = [...this.inflight];
    this.inflight.clear();
    for (const e of all) e.reject(new BusDisconnectedError(e.what, cause));
  }

  private async reconnectLoop(): Promise<void> {
    if (this.reconnecting || this.closed) return;
    this.reconnecting = true;
    let delay = this.backoff.initial;
    try {
      while (!this.closed) {
        try {
          await this.attempt();
          return;
        } catch (e) {
          this.log('warn', 'systemd bus: connect failed, retrying', { address: this.address, error: errText(e), delayMs: delay });
          await this.sleep(delay + Math.floor(Math.random() * delay * 0.2));
          delay = Math.min(delay * 2, this.backoff.max);
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wakeSleep = undefined;
        resolve();
      }, ms);
      this.wakeSleep = () => {
        clearTimeout(t);
        this.wakeSleep = undefined;
        resolve();
      };
    });
  }

  /** One connection attempt: Hello, match rules, then subscribe if systemd is on the bus. */
  private async attempt(): Promise<void> {
    const gen = ++this.gen;
    const bus = dbus.sessionBus({ busAddress: this.address });
    const lost = deferred<never>();
    const onLost = (err?: unknown): void => {
      if (gen !== this.gen) return;
      if (this.bus === bus) this.connectionLost(err);
      else lost.reject(new Error(`connection lost while connecting: ${err === undefined ? 'end of stream' : errText(err)}`));
    };
    bus.on('error', onLost);
    // MessageBus does not forward the end of the stream; its connection does.
    const conn = (bus as unknown as { _connection: EventEmitter & { stream: EventEmitter } })._connection;
    conn.on('end', () => onLost());
    conn.stream.on('close', () => onLost());
    bus.on('message', (m: DBusMessage) => {
      if (gen === this.gen) this.onMessage(bus, m);
    });
    try {
      const hello = new Promise<void>((resolve) => bus.once('connect', () => resolve()));
      await Promise.race([withTimeout(hello, this.callTimeoutMs, 'Hello'), lost.promise]);
      for (const rule of MATCH_RULES) {
        await Promise.race([this.rawCall(bus, DBUS, DBUS_PATH, DBUS, 'AddMatch', 's', [rule]), lost.promise]);
      }
      if (gen !== this.gen) throw new Error('superseded');
      this.bus = bus;
      const [owner] = await this.rawCall(bus, DBUS, DBUS_PATH, DBUS, 'GetNameOwner', 's', [SYSTEMD]).catch(() => [undefined]);
      this.log('info', 'systemd bus: connected', { address: this.address, systemd: owner });
      // If systemd is not on the bus yet (it reconnects after a dbus restart),
      // NameOwnerChanged will bring it: onMessage subscribes then.
      if (typeof owner === 'string' && owner) void this.systemdAppeared(bus, owner);
    } catch (e) {
      if (this.bus === bus) this.bus = undefined;
      hangUp(bus);
      throw e;
    }
  }

  private onMessage(bus: MessageBus, m: DBusMessage): void {
    if (m.type !== dbus.MessageType.SIGNAL) return;
    if (m.member === 'JobRemoved' && m.interface === MANAGER) {
      const [id, job, unit, result] = m.body as [number, string, string, JobResult];
      const e: JobRemoved = { id, job, unit, result };
      this.jobs.jobRemoved(e);
      this.emit('jobRemoved', e);
    } else if (m.member === 'PropertiesChanged' && m.interface === PROPERTIES) {
      const unit = unitNameFromPath(m.path);
      if (unit === undefined) return;
      const [iface, changed, invalidated] = m.body as [string, RawProps, string[]];
      this.emit('propertiesChanged', { unit, path: m.path, interface: iface, changed: changed ?? {}, invalidated: invalidated ?? [] });
    } else if (m.member === 'NameOwnerChanged' && m.interface === DBUS) {
      const [name, oldOwner, newOwner] = m.body as [string, string, string];
      if (name !== SYSTEMD) return;
      if (oldOwner) this.systemdLeft();
      if (newOwner) void this.systemdAppeared(bus, newOwner);
    }
  }

  private emit<E extends keyof SystemdBusEvents>(event: E, arg: Parameters<SystemdBusEvents[E]>[0]): void {
    try {
      this.events.emit(event, arg);
    } catch (e) {
      this.log('error', `systemd bus: a '${event}' listener threw`, { error: errText(e) });
    }
  }

  /** systemd is on the bus (again): Subscribe, then open the gate. */
  private async systemdAppeared(bus: MessageBus, owner: string): Promise<void> {
    if (this.systemdOwner === owner && (this.ready || this.subscribing)) return;
    this.systemdOwner = owner;
    this.subscribing = true;
    try {
      for (let attempt = 0; ; attempt++) {
        if (this.bus !== bus || this.systemdOwner !== owner || this.closed) return;
        try {
          await this.rawCall(bus, SYSTEMD, MANAGER_PATH, MANAGER, 'Subscribe', '', []);
          break;
        } catch (e) {
          // systemd keeps its subscribers across daemon-reexec.
          if (dbusErrorName(e) === 'org.freedesktop.systemd1.AlreadySubscribed') break;
          this.log('warn', 'systemd bus: Subscribe failed, retrying', { error: errText(e), attempt });
          await this.sleep(Math.min(this.backoff.initial * 2 ** attempt, this.backoff.max));
        }
      }
      if (this.bus !== bus || this.systemdOwner !== owner || this.closed) return;
      this.ready = true;
      this.gate.resolve();
      const cause = this.lostCause;
      this.lostCause = undefined;
      this.log('info', 'systemd bus: subscribed', { systemd: owner, after: cause });
      if (cause) this.emit('reconnected', { cause });
    } finally {
      this.subscribing = false;
    }
  }

  private closeGate(cause: ConnectionCause): void {
    if (this.ready) {
      this.ready = false;
      this.gate = deferred<void>();
    }
    // A lost connection outranks systemd leaving (which a dbus restart also causes first).
    if (cause === 'bus' || !this.lostCause) this.lostCause = cause;
  }

  /** systemd left the bus (daemon-reexec, or shutting down): jobs' JobRemoved may never come. */
  private systemdLeft(): void {
    this.systemdOwner = undefined;
    this.closeGate('systemd');
    this.jobs.abortAll('systemd');
    this.log('warn', 'systemd bus: systemd left the bus');
    this.emit('disconnected', { cause: 'systemd' });
  }

  private connectionLost(err?: unknown): void {
    if (this.closed) return;
    const bus = this.bus;
    this.bus = undefined;
    this.systemdOwner = undefined;
    this.gen++; // ignore anything more from the old connection
    this.closeGate('bus');
    this.failInflight('bus');
    this.jobs.abortAll('bus');
    if (bus) hangUp(bus);
    const error = err === undefined ? 'end of stream' : errText(err);
    this.log('warn', 'systemd bus: connection lost, reconnecting', { address: this.address, error });
    this.emit('disconnected', { cause: 'bus', error });
    void this.reconnectLoop();
  }
}

/** disconnect() only half-closes the socket: destroy it too, so no handle outlives close(). */
function hangUp(bus: MessageBus): void {
  try {
    bus.disconnect();
    (bus as unknown as { _connection?: { stream?: { destroy?: () => void } } })._connection?.stream?.destroy?.();
  } catch {
    /* already closed */
  }
}

function bigintSafe(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

/** Unit + the type-specific interface (Result, NRestarts, ExecMain*, cgroup figures). */
export function interfacesOf(name: string): string[] {
  const suffix = name.slice(name.lastIndexOf('.') + 1);
  const typed: Record<string, string> = {
    service: 'org.freedesktop.systemd1.Service',
    timer: 'org.freedesktop.systemd1.Timer',
    socket: 'org.freedesktop.systemd1.Socket',
    scope: 'org.freedesktop.systemd1.Scope',
    slice: 'org.freedesktop.systemd1.Slice',
  };
  const t = typed[suffix];
  return t ? ['org.freedesktop.systemd1.Unit', t] : ['org.freedesktop.systemd1.Unit'];
}

function toUnitList(rows: unknown): UnitListEntry[] {
  if (!Array.isArray(rows)) return [];
  return rows.map((r) => {
    const [name, description, loadState, activeState, subState, following, path, jobId, jobType, jobPath] = r as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      number,
      string,
      string,
    ];
    return { name, description, loadState, activeState, subState, following, path, jobId, jobType, jobPath };
  });
}

function toChanges(rows: unknown): UnitFileChange[] {
  if (!Array.isArray(rows)) return [];
  return rows.map((r) => {
    const [type, file, destination] = r as [string, string, string];
    return { type, file, destination };
  });
}
