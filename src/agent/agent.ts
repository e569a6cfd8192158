// The node agent: the imperative shell around planSync() and childStatus(), in
// the controller's shape: an informer on this node's children, and two
// ControllerLoops (workqueue + reconcile, with per-key backoff and
// controller-runtime's metrics):
// - "agent-sync", one key for the whole node: files, one daemon Reload, jobs;
// - "agent-status", one key per child: its status, written when it changes.
// Informer events, systemd signals and timers only add keys; the reconcilers
// (reconcile.ts) do the work and never change an object of the informer's cache.
//
// Rules that make it safe to run on a real machine:
// - nothing is removed before the first complete list of this node's children
//   (the loops start only once the informer has listed);
// - only files carrying the ownership marker are ever listed, changed or removed;
// - when the API server is unreachable the informer keeps its last view, so the
//   units stay as they were (fail static) and drift repair still works;
// - one daemon Reload per sync, however many files changed.
import { API_VERSION, UNITSET_KIND, UNITSET_PLURAL, type SystemdUnitSet } from '../api/types.js';
import { ControllerLoop } from '../kube/controllerLoop.js';
import { EventRecorder, restEventWriter } from '../kube/events.js';
import { AGENT_CERT_ANNOTATION, AGENT_URL_ANNOTATION, Heartbeat } from '../kube/heartbeat.js';
import { Informer, objectKey } from '../kube/informer.js';
import type { KubeRest } from '../kube/rest.js';
import { KeyedPacer, type TokenBucket } from '../kube/rateLimit.js';
import { errorMessage, type Logger } from '../observability/log.js';
import { SystemdBus } from '../systemd/bus.js';
import { UnitFileStore } from '../systemd/unitStore.js';
import { AgentMetrics } from './metrics.js';
import { FileDelivery, loadOrCreateNodeKey, UserDb } from './files.js';
import { FILES_ROOT } from '../api/schema.js';
import { ArtifactStore } from './artifacts.js';
import { ProbeScheduler } from './probes.js';
import { BurstBatcher } from './burst.js';
import { foldSignal } from './signals.js';
import { NetnsProbeRunner } from '../probe/netns.js';
import {
  NODE_SYNC_KEY,
  NodeState,
  SIGNAL_STATUS_DELAY_MS,
  SYNC_BATCH_MAX_MS,
  SYNC_BATCH_MS,
  WrittenStatuses,
  needsNodeSync,
  type StatusWriter,
  syncNode,
  writeChildStatus,
} from './reconcile.js';

export interface AgentOptions {
  nodeName: string;
  unitDir: string;
  busAddress: string;
  heartbeatNamespace: string;
  heartbeatPeriodMs: number;
  /** Published on the heartbeat Lease for the aggregated logs API; empty: not published. */
  advertiseUrl?: string;
  /** The PEM certificate served at advertiseUrl, published beside it for callers to pin. */
  advertiseCert?: string;
  usagePeriodMs: number;
  resyncPeriodMs: number;
  watchSilenceMs?: number;
  /** Where artifacts are staged (the node's /var/lib/sdw/artifacts, as units see it). */
  artifactDir: string;
  /** Where httpGet/tcpSocket probes connect from, if not this process's network namespace (src/probe/netns.ts). */
  probeNetns?: string;
  log: Logger;
  metrics: AgentMetrics;
  /** The host directory that is the node's /etc/sdw (spec.files); default /etc/sdw. */
  filesDir?: string;
  /** Where the node's sealing key is kept (0600), across restarts. */
  stateDir?: string;
  /** The node's passwd and group files' directory (file owners by name). */
  etcDir?: string;
  /**
   * The host path under which the node's paths are (files a policy allows outside
   * /etc/sdw): '/' on the host (the default), the mount point of the host's / in a pod.
   */
  nodeRoot?: string;
  /**
   * The children's status writes, as a token bucket (--status-qps/--status-burst,
   * client-go's semantics): a qps of 0 or below writes as fast as changes come.
   */
  statusWrites?: TokenBucket;
}

/** Status writes are independent API calls: a few in flight, as the controller's workers. */
const STATUS_WORKERS = 4;
/**
 * A failed pass retries after 200 ms, doubling up to 30 s: an API server back from
 * an outage sees every status within 30 s (a resync or usage sample re-adds sooner).
 */
const BACKOFF = { baseMs: 200, maxMs: 30_000 };

/** Our API group's root as the lean client addresses it (API_VERSION is group/version). */
const API_ROOT = `/apis/${API_VERSION}`;

/** Children's status writes through the lean client: a merge patch of the status subresource. */
function restStatusWriter(rest: KubeRest): StatusWriter {
  return {
    patchStatus: (ns, name, body) => rest.mergePatch<SystemdUnitSet>(`${API_ROOT}/namespaces/${ns}/${UNITSET_PLURAL}/${name}/status`, body),
  };
}

export class Agent {
  readonly informer: Informer<SystemdUnitSet>;
  private bus: SystemdBus | undefined;
  private readonly store: UnitFileStore;
  private readonly artifacts: ArtifactStore;
  private readonly node = new NodeState();
  private readonly written = new WrittenStatuses();
  private readonly syncLoop: ControllerLoop;
  /** Child events -> one node sync per burst. */
  private readonly syncBurst: BurstBatcher;
  private readonly statusLoop: ControllerLoop;
  private readonly heartbeat: Heartbeat;
  private timers: NodeJS.Timeout[] = [];
  private files: FileDelivery | undefined;
  private readonly probes: ProbeScheduler;
  private readonly probeNetns: NetnsProbeRunner | undefined;
  private stopped = false;
  private readonly statusPacer: KeyedPacer | undefined;

  constructor(
    rest: KubeRest,
    private readonly opts: AgentOptions,
  ) {
    const { log, metrics, nodeName } = opts;
    this.store = new UnitFileStore(opts.unitDir);
    this.artifacts = new ArtifactStore(opts.artifactDir, log);
    const childApi = restStatusWriter(rest);
    this.statusPacer = opts.statusWrites && opts.statusWrites.qps > 0 ? new KeyedPacer(opts.statusWrites) : undefined;
    const events = new EventRecorder(restEventWriter(rest), 'systemd-workload-agent', log, nodeName);
    this.heartbeat = new Heartbeat(
      rest,
      opts.heartbeatNamespace,
      nodeName,
      opts.heartbeatPeriodMs,
      log,
      opts.advertiseUrl
        ? { [AGENT_URL_ANNOTATION]: opts.advertiseUrl, ...(opts.advertiseCert ? { [AGENT_CERT_ANNOTATION]: opts.advertiseCert } : {}) }
        : {},
    );
    this.informer = new Informer<SystemdUnitSet>(rest, {
      path: `${API_ROOT}/${UNITSET_PLURAL}`,
      apiVersion: API_VERSION,
      kind: UNITSET_KIND,
      fieldSelector: `spec.nodeName=${nodeName}`,
      silenceMs: opts.watchSilenceMs,
      log,
    });
    this.probeNetns = opts.probeNetns ? new NetnsProbeRunner(opts.probeNetns) : undefined;
    const netns = this.probeNetns;
    this.probes = new ProbeScheduler({
      ...(netns ? { network: (probe, timeout) => netns.run(probe, timeout) } : {}),
      startTransient: (name, props) => this.bus!.startTransientUnit(name, props),
      states: this.node.states,
      restart: (unit) => this.bus!.restartUnit(unit),
      statusDue: (key) => this.statusLoop.queue.add(key),
      livenessFailed: (child, unit, message) =>
        void events.record(child, 'Warning', 'LivenessProbeFailed', `unit ${unit}: ${message}; restarting it`),
      log,
    });
    this.syncLoop = new ControllerLoop(
      'agent-sync',
      () =>
        syncNode({
          nodeName,
          children: () => this.ourChildren(),
          store: this.store,
          bus: this.bus!,
          node: this.node,
          events,
          metrics,
          log,
          statusDue: (keys) => keys.forEach((k) => this.statusLoop.queue.add(k)),
          files: this.files,
          artifacts: this.artifacts,
        }),
      metrics.base,
      log,
      1,
      BACKOFF,
    );
    this.syncBurst = new BurstBatcher(() => this.syncLoop.queue.add(NODE_SYNC_KEY), SYNC_BATCH_MS, SYNC_BATCH_MAX_MS);
    this.statusLoop = new ControllerLoop(
      'agent-status',
      (key) =>
        writeChildStatus(key, {
          child: (k) => this.informer.get(k),
          node: this.node,
          written: this.written,
          api: childApi,
          metrics,
          now: Date.now,
          sealingKey: this.files?.key?.publicKey,
          probes: (k) => this.probes.statesOf(k),
          pacer: this.statusPacer,
        }),
      metrics.base,
      log,
      STATUS_WORKERS,
      BACKOFF,
    );
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
      this.syncLoop.queue.add(NODE_SYNC_KEY);
    });
    await this.store.sweepTemp().catch(() => 0);
    const stateDir = this.opts.stateDir ?? '/var/lib/systemd-workload-agent';
    const key = await loadOrCreateNodeKey(stateDir).catch((err: unknown) => {
      // Units without secrets still run; each secret file says why it cannot be written.
      log.error('no sealing key: secret files cannot be written on this node', { stateDir, error: errorMessage(err) });
      return errorMessage(err);
    });
    this.files = new FileDelivery(
      this.opts.filesDir ?? FILES_ROOT,
      typeof key === 'string' ? undefined : key,
      new UserDb(this.opts.etcDir),
      typeof key === 'string' ? key : undefined,
      { nodeRoot: this.opts.nodeRoot ?? '/', stateDir, ownDirs: [this.opts.unitDir, stateDir, this.opts.artifactDir] },
    );
    if (typeof key !== 'string') log.info('sealing key ready', { fingerprint: key.fingerprint });
    this.informer.on((type, child, old) => {
      this.written.seen(child);
      if (type === 'delete') this.written.forget(objectKey(child));
      this.probes.sync(this.ourChildren().map((c) => ({ key: objectKey(c), child: c })));
      // A burst of events (a rollout, many workloads applied at once) folds into one
      // sync, one Reload: it runs SYNC_BATCH_MS after the burst's last event.
      if (needsNodeSync(type, child, old)) this.syncBurst.poke();
      else this.statusLoop.queue.add(objectKey(child));
    });
    this.heartbeat.start();
    // No sync before the first complete list (informer.start resolves then): until
    // then the agent cannot tell a deleted child from one it has not seen yet.
    await this.informer.start();
    if (this.stopped) return;
    this.syncLoop.start();
    this.statusLoop.start();
    this.syncLoop.queue.add(NODE_SYNC_KEY);
    this.timers.push(setInterval(() => this.syncLoop.queue.add(NODE_SYNC_KEY), this.opts.resyncPeriodMs));
    this.timers.push(setInterval(() => void this.sampleUsage(), this.opts.usagePeriodMs));
  }

  /**
   * The controller's shutdown path: the loops take no more keys, the informer and
   * heartbeat stop, running passes get graceMs to finish. Units keep running:
   * stopping the agent never stops what it manages, and a sync cut short is
   * completed by the next agent's first sync.
   */
  async stop(graceMs = 5_000): Promise<void> {
    this.stopped = true;
    this.timers.forEach((t) => clearInterval(t));
    this.syncBurst.stop();
    this.probes.stopAll();
    this.probeNetns?.stop();
    this.syncLoop.stop();
    this.statusLoop.stop();
    this.heartbeat.stop();
    this.informer.stop();
    const drained = await Promise.all([this.syncLoop.drain(graceMs), this.statusLoop.drain(graceMs)]);
    if (!drained.every(Boolean)) this.opts.log.warn('shutting down with a pass still running', { graceMs });
    await this.bus?.close();
  }

  private ourChildren(): SystemdUnitSet[] {
    return this.informer.list().filter((c) => c.spec?.nodeName === this.opts.nodeName);
  }

  private statusDueAll(): void {
    for (const c of this.ourChildren()) this.statusLoop.queue.add(objectKey(c));
  }

  /** Signals from systemd: a crash is in status within moments, not at the next poll. */
  private onProperties(unit: string, changed: Record<string, unknown>, iface = ''): void {
    const { sync, statusOf } = foldSignal(this.node, unit, changed, iface);
    if (sync) this.syncLoop.queue.add(NODE_SYNC_KEY);
    if (statusOf) this.statusLoop.queue.addAfter(statusOf, SIGNAL_STATUS_DELAY_MS);
  }

  private async sampleUsage(): Promise<void> {
    const { states, usage } = this.node;
    for (const [file, known] of states) {
      if (!file.endsWith('.service')) continue;
      // A stopped unit has no cgroup, so nothing to sample (systemd answers "not
      // available"): no call. On a node of 1,000 timers' services, idle between
      // runs, this is 1,000 GetAll calls into PID 1 per period saved. Signals keep
      // activeState current; a unit that starts is sampled from the next period.
      if (known.activeState === 'inactive' || known.activeState === 'failed') {
        if (usage.has(file)) {
          usage.delete(file);
          states.set(file, { ...known, memoryCurrent: undefined, cpuUsageNSec: undefined, tasksCurrent: undefined });
        }
        continue;
      }
      try {
        const st = await this.bus!.getUnitState(file);
        const prev = states.get(file);
        if (prev)
          states.set(file, {
            ...prev,
            memoryCurrent: st.memoryCurrent,
            cpuUsageNSec: st.cpuUsageNSec,
            tasksCurrent: st.tasksCurrent,
            nRestarts: st.nRestarts,
          });
        usage.set(file, { memoryBytes: st.memoryCurrent, cpuNanoseconds: st.cpuUsageNSec, tasks: st.tasksCurrent });
      } catch {
        /* the next sample will tell */
      }
    }
    this.statusDueAll();
  }
}
