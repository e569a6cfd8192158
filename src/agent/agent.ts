// The node agent: the imperative shell around planSync() and childStatus().
// It reads only its own node's children, writes owned unit files, drives
// systemd over D-Bus, and writes each child's status when it changes.
//
// Rules that make it safe to run on a real machine:
// - nothing is removed before the first complete list of this node's children;
// - only files carrying the ownership marker are ever listed, changed or removed;
// - when the API server is unreachable the informer keeps its last view, so the
//   units stay as they were (fail static) and drift repair still works;
// - one daemon Reload per sync, however many files changed.
import * as k8s from '@kubernetes/client-node';
import fastJsonPatch from 'fast-json-patch';
import {
  API_VERSION, UNITSET_KIND, UNITSET_PLURAL,
  type SystemdUnitSet, type SystemdUnitSetStatus,
} from '../api/types.js';
import { CustomObjects, isNotFound, topLevelMergePatch } from '../kube/client.js';
import { EventRecorder } from '../kube/events.js';
import { AGENT_URL_ANNOTATION, Heartbeat } from '../kube/heartbeat.js';
import { Informer, objectKey } from '../kube/informer.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import { SystemdBus } from '../systemd/bus.js';
import { timerStatePatch, unitStatePatch, type UnitState } from '../systemd/properties.js';
import { terminationFrom, type Termination } from '../systemd/termination.js';
import { UnitFileStore } from '../systemd/unitStore.js';
import { AgentMetrics } from './metrics.js';
import { desiredFiles, planSync, type AgentPlan, type DiskFile, type ObservedState } from './plan.js';
import { childStatus, settlesInMs, type Usage } from './status.js';

export interface AgentOptions {
  nodeName: string;
  unitDir: string;
  busAddress: string;
  heartbeatNamespace: string;
  heartbeatPeriodMs: number;
  /** Published on the heartbeat Lease for `kubectl sdw logs`; empty: not published. */
  advertiseUrl?: string;
  usagePeriodMs: number;
  resyncPeriodMs: number;
  watchSilenceMs?: number;
  log: Logger;
  metrics: AgentMetrics;
}

export class Agent {
  readonly informer: Informer<SystemdUnitSet>;
  private bus: SystemdBus | undefined;
  private readonly store: UnitFileStore;
  private readonly childApi: CustomObjects<SystemdUnitSet>;
  private readonly events: EventRecorder;
  private readonly heartbeat: Heartbeat;
  private readonly states = new Map<string, UnitState>();
  private readonly terminations = new Map<string, Termination>();
  private readonly usage = new Map<string, Usage>();
  /** Children whose current spec hash was fully applied. */
  private readonly applied = new Map<string, string>();
  private firstSyncDone = false;
  private syncing: Promise<void> | undefined;
  private syncAgain = false;
  /** A problem with the whole unit directory (it cannot be listed). */
  private nodeError: string | undefined;
  /** The last write error of each file (cleared by the next sync's attempt). */
  private readonly fileErrors = new Map<string, string>();
  private statusTimer: NodeJS.Timeout | undefined;
  private statusDue = 0;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  lastSyncOk = 0;

  constructor(
    private readonly kc: k8s.KubeConfig,
    private readonly opts: AgentOptions,
  ) {
    this.store = new UnitFileStore(opts.unitDir);
    this.childApi = new CustomObjects<SystemdUnitSet>(kc, UNITSET_PLURAL);
    this.events = new EventRecorder(kc, 'systemd-workload-agent', opts.log, opts.nodeName);
    this.heartbeat = new Heartbeat(kc, opts.heartbeatNamespace, opts.nodeName, opts.heartbeatPeriodMs, opts.log,
      opts.advertiseUrl ? { [AGENT_URL_ANNOTATION]: opts.advertiseUrl } : {});
    const [group, version] = API_VERSION.split('/');
    this.informer = new Informer<SystemdUnitSet>(kc, {
      path: `/apis/${group}/${version}/${UNITSET_PLURAL}`,
      apiVersion: API_VERSION,
      kind: UNITSET_KIND,
      fieldSelector: `spec.nodeName=${opts.nodeName}`,
      silenceMs: opts.watchSilenceMs,
      log: opts.log,
    });
  }

  get ready(): boolean {
    return !!this.bus?.connected && this.informer.synced;
  }

  get connectedToSystemd(): boolean {
    return !!this.bus?.connected;
  }

  async start(): Promise<void> {
    const log = this.opts.log;
    this.bus = await SystemdBus.connect(this.opts.busAddress, {
      log: (level, msg, fields) => log[level](msg, fields),
    });
    this.bus.on('propertiesChanged', (e) => this.onProperties(e.unit, e.changed, e.interface));
    this.bus.on('reconnected', ({ cause }) => {
      log.info('systemd connection back, resyncing', { cause });
      this.requestSync();
    });
    await this.store.sweepTemp().catch(() => 0);
    // Children created together (a rollout, a burst of workloads) arrive as a burst of
    // watch events: gather them for a moment so one sync (one Reload) applies them all.
    this.informer.on(() => this.requestSyncSoon());
    this.heartbeat.start();
    // The first sync waits for the first complete list (informer.start resolves then).
    await this.informer.start();
    this.requestSync();
    this.timers.push(setInterval(() => this.requestSync(), this.opts.resyncPeriodMs));
    this.timers.push(setInterval(() => void this.sampleUsage(), this.opts.usagePeriodMs));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.timers.forEach((t) => clearInterval(t));
    if (this.soon) clearTimeout(this.soon);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.heartbeat.stop();
    this.informer.stop();
    await this.syncing?.catch(() => undefined);
    await this.bus?.close();
  }

  private ourChildren(): SystemdUnitSet[] {
    return this.informer.list().filter((c) => c.spec?.nodeName === this.opts.nodeName);
  }

  private soon: NodeJS.Timeout | undefined;
  requestSyncSoon(delayMs = 50): void {
    if (this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.requestSync();
    }, delayMs);
  }

  /** Coalesces requests: at most one sync runs, and one more follows if asked meanwhile. */
  requestSync(): void {
    if (this.stopped || !this.informer.synced) return;
    if (this.syncing) {
      this.syncAgain = true;
      return;
    }
    this.syncing = (async () => {
      do {
        this.syncAgain = false;
        const end = this.opts.metrics.syncDuration.startTimer();
        try {
          await this.sync();
          this.opts.metrics.syncs.inc({ result: 'success' });
        } catch (err) {
          this.opts.metrics.syncs.inc({ result: 'error' });
          this.opts.log.warn('sync failed; retrying at the next resync', { error: errorMessage(err) });
        } finally {
          end();
        }
      } while (this.syncAgain && !this.stopped);
    })().finally(() => {
      this.syncing = undefined;
    });
  }

  /** Waits until no sync is running (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.syncing) await this.syncing;
  }

  private async sync(): Promise<void> {
    const bus = this.bus!;
    const children = this.ourChildren();
    const desired = desiredFiles(children);
    let disk: Map<string, DiskFile>;
    try {
      disk = new Map((await this.store.listOwned()).map((f) => [f.name, { file: f.name, content: f.content }]));
    } catch (err) {
      this.nodeError = errorMessage(err);
      this.scheduleStatus(0);
      throw err;
    }
    const names = new Set([...desired.keys(), ...disk.keys()]);
    // A unit with no file yet is new: planSync writes and starts it whatever systemd
    // says, so asking systemd about it first (LoadUnit + GetAll) is wasted work.
    await Promise.all([...names].filter((n) => disk.has(n)).map((n) => this.refreshState(n)));
    const observed = new Map<string, ObservedState>([...names].map((n) => [n, this.states.get(n) ?? {}]));
    const plan = planSync(desired, disk, observed, { firstSyncDone: this.firstSyncDone });
    const failed = await this.execute(plan, bus);
    if (plan.write.length || plan.remove.length || plan.start.length || plan.restart.length) {
      this.opts.log.info('sync applied', {
        written: plan.write.length, removed: plan.remove.length, started: plan.start.length,
        restarted: plan.restart.length, live: plan.liveUpdate.length, repaired: plan.repaired.length,
      });
    }
    for (const r of plan.repaired) {
      const d = desired.get(r.file);
      const child = children.find((c) => `${c.metadata.namespace}/${c.metadata.name}` === d?.child);
      this.opts.metrics.repairs.inc({ what: r.what });
      if (child) await this.events.record(child, 'Warning', 'DriftRepaired', `unit ${r.file} was ${r.what} by hand on ${this.opts.nodeName}; put back as specified`);
    }
    this.firstSyncDone = true;
    for (const c of children) {
      const key = objectKey(c);
      const files = (c.spec.units ?? []).flatMap((u) => u.files.map((f) => f.name));
      if (files.every((f) => !failed.has(f))) this.applied.set(key, c.spec.hash);
    }
    for (const n of names) if (!desired.has(n)) this.forget(n);
    // Units the plan did not touch keep the state read above, kept current by signals.
    const touched = new Set([...plan.write.map((w) => w.file), ...plan.start, ...plan.restart]);
    await Promise.all([...desired.keys()].filter((n) => touched.has(n) || !this.states.has(n)).map((n) => this.refreshState(n)));
    this.lastSyncOk = Date.now();
    this.scheduleStatus(0);
  }

  /** Carries out a plan; returns the files whose write or job failed. */
  private async execute(plan: AgentPlan, bus: SystemdBus): Promise<Set<string>> {
    const failed = new Set<string>();
    const log = this.opts.log;
    if (plan.remove.length) {
      await Promise.all(plan.remove.map((f) => bus.stopUnit(f).catch((err) => log.warn('stop failed', { unit: f, error: errorMessage(err) }))));
      await bus.disableUnitFiles(plan.remove).catch((err) => log.warn('disable failed', { error: errorMessage(err) }));
      for (const f of plan.remove) await this.store.remove(f);
    }
    this.nodeError = undefined;
    this.fileErrors.clear();
    const writeErrors = await this.store.writeMany(plan.write.map((d) => ({ name: d.file, content: d.content })));
    for (const [file, err] of writeErrors) {
      failed.add(file);
      this.fileErrors.set(file, errorMessage(err));
      log.error('unit file write failed', { unit: file, error: errorMessage(err) });
    }
    if (plan.reload) await bus.reload();
    if (plan.remove.length) {
      await Promise.all(plan.remove.map((f) => bus.resetFailedUnit(f).catch(() => undefined)));
    }
    // A failed unit whose spec changed gets a fresh start (and start-limit counter).
    await Promise.all(plan.resetFailed.map((f) => bus.resetFailedUnit(f).catch(() => undefined)));
    const jobs: Array<Promise<void>> = [];
    const run = (f: string, how: 'start' | 'restart'): void => {
      if (failed.has(f)) return;
      const p = how === 'start' ? bus.startUnit(f) : bus.restartUnit(f);
      jobs.push(p.then((result) => {
        if (result !== 'done') log.warn('job did not finish cleanly', { unit: f, job: how, result });
      }, (err) => {
        failed.add(f);
        log.warn('job failed', { unit: f, job: how, error: errorMessage(err) });
      }));
    };
    plan.start.forEach((f) => run(f, 'start'));
    plan.restart.forEach((f) => run(f, 'restart'));
    await Promise.all(jobs);
    // Enabling (the boot-time symlinks) does not gate running: it comes after the starts,
    // so systemd's main loop serves the jobs first. A unit left disabled (enable failed,
    // agent killed in between) is enabled by a later sync (planSync sees UnitFileState).
    const enable = plan.enable.filter((f) => !failed.has(f));
    if (enable.length) {
      await bus.enableUnitFiles(enable).catch((err) => log.warn('enable failed', { error: errorMessage(err) }));
    }
    // Live resource changes (MemoryMax, CPUQuota, TasksMax, CPUWeight) took effect
    // with the Reload above: systemd re-applies cgroup settings to running units.
    for (const l of plan.liveUpdate) log.info('resources changed live, no restart', { unit: l.file, ...l.directives });
    return failed;
  }

  private forget(file: string): void {
    this.states.delete(file);
    this.terminations.delete(file);
    this.usage.delete(file);
    this.opts.metrics.forget(file);
  }

  private async refreshState(file: string): Promise<void> {
    try {
      const st = await this.bus!.getUnitState(file);
      this.states.set(file, st);
    } catch (err) {
      this.opts.log.debug('unit state unavailable', { unit: file, error: errorMessage(err) });
    }
  }

  /** Signals from systemd: a crash is in status within moments, not at the next poll. */
  private onProperties(unit: string, changed: Record<string, unknown>, iface = ''): void {
    const prev = this.states.get(unit);
    if (!prev) return; // not one of ours (or not yet known)
    if (iface === 'org.freedesktop.systemd1.Timer') {
      // LastTriggerUSec, NextElapseUSecRealtime, Result: a timer firing shows at once.
      this.states.set(unit, { ...prev, timer: { ...prev.timer, ...timerStatePatch(changed) } });
      this.scheduleStatus(100);
      return;
    }
    const patch = unitStatePatch(changed);
    const next: UnitState = { ...prev, ...patch };
    if (changed.Timer === undefined && (patch.execMainExitTimestamp || patch.result) && next.execMainExitTimestamp
      && next.execMainExitTimestamp !== this.terminations.get(unit)?.time) {
      const t = terminationFrom(next, { lastMemoryBytes: this.usage.get(unit)?.memoryBytes });
      if (t) this.terminations.set(unit, t);
    }
    this.states.set(unit, next);
    // A unit of ours stopped by hand: put it back (planSync decides whether it should run).
    if (patch.activeState === 'inactive') this.requestSync();
    this.scheduleStatus(100);
  }

  private async sampleUsage(): Promise<void> {
    for (const file of this.states.keys()) {
      if (!file.endsWith('.service')) continue;
      try {
        const st = await this.bus!.getUnitState(file);
        const prev = this.states.get(file);
        if (prev) this.states.set(file, { ...prev, memoryCurrent: st.memoryCurrent, cpuUsageNSec: st.cpuUsageNSec, tasksCurrent: st.tasksCurrent, nRestarts: st.nRestarts });
        this.usage.set(file, { memoryBytes: st.memoryCurrent, cpuNanoseconds: st.cpuUsageNSec, tasks: st.tasksCurrent });
      } catch {
        /* the next sample will tell */
      }
    }
    this.scheduleStatus(0);
  }

  /** Runs a status pass after delayMs; an earlier request replaces a later pending one. */
  private scheduleStatus(delayMs: number): void {
    if (this.stopped) return;
    const due = Date.now() + delayMs;
    if (this.statusTimer) {
      if (this.statusDue <= due) return;
      clearTimeout(this.statusTimer);
    }
    this.statusDue = due;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      void this.writeStatuses();
    }, delayMs);
  }

  /** The directory's problem, else the first write error among this child's files. */
  private errorOf(child: SystemdUnitSet): string | undefined {
    if (this.nodeError) return this.nodeError;
    for (const u of child.spec.units ?? []) {
      for (const f of u.files) {
        const e = this.fileErrors.get(f.name);
        if (e) return e;
      }
    }
    return undefined;
  }

  private async writeStatuses(): Promise<void> {
    let retry = false;
    let settle: number | undefined;
    for (const child of this.ourChildren()) {
      if (child.metadata.deletionTimestamp) continue;
      const key = objectKey(child);
      const status: SystemdUnitSetStatus = childStatus({
        child, states: this.states, terminations: this.terminations, usage: this.usage,
        applied: this.applied.get(key) === child.spec.hash, error: this.errorOf(child), now: Date.now(),
      });
      this.opts.metrics.observe(child, status);
      const s = settlesInMs(status.units ?? [], Date.now());
      if (s !== undefined) settle = Math.min(settle ?? Infinity, s);
      const prev = child.status ?? {};
      // readySince is carried over inside childStatus; compare everything else as is.
      if (fastJsonPatch.compare(prev, status).length === 0) continue;
      try {
        const updated = await this.childApi.patchStatus(child.metadata.namespace!, child.metadata.name!, {
          status: topLevelMergePatch(prev as Record<string, unknown>, status as unknown as Record<string, unknown>),
        });
        // Keep our cache ahead of the watch so the next comparison is against what we wrote.
        child.status = updated.status;
        this.opts.metrics.statusWrites.inc();
      } catch (err) {
        if (!isNotFound(err)) {
          retry = true;
          this.opts.log.warn('status write failed; units unaffected, retrying', { child: key, error: errorMessage(err) });
        }
      }
    }
    if (retry) this.scheduleStatus(2000);
    // A restarting unit becomes ready by time alone, once it has stayed up.
    else if (settle !== undefined) this.scheduleStatus(settle + 100);
  }
}
