// Simulated agents for fleet-scale benchmarks (bench/fanout, idle, footprint):
// ONE process plays the agents of many Node objects that have no systemd.
//
// What it does, as a real agent does after systemd has started the units:
//  - watches SystemdUnitSets (one cluster-wide list+watch through src/kube/informer.ts,
//    where a real agent watches its own node's objects with a field/label selector);
//  - for each child whose status.appliedHash != spec.hash, patches its status
//    (merge patch on /status) with observedGeneration, appliedHash=spec.hash,
//    phase Running, readySince=now and one unit status per unit (active, 0 restarts);
//    at most `concurrency` patches in flight (a fleet of real agents would send them
//    all at once, each from its own node);
//  - renews one heartbeat Lease per node every heartbeatPeriodMs, as
//    src/kube/heartbeat.ts does (a replace of the Lease it last wrote).
// What it does NOT do: no unit files, no D-Bus, no systemd, no usage figures
// (memory/CPU) and no periodic usage writes, no resync, no journal, no metrics
// endpoint. After a child is acknowledged it writes nothing more for it, so in an
// idle fleet the only writes it makes are the heartbeat renewals.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, UNITSET_KIND, UNITSET_PLURAL, VERSION, type SystemdUnitSet } from '../../src/api/types.js';
import { HEARTBEAT_LABEL, heartbeatLeaseName } from '../../src/kube/heartbeat.js';
import { reuseConnections } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { createLogger } from '../../src/observability/log.js';
import { OPERATOR_NAMESPACE } from './operator.js';

const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export interface SimAgentsOptions {
  /** Only children of these nodes are acknowledged (default: every child). */
  nodes?: Set<string>;
  concurrency?: number;
  /** 0: no heartbeats. */
  heartbeatPeriodMs?: number;
}

/** Runs fn over items with at most `limit` in flight. */
export async function mapLimit<T>(items: T[], limit: number, fn: (x: T) => Promise<unknown>): Promise<void> {
  let i = 0;
  const worker = async (): Promise<void> => {
    while (i < items.length) {
      const x = items[i++]!;
      await fn(x);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class SimAgents {
  readonly informer: Informer<SystemdUnitSet>;
  private readonly api: k8s.CustomObjectsApi;
  private readonly coord: k8s.CoordinationV1Api;
  private readonly pending = new Map<string, SystemdUnitSet>();
  private inFlight = 0;
  private stopped = false;
  private readonly leases = new Map<string, k8s.V1Lease>();
  private hbTimer: NodeJS.Timeout | undefined;
  /** While true, no heartbeat is renewed (the renewal loop keeps its place). */
  heartbeatsPaused = false;
  /** Counters: status patches sent, failed; heartbeat renewals sent. */
  readonly stats = { statusPatches: 0, statusErrors: 0, renewals: 0, renewErrors: 0 };
  /** performance.now() when the latest status patch was answered. */
  lastAckAt = 0;
  /** Called with the child when it is first seen (ADDED). */
  onChildSeen: ((c: SystemdUnitSet) => void) | undefined;

  constructor(
    clusterKc: k8s.KubeConfig,
    private readonly nodeNames: string[],
    private readonly opts: SimAgentsOptions = {},
  ) {
    // Keep-alive connections, as the real agent has (src/kube/client.ts): without them every
    // renewal and status patch is a new TLS handshake, which loads the API server with work
    // a real fleet does not make (measured: fan-out to 1000 nodes 21 s -> see fanout.md).
    const kc = new k8s.KubeConfig();
    kc.loadFromString(clusterKc.exportConfig());
    reuseConnections(kc);
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
    this.coord = kc.makeApiClient(k8s.CoordinationV1Api);
    this.informer = new Informer<SystemdUnitSet>(kc, {
      path: `/apis/${GROUP}/${VERSION}/${UNITSET_PLURAL}`,
      apiVersion: API_VERSION,
      kind: UNITSET_KIND,
      log: createLogger({ component: 'sim-agents' }, 'warn'),
    });
    this.informer.on((type, c) => {
      if (type === 'add') this.onChildSeen?.(c);
      if (type === 'delete') return;
      if (opts.nodes && !opts.nodes.has(c.spec.nodeName)) return;
      if (c.status?.appliedHash === c.spec.hash && c.status.phase === 'Running') return;
      this.pending.set(`${c.metadata.namespace}/${c.metadata.name}`, c);
      this.pump();
    });
  }

  async start(): Promise<this> {
    if ((this.opts.heartbeatPeriodMs ?? 0) > 0) await this.startHeartbeats();
    await this.informer.start();
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.informer.stop();
    if (this.hbTimer) clearTimeout(this.hbTimer);
  }

  private pump(): void {
    const limit = this.opts.concurrency ?? 32;
    while (!this.stopped && this.inFlight < limit && this.pending.size > 0) {
      const [key, c] = this.pending.entries().next().value as [string, SystemdUnitSet];
      this.pending.delete(key);
      this.inFlight++;
      void this.ack(c).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async ack(c: SystemdUnitSet): Promise<void> {
    const status = {
      observedGeneration: c.metadata.generation,
      appliedHash: c.spec.hash,
      phase: 'Running',
      readySince: new Date().toISOString(),
      units: c.spec.units.map((u) => ({ name: u.name, unit: u.files[0]!.name, activeState: 'active', restarts: 0 })),
    };
    try {
      this.stats.statusPatches++;
      await this.api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: c.metadata.namespace!,
          plural: UNITSET_PLURAL,
          name: c.metadata.name!,
          body: { status },
        },
        mergePatch,
      );
      this.lastAckAt = performance.now();
    } catch (err) {
      this.stats.statusErrors++;
      // Gone: nothing to report. Anything else (429 from API Priority and Fairness shedding load,
      // a timeout) is retried after the server's Retry-After or 1 s, as the real agent and
      // client-go do: without it a child whose only patch was rejected was never acknowledged
      // (458 of 50,000 in one idle run at 5,000 nodes).
      const e = err as { code?: number; headers?: Record<string, string> };
      if (e.code === 404 || this.stopped) return;
      const retryAfterS = Number(e.headers?.['retry-after'] ?? 1);
      const key = `${c.metadata.namespace}/${c.metadata.name}`;
      setTimeout(
        () => {
          const cur = this.informer.get(key) ?? c;
          if (this.stopped || (cur.status?.appliedHash === cur.spec.hash && cur.status.phase === 'Running')) return;
          this.pending.set(key, cur);
          this.pump();
        },
        Math.min(10, Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS : 1) * 1000,
      ).unref();
    }
  }

  private async startHeartbeats(): Promise<void> {
    const now = new k8s.V1MicroTime();
    await mapLimit(this.nodeNames, 32, async (node) => {
      const name = heartbeatLeaseName(node);
      const body: k8s.V1Lease = {
        metadata: { name, namespace: OPERATOR_NAMESPACE, labels: { [HEARTBEAT_LABEL]: 'true' }, annotations: { [`${GROUP}/node`]: node } },
        spec: { holderIdentity: node, leaseDurationSeconds: 40, renewTime: now, acquireTime: now },
      };
      try {
        this.leases.set(node, await this.coord.createNamespacedLease({ namespace: OPERATOR_NAMESPACE, body }));
      } catch {
        this.leases.set(node, await this.coord.readNamespacedLease({ name, namespace: OPERATOR_NAMESPACE }));
      }
    });
    const period = this.opts.heartbeatPeriodMs!;
    // Renewals spread evenly over the period, as independent agents' would be.
    let idx = 0;
    const step = period / Math.max(1, this.nodeNames.length);
    const tick = (): void => {
      if (this.stopped) return;
      const batchEnd = idx + Math.max(1, Math.round(50 / step));
      for (; idx < batchEnd && idx < this.nodeNames.length; idx++) if (!this.heartbeatsPaused) void this.renew(this.nodeNames[idx]!);
      if (idx >= this.nodeNames.length) idx = 0;
      this.hbTimer = setTimeout(tick, Math.max(1, step * Math.max(1, Math.round(50 / step))));
    };
    tick();
  }

  private async renew(node: string): Promise<void> {
    const lease = this.leases.get(node);
    if (!lease) return;
    this.stats.renewals++;
    try {
      this.leases.set(
        node,
        await this.coord.replaceNamespacedLease({
          name: lease.metadata!.name!,
          namespace: OPERATOR_NAMESPACE,
          body: { ...lease, spec: { ...lease.spec, renewTime: new k8s.V1MicroTime() } },
        }),
      );
    } catch {
      this.stats.renewErrors++;
      try {
        this.leases.set(node, await this.coord.readNamespacedLease({ name: lease.metadata!.name!, namespace: OPERATOR_NAMESPACE }));
      } catch {
        /* next period */
      }
    }
  }
}
