// Helpers for controller e2e tests (additive; the harness proper is untouched):
// a fake agent that plays the node side of SystemdUnitSets through the API, a
// fake agent heartbeat, and a recorder that samples the children over time.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, type SystemdUnitSet } from '../../src/api/types.js';
import { HEARTBEAT_LABEL, heartbeatLeaseName } from '../../src/kube/heartbeat.js';
import type { Cluster } from './cluster.js';
import { OPERATOR_NAMESPACE, ensureOperatorNamespace } from './operator.js';

const PLURAL = 'systemdunitsets';
const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export async function listChildren(cluster: Cluster, ns = 'default', labelSelector?: string): Promise<SystemdUnitSet[]> {
  const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
  const res = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns, plural: PLURAL, labelSelector })) as {
    items: SystemdUnitSet[];
  };
  return res.items;
}

export interface FakeAgentOptions {
  /** How long the "agent" takes to apply a new hash (the window in which the node is unavailable). */
  applyDelayMs?: number;
  /** Nodes whose units fail: status phase Failed with this message. */
  failing?: Map<string, string>;
  pollMs?: number;
}

/**
 * Plays every node's agent: for each child whose spec.hash it has not applied,
 * waits applyDelayMs and then reports appliedHash=spec.hash, phase Running and
 * readySince=now, as the real agent does after systemd has started the units.
 */
export class FakeAgent {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly seen = new Map<string, { hash: string; at: number }>();
  /** Nodes the fake agent ignores (their agent is "down"). */
  readonly frozen = new Set<string>();
  readonly failing: Map<string, string>;
  private readonly api: k8s.CustomObjectsApi;

  constructor(
    private readonly cluster: Cluster,
    private readonly opts: FakeAgentOptions = {},
  ) {
    this.api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    this.failing = opts.failing ?? new Map<string, string>();
  }

  start(): this {
    const tick = async (): Promise<void> => {
      try {
        await this.pass();
      } catch {
        /* the next pass retries */
      }
      if (!this.stopped) this.timer = setTimeout(() => void tick(), this.opts.pollMs ?? 150);
    };
    void tick();
    return this;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async pass(): Promise<void> {
    const res = (await this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })) as { items: SystemdUnitSet[] };
    const now = Date.now();
    for (const c of res.items) {
      const node = c.spec.nodeName;
      if (this.frozen.has(node)) continue;
      const key = `${c.metadata.namespace}/${c.metadata.name}`;
      const failMsg = this.failing.get(node);
      const wantPhase = failMsg ? 'Failed' : 'Running';
      if (c.status?.appliedHash === c.spec.hash && c.status.phase === wantPhase) continue;
      const s = this.seen.get(key);
      if (!s || s.hash !== c.spec.hash) {
        this.seen.set(key, { hash: c.spec.hash, at: now });
        if ((this.opts.applyDelayMs ?? 0) > 0) continue;
      } else if (now - s.at < (this.opts.applyDelayMs ?? 0)) continue;
      const status: Record<string, unknown> = {
        observedGeneration: c.metadata.generation,
        appliedHash: c.spec.hash,
        phase: wantPhase,
        readySince: failMsg ? null : new Date().toISOString(),
        message: failMsg ?? null,
        units: c.spec.units.map((u) => ({
          name: u.name,
          unit: u.files[0]!.name,
          activeState: failMsg ? 'failed' : 'active',
          restarts: 0,
          ...(failMsg ? { exitCode: 3, message: failMsg } : {}),
        })),
      };
      await this.api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace: c.metadata.namespace!,
          plural: PLURAL,
          name: c.metadata.name!,
          body: { status },
        },
        mergePatch,
      );
    }
  }
}

/** An agent heartbeat Lease renewed every periodMs until stop(), as src/kube/heartbeat.ts writes it. */
export class FakeHeartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly coord: k8s.CoordinationV1Api;

  constructor(
    cluster: Cluster,
    private readonly node: string,
    private readonly periodMs = 1000,
  ) {
    this.coord = cluster.kc.makeApiClient(k8s.CoordinationV1Api);
  }

  async start(cluster: Cluster): Promise<this> {
    await ensureOperatorNamespace(cluster);
    const name = heartbeatLeaseName(this.node);
    const now = new k8s.V1MicroTime();
    try {
      await this.coord.createNamespacedLease({
        namespace: OPERATOR_NAMESPACE,
        body: {
          metadata: {
            name,
            namespace: OPERATOR_NAMESPACE,
            labels: { [HEARTBEAT_LABEL]: 'true' },
            annotations: { [`${GROUP}/node`]: this.node },
          },
          spec: { holderIdentity: this.node, leaseDurationSeconds: 4, renewTime: now, acquireTime: now },
        },
      });
    } catch {
      /* exists: renew below */
    }
    const tick = async (): Promise<void> => {
      try {
        await this.coord.patchNamespacedLease(
          { name, namespace: OPERATOR_NAMESPACE, body: { spec: { renewTime: new k8s.V1MicroTime() } } },
          mergePatch,
        );
      } catch {
        /* next tick */
      }
      this.timer = setTimeout(() => void tick(), this.periodMs);
    };
    await tick();
    return this;
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export interface Sample {
  at: number;
  children: Array<{ node: string; specHash: string; appliedHash?: string; phase?: string; readySince?: string }>;
}

/** Samples a workload's children every intervalMs (one list each: a consistent snapshot). */
export class ChildRecorder {
  readonly samples: Sample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(
    private readonly cluster: Cluster,
    private readonly workload: string,
    private readonly ns = 'default',
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.running = true;
    const tick = async (): Promise<void> => {
      try {
        const items = await listChildren(this.cluster, this.ns, `${GROUP}/workload=${this.workload}`);
        this.samples.push({
          at: Date.now(),
          children: items.map((c) => ({
            node: c.spec.nodeName,
            specHash: c.spec.hash,
            appliedHash: c.status?.appliedHash,
            phase: c.status?.phase,
            readySince: c.status?.readySince,
          })),
        });
      } catch {
        /* a missed sample */
      }
      if (this.running) this.timer = setTimeout(() => void tick(), this.intervalMs);
    };
    void tick();
    return this;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Per sample, how many nodes were unavailable: the agent has not applied the
   * spec yet, the units are not Running, or they have not been ready for
   * minReadySeconds (by the readySince the agent reported).
   */
  unavailableCounts(minReadySeconds = 0): number[] {
    return this.samples.map(
      (s) =>
        s.children.filter((c) => {
          if (c.appliedHash !== c.specHash || c.phase !== 'Running') return true;
          return !c.readySince || Date.parse(c.readySince) + minReadySeconds * 1000 > s.at;
        }).length,
    );
  }

  /** Per node: when its child's spec first showed hash (as sampled). */
  firstSeenWithHash(hash: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.samples) for (const c of s.children) if (c.specHash === hash && !out.has(c.node)) out.set(c.node, s.at);
    return out;
  }

  /** Per node: the readySince its agent reported for hash. */
  readySinceFor(hash: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.samples) {
      for (const c of s.children)
        if (c.specHash === hash && c.appliedHash === hash && c.readySince && !out.has(c.node)) out.set(c.node, Date.parse(c.readySince));
    }
    return out;
  }
}

/** A SystemdWorkload manifest with one sleeping unit; `arg` changes the hash. */
export function workloadYaml(
  name: string,
  opts: {
    arg?: string;
    selector?: Record<string, string>;
    maxUnavailable?: number | string;
    minReadySeconds?: number;
    paused?: boolean;
    ns?: string;
  } = {},
): string {
  const sel = opts.selector ? `  nodeSelector: ${JSON.stringify(opts.selector)}\n` : '';
  const mu =
    opts.maxUnavailable !== undefined
      ? `  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxUnavailable: ${JSON.stringify(opts.maxUnavailable)}}}\n`
      : '';
  const mr = opts.minReadySeconds !== undefined ? `  minReadySeconds: ${opts.minReadySeconds}\n` : '';
  const p = opts.paused !== undefined ? `  paused: ${opts.paused}\n` : '';
  return `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: ${name}, namespace: ${opts.ns ?? 'default'}}
spec:
${sel}${mu}${mr}${p}  units:
  - name: main
    command: ["/bin/sleep", "${opts.arg ?? 'infinity'}"]
`;
}
