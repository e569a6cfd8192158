// The agent's two reconcilers, each run by a ControllerLoop over its own queue:
// - syncNode (one key, the node): the owned unit files and systemd made as this
//   node's children ask, by planSync; one daemon Reload per pass, however many
//   children changed;
// - writeChildStatus (one key per child): the child's status from what systemd
//   reports, by childStatus, written only when it changed.
// They read the informer's objects and never change them: a status is computed
// into a new object, and what was last written is remembered here, not in the cache.
import { LABEL_WORKLOAD, type SystemdUnitSet, type SystemdUnitSetStatus } from '../api/types.js';
import { UNIT_PREFIX } from '../api/names.js';
import { isNotFound } from '../kube/apiErrors.js';
import { statusDiffers, writeStatusIfChanged } from '../kube/statusWrite.js';
import type { KeyedPacer } from '../kube/rateLimit.js';
import type { ReconcileResult } from '../kube/controllerLoop.js';
import { objectKey } from '../kube/informer.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import type { SystemdBus } from '../systemd/bus.js';
import type { UnitState } from '../systemd/properties.js';
import type { Termination } from '../systemd/termination.js';
import type { UnitFileStore } from '../systemd/unitStore.js';
import type { AgentMetrics } from './metrics.js';
import { desiredFiles, planSync, type AgentPlan, type DesiredFile, type DiskFile, type ObservedState } from './plan.js';
import { filesUsedBy, type FileDelivery } from './files.js';
import { childStatus, settlesInMs, type Usage } from './status.js';
import { afterAgentStart, planBackOff, type BackOffRecord, type BackOffUnit } from './backoff.js';
import { DEFAULT_MAX_RESTART_DELAY_SECONDS, defaultRestartPolicy } from '../api/defaults.js';
import type { ArtifactStore } from './artifacts.js';
import type { UnitProbes } from './probes.js';
import { noteTermination } from './signals.js';

/** The sync queue's only key: every change of the node's children folds into it. */
export const NODE_SYNC_KEY = 'node';

/**
 * How long the node sync waits after a child event for the rest of its burst (a
 * rollout or `kubectl apply` of many workloads arrives as a burst of watch events):
 * each event of the burst waits this long again, so the whole burst is one sync,
 * one Reload (burst.ts) ...
 */
export const SYNC_BATCH_MS = 50;
/** ... but a burst that never goes quiet is synced this long after its first event. */
export const SYNC_BATCH_MAX_MS = 1_000;

/** Signals come in storms (a restart is several PropertiesChanged): one status pass per storm. */
export const SIGNAL_STATUS_DELAY_MS = 100;

export type AgentBus = Pick<
  SystemdBus,
  | 'getUnitState'
  | 'stopUnit'
  | 'cleanUnit'
  | 'disableUnitFiles'
  | 'reload'
  | 'resetFailedUnit'
  | 'startUnit'
  | 'restartUnit'
  | 'reloadUnit'
  | 'enableUnitFiles'
>;
export type AgentStore = Pick<UnitFileStore, 'listOwned' | 'writeMany' | 'remove'>;

/** What a status write needs of the API: a merge patch of the status subresource. */
export interface StatusWriter {
  patchStatus(namespace: string, name: string, body: object): Promise<SystemdUnitSet>;
}

/** Events about children (DriftRepaired); recording never throws. */
export interface EventSink {
  record(obj: SystemdUnitSet, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

/**
 * What the agent knows of its node between passes: unit states from systemd,
 * terminations caught from signals, the last usage sample, which child hashes
 * were fully applied, and the errors to report.
 */
export class NodeState {
  readonly states = new Map<string, UnitState>();
  readonly terminations = new Map<string, Termination>();
  readonly usage = new Map<string, Usage>();
  /** Child key -> the spec hash whose files were all written and whose jobs all ran. */
  readonly applied = new Map<string, string>();
  /** Unit file -> the key of the child it belongs to (as of the last sync). */
  owners = new Map<string, string>();
  /** The services its timers start (as of the last sync): their stops need no sync (signals.ts). */
  timerServices = new Set<string>();
  firstSyncDone = false;
  /** A problem with the whole unit directory (it cannot be listed). */
  nodeError: string | undefined;
  /** Crash-loop back-off per service file (backoff.ts), seeded from the child's status after an agent restart. */
  readonly backOff = new Map<string, BackOffRecord>();
  /** The last write error of each file (cleared by the next sync's attempt). */
  readonly fileErrors = new Map<string, string>();
  /** Child key -> why its artifacts are not staged (its units are held as they are). */
  artifactErrors = new Map<string, string>();

  /** The directory's problem, else the child's artifacts' problem, else the first write error among its files. */
  errorOf(child: SystemdUnitSet): string | undefined {
    if (this.nodeError) return this.nodeError;
    const artifacts = this.artifactErrors.get(objectKey(child));
    if (artifacts) return artifacts;
    for (const u of child.spec.units ?? []) {
      for (const f of u.files) {
        const e = this.fileErrors.get(f.name);
        if (e) return e;
      }
    }
    return undefined;
  }
}

/**
 * The status this agent last wrote to each child, until the informer's copy shows
 * that write (same resourceVersion): the next comparison is against what we wrote,
 * not against a cache a moment behind, so an unchanged status is not written twice.
 */
export class WrittenStatuses {
  private readonly byKey = new Map<string, { uid?: string; resourceVersion?: string; status?: SystemdUnitSetStatus }>();

  /** The child's status as far as this agent knows: its own last write, else the cache's. */
  current(child: SystemdUnitSet): SystemdUnitSetStatus | undefined {
    const key = objectKey(child);
    const w = this.byKey.get(key);
    if (!w) return child.status;
    if (w.uid !== child.metadata.uid || w.resourceVersion === child.metadata.resourceVersion) {
      this.byKey.delete(key);
      return child.status;
    }
    return w.status;
  }

  wrote(key: string, updated: SystemdUnitSet): void {
    this.byKey.set(key, { uid: updated.metadata.uid, resourceVersion: updated.metadata.resourceVersion, status: updated.status });
  }

  /** The informer delivered this version of the child: our write, if it is that one, is in the cache now. */
  seen(child: SystemdUnitSet): void {
    const key = objectKey(child);
    if (this.byKey.get(key)?.resourceVersion === child.metadata.resourceVersion) this.byKey.delete(key);
  }

  forget(key: string): void {
    this.byKey.delete(key);
  }
}

export interface SyncDeps {
  nodeName: string;
  /** This node's children, from the informer's cache (read only). */
  children(): readonly SystemdUnitSet[];
  store: AgentStore;
  bus: AgentBus;
  node: NodeState;
  events: EventSink;
  metrics: AgentMetrics;
  log: Logger;
  /** These children's statuses may have changed: queue their status keys. */
  statusDue(keys: string[]): void;
  /** The files beside the units (files.ts); without it the children's spec.files are not written. */
  files?: Pick<FileDelivery, 'sync'>;
  /** The node's artifacts (artifacts.ts); absent: children with artifacts are not staged (tests of the rest). */
  artifacts?: Pick<ArtifactStore, 'stage' | 'activate' | 'sweep'>;
}

/**
 * One node sync: list the owned files, read the state of their units, plan, carry
 * the plan out (one Reload), record what was applied. Throws when anything was not
 * applied, so the loop retries the node with backoff.
 */
export async function syncNode(deps: SyncDeps): Promise<ReconcileResult> {
  const { node, log } = deps;
  const children = deps.children();
  const childKeys = children.map(objectKey);
  const end = deps.metrics.syncDuration.startTimer();
  try {
    // Stage, then activate: a child whose artifacts are not all on the node keeps its units as they are.
    const staged = deps.artifacts ? await deps.artifacts.stage(children) : { blocked: new Map<string, string>() };
    node.artifactErrors = staged.blocked;
    const desired = desiredFiles([...children]);
    let disk: Map<string, DiskFile>;
    try {
      disk = new Map((await deps.store.listOwned()).map((f) => [f.name, { file: f.name, content: f.content }]));
    } catch (err) {
      node.nodeError = errorMessage(err);
      deps.statusDue(childKeys);
      throw err;
    }
    holdBlocked(desired, disk, staged.blocked, unitPrefixes(children));
    const names = new Set([...desired.keys(), ...disk.keys()]);
    // A unit with no file yet is new: planSync writes and starts it whatever systemd
    // says, so asking systemd about it first (LoadUnit + GetAll) is wasted work.
    await Promise.all([...names].filter((n) => disk.has(n)).map((n) => refreshState(deps, n)));
    const observed = new Map<string, ObservedState>([...names].map((n) => [n, node.states.get(n) ?? {}]));
    const planned = planSync(desired, disk, observed, { firstSyncDone: node.firstSyncDone });
    const { plan, blocked } = await deliverFiles(deps, children, desired, planned, staged.blocked);
    await activateArtifacts(deps, children, staged.blocked, blocked);
    const failed = await execute(plan, deps);
    for (const [file, why] of blocked) {
      failed.add(file);
      node.fileErrors.set(file, why);
    }
    if (plan.write.length || plan.remove.length || plan.start.length || plan.restart.length) {
      log.info('sync applied', {
        written: plan.write.length,
        removed: plan.remove.length,
        started: plan.start.length,
        restarted: plan.restart.length,
        live: plan.liveUpdate.length,
        repaired: plan.repaired.length,
      });
    }
    for (const r of plan.repaired) {
      const d = desired.get(r.file);
      const child = children.find((c) => objectKey(c) === d?.child);
      deps.metrics.repairs.inc({ what: r.what });
      if (child)
        await deps.events.record(
          child,
          'Warning',
          'DriftRepaired',
          `unit ${r.file} was ${r.what} by hand on ${deps.nodeName}; put back as specified`,
        );
    }
    node.firstSyncDone = true;
    const current = new Set(childKeys);
    for (const k of node.applied.keys()) if (!current.has(k)) node.applied.delete(k);
    for (const c of children) {
      const files = (c.spec.units ?? []).flatMap((u) => u.files.map((f) => f.name));
      if (files.every((f) => !failed.has(f)) && !staged.blocked.has(objectKey(c))) node.applied.set(objectKey(c), c.spec.hash);
    }
    await deps.artifacts?.sweep(children);
    for (const n of names) if (!desired.has(n)) forget(deps, n);
    node.owners = new Map([...desired.values()].map((d) => [d.file, d.child]));
    node.timerServices = new Set([...desired.values()].filter((d) => d.role === 'timer-service').map((d) => d.file));
    // Units the plan did not touch keep the state read above, kept current by signals.
    const touched = new Set([...plan.write.map((w) => w.file), ...plan.start, ...plan.restart]);
    await Promise.all([...desired.keys()].filter((n) => touched.has(n) || !node.states.has(n)).map((n) => refreshState(deps, n)));
    const backOff = await runBackOff(deps, children, touched);
    deps.statusDue(childKeys);
    if (failed.size > 0) throw new Error(`${failed.size} unit(s) not applied: ${[...failed].sort().slice(0, 5).join(', ')}`);
    deps.metrics.syncs.inc({ result: 'success' });
    const next = Math.min(backOff.nextInMs ?? Infinity, staged.retryInMs ?? Infinity);
    return next === Infinity ? {} : { requeueAfterMs: next + SIGNAL_STATUS_DELAY_MS };
  } catch (err) {
    deps.metrics.syncs.inc({ result: 'error' });
    throw err;
  } finally {
    end();
  }
}

/**
 * The files of children whose artifacts are not staged stay exactly as they are
 * on disk, so their units keep running the previous version untouched: changed
 * files keep their old content, files the new version adds are not written, and
 * files it drops are not removed (`prefixes`: the unit file prefix
 * sdw-<namespace>_<workload>_ of each blocked child).
 */
export function holdBlocked(
  desired: Map<string, DesiredFile>,
  disk: ReadonlyMap<string, DiskFile>,
  blocked: ReadonlyMap<string, string>,
  prefixes: ReadonlyMap<string, string>,
): void {
  for (const [file, d] of desired) {
    if (!blocked.has(d.child)) continue;
    const onDisk = disk.get(file);
    if (onDisk) desired.set(file, { ...d, content: onDisk.content });
    else desired.delete(file);
  }
  for (const [file, f] of disk) {
    if (desired.has(file)) continue;
    const child = [...prefixes].find(([key, prefix]) => blocked.has(key) && file.startsWith(prefix))?.[0];
    // Kept as it is: never started or restarted by the agent while held (restart Never, a plain service).
    if (child) {
      const role = file.endsWith('.timer') ? 'timer' : 'timer-service';
      desired.set(file, { file, content: f.content, child, unit: '', role, type: 'service', restart: 'Never' });
    }
  }
}

/** Child key -> sdw-<namespace>_<workload>_, the prefix of its unit files. */
function unitPrefixes(children: readonly SystemdUnitSet[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of children) {
    const workload = c.metadata.labels?.[LABEL_WORKLOAD];
    if (workload) out.set(objectKey(c), `${UNIT_PREFIX}${c.metadata.namespace}_${workload}_`);
  }
  return out;
}

/** Carries out a plan; returns the files whose write or job failed. */
async function execute(plan: AgentPlan, deps: SyncDeps): Promise<Set<string>> {
  const { bus, log, node } = deps;
  const failed = new Set<string>();
  if (plan.remove.length) {
    await Promise.all(
      plan.remove.map((f) => bus.stopUnit(f).catch((err) => log.warn('stop failed', { unit: f, error: errorMessage(err) }))),
    );
    // A removed timer leaves no Persistent= stamp: applied again, it must not catch up a run
    // of the workload that was deleted. Cleaned while still loaded (it names the stamp's path).
    await Promise.all(
      plan.remove
        .filter((f) => f.endsWith('.timer'))
        .map((f) => bus.cleanUnit(f, ['state']).catch((err) => log.warn('clean failed', { unit: f, error: errorMessage(err) }))),
    );
    await bus.disableUnitFiles(plan.remove).catch((err) => log.warn('disable failed', { error: errorMessage(err) }));
    for (const f of plan.remove) await deps.store.remove(f);
  }
  node.nodeError = undefined;
  node.fileErrors.clear();
  const writeErrors = await deps.store.writeMany(plan.write.map((d) => ({ name: d.file, content: d.content })));
  for (const [file, err] of writeErrors) {
    failed.add(file);
    node.fileErrors.set(file, errorMessage(err));
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
    jobs.push(
      p.then(
        (result) => {
          if (result !== 'done') log.warn('job did not finish cleanly', { unit: f, job: how, result });
        },
        (err) => {
          failed.add(f);
          log.warn('job failed', { unit: f, job: how, error: errorMessage(err) });
        },
      ),
    );
  };
  plan.start.forEach((f) => run(f, 'start'));
  plan.restart.forEach((f) => run(f, 'restart'));
  await Promise.all(jobs);
  // A reload-mode file changed: the unit's own reload, same process (after the Reload above wrote its new hash).
  await Promise.all(
    plan.reloadUnits.map((f) =>
      bus.reloadUnit(f).then(
        (result) => log.info('unit reloaded for a changed file', { unit: f, result }),
        (err) => log.warn('reload failed', { unit: f, error: errorMessage(err) }),
      ),
    ),
  );
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

/**
 * The crash-loop back-off (backoff.ts) over this node's restarting services: starts
 * the failed ones that are due, remembers when the others are. Units this pass
 * wrote or started begin a fresh record (a new spec is a new start, as a new Pod).
 */
async function runBackOff(deps: SyncDeps, children: readonly SystemdUnitSet[], touched: Set<string>) {
  const { node, bus, log } = deps;
  const units: BackOffUnit[] = [];
  for (const c of children) {
    for (const u of c.spec.units ?? []) {
      const file = u.files.find((f) => f.name.endsWith('.service'))?.name;
      if (!file) continue;
      if (touched.has(file)) node.backOff.delete(file);
      let record = node.backOff.get(file);
      if (!record) {
        const st = touched.has(file) ? undefined : c.status?.units?.find((x) => x.name === u.name);
        record = { attempts: st?.backOffAttempts ?? 0, earlierRestarts: st?.earlierRestarts ?? 0 };
      }
      units.push({
        file,
        policy: u.restart ?? defaultRestartPolicy(u.type, u.scheduled),
        scheduled: u.scheduled,
        delaySeconds: u.backOff?.delaySeconds ?? 0,
        maxDelaySeconds: u.backOff?.maxDelaySeconds ?? DEFAULT_MAX_RESTART_DELAY_SECONDS,
        state: node.states.get(file),
        record,
      });
    }
  }
  const plan = planBackOff(units, Date.now());
  for (const f of node.backOff.keys()) if (!plan.records.has(f)) node.backOff.delete(f);
  for (const [f, r] of plan.records) node.backOff.set(f, r);
  await Promise.all(
    plan.start.map(async (f) => {
      node.backOff.set(f, afterAgentStart(plan.records.get(f)!, node.states.get(f)));
      log.info('back-off over, starting the failed unit again', { unit: f, attempt: node.backOff.get(f)!.attempts });
      await bus.resetFailedUnit(f).catch(() => undefined);
      const result = await bus.startUnit(f).catch((err) => errorMessage(err));
      if (result !== 'done') log.warn('back-off start did not finish cleanly', { unit: f, result });
      await refreshState(deps, f);
    }),
  );
  return plan;
}

/**
 * The files beside the units, before any unit job: a unit starts, restarts or
 * reloads only once every file it uses is in place; the units of a file that
 * could not be written wait (their old version keeps running), with the reason.
 */
async function deliverFiles(
  deps: SyncDeps,
  children: readonly SystemdUnitSet[],
  desired: Map<string, DesiredFile>,
  plan: AgentPlan,
  artifactsBlocked: ReadonlyMap<string, string>,
): Promise<{ plan: AgentPlan; blocked: Map<string, string> }> {
  if (!deps.files) return { plan, blocked: new Map() };
  // A child held for its artifacts keeps its files as they are, as holdBlocked keeps its units.
  const failures = await deps.files.sync(children, deps.node.firstSyncDone, (c) => artifactsBlocked.has(objectKey(c)));
  const blocked = unitsBlockedByFiles(desired, failures);
  return { plan: blocked.size > 0 ? withoutUnits(plan, blocked) : plan, blocked };
}

/**
 * Artifacts and files are both in place before anything a unit sees changes: a
 * child's new artifacts become current only when they are all staged and none
 * of its units waits for a file (`fileBlocked`: unit files).
 */
async function activateArtifacts(
  deps: SyncDeps,
  children: readonly SystemdUnitSet[],
  artifactsBlocked: ReadonlyMap<string, string>,
  fileBlocked: ReadonlyMap<string, string>,
): Promise<void> {
  if (!deps.artifacts) return;
  for (const c of children) {
    const waits = (c.spec.units ?? []).some((u) => u.files.some((f) => fileBlocked.has(f.name)));
    if (!artifactsBlocked.has(objectKey(c)) && !waits) await deps.artifacts.activate(c);
  }
}

/** Unit files whose units use a file that could not be written, with why. */
function unitsBlockedByFiles(desired: Map<string, DesiredFile>, fileFailures: Map<string, string>): Map<string, string> {
  const blocked = new Map<string, string>();
  if (fileFailures.size === 0) return blocked;
  for (const d of desired.values()) {
    const path = filesUsedBy(d.content).find((p) => fileFailures.has(p));
    if (path) blocked.set(d.file, `file ${path}: ${fileFailures.get(path)}`);
  }
  return blocked;
}

function withoutUnits(plan: AgentPlan, blocked: Map<string, string>): AgentPlan {
  const keep = (f: string) => !blocked.has(f);
  return {
    ...plan,
    write: plan.write.filter((d) => keep(d.file)),
    enable: plan.enable.filter(keep),
    start: plan.start.filter(keep),
    restart: plan.restart.filter(keep),
    reloadUnits: plan.reloadUnits.filter(keep),
    resetFailed: plan.resetFailed.filter(keep),
    liveUpdate: plan.liveUpdate.filter((l) => keep(l.file)),
  };
}

function forget(deps: SyncDeps, file: string): void {
  deps.node.backOff.delete(file);
  deps.node.states.delete(file);
  deps.node.terminations.delete(file);
  deps.node.usage.delete(file);
  deps.metrics.forget(file);
}

async function refreshState(deps: SyncDeps, file: string): Promise<void> {
  try {
    const state = await deps.bus.getUnitState(file);
    deps.node.states.set(file, state);
    noteTermination(deps.node, file, state);
  } catch (err) {
    deps.log.debug('unit state unavailable', { unit: file, error: errorMessage(err) });
  }
}

export interface StatusDeps {
  /** The child of this key in the informer's cache (read only). */
  child(key: string): SystemdUnitSet | undefined;
  node: NodeState;
  written: WrittenStatuses;
  api: StatusWriter;
  metrics: AgentMetrics;
  now(): number;
  /** This node's sealing key (files.ts), published in every child's status for the controller. */
  sealingKey?: string;
  /** The probe states of a child's units (src/agent/probes.ts). */
  probes?(key: string): Map<string, UnitProbes>;
  /**
   * The node's status write rate (--status-qps/--status-burst): how long this
   * child's changed status waits for its turn (0: write now). Absent: no limit.
   */
  pacer?: Pick<KeyedPacer, 'waitMs' | 'pendingMs' | 'forget'>;
}

/**
 * One child's status: computed from the node's state into a new object, written
 * when it differs from the child's current status. Asks to come back when a
 * restarting unit will have stayed up long enough to count as ready.
 */
export async function writeChildStatus(key: string, deps: StatusDeps): Promise<ReconcileResult> {
  const cached = deps.child(key);
  if (!cached || cached.metadata.deletionTimestamp) {
    deps.written.forget(key);
    deps.pacer?.forget(key);
    return {};
  }
  // Waiting for its turn: whatever changed meanwhile is computed when the turn comes.
  // (1,000 timers firing wake every child every 100 ms; computing each time was waste.)
  const pending = deps.pacer?.pendingMs(key) ?? 0;
  if (pending > 0) return { requeueAfterMs: pending };
  const prev = deps.written.current(cached);
  const now = deps.now();
  // childStatus carries readySince and lastTermination over from the status it is given.
  const child: SystemdUnitSet = { ...cached, status: prev };
  const computed = childStatus({
    child,
    states: deps.node.states,
    terminations: deps.node.terminations,
    usage: deps.node.usage,
    backOff: deps.node.backOff,
    applied: deps.node.applied.get(key) === cached.spec.hash,
    error: deps.node.errorOf(cached),
    now,
    probes: deps.probes?.(key),
  });
  const status = deps.sealingKey ? { ...computed, sealingKey: deps.sealingKey } : computed;
  deps.metrics.observe(cached, status);
  // Paced: during a storm of changes (1,000 timers firing) each child comes back when
  // its turn is due and writes its newest status then, so the writes a node makes
  // stay bounded however fast its units change. A quiet node writes at once (burst).
  const wait = statusDiffers(prev, status) ? (deps.pacer?.waitMs(key) ?? 0) : 0;
  if (wait > 0) return { requeueAfterMs: wait };
  try {
    const updated = await writeStatusIfChanged(deps.api, child, status);
    if (updated) {
      deps.written.wrote(key, updated);
      deps.metrics.statusWrites.inc();
    }
  } catch (err) {
    if (isNotFound(err)) return {}; // the child is gone: its delete event ends this key
    throw err;
  }
  // A restarting unit becomes ready by time alone, once it has stayed up.
  const settle = settlesInMs(status.units ?? [], now);
  return settle === undefined ? {} : { requeueAfterMs: settle + SIGNAL_STATUS_DELAY_MS };
}

/**
 * Which queue an informer event feeds: a change of what the node must run (a new,
 * deleted or re-specified child) needs a node sync; any other change (its status,
 * labels) at most a status pass. Our own status writes come back as the latter,
 * so they never cause a sync.
 */
export function needsNodeSync(type: 'add' | 'update' | 'delete', obj: SystemdUnitSet, old?: SystemdUnitSet): boolean {
  if (type !== 'update' || !old) return true;
  return (
    obj.spec?.hash !== old.spec?.hash ||
    obj.metadata.generation !== old.metadata.generation ||
    !!obj.metadata.deletionTimestamp !== !!old.metadata.deletionTimestamp ||
    obj.spec?.nodeName !== old.spec?.nodeName
  );
}
