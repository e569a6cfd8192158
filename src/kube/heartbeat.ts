// The agent's per-node heartbeat: a Lease named after the node, renewed every
// few seconds, so the controller can tell a silent agent from a dead node.
// Through the lean client (rest.ts): only the agent renews a heartbeat.
import type { V1Lease } from '@kubernetes/client-node';
import { GROUP } from '../api/types.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import { isConflict, isNotFound } from './apiErrors.js';
import type { KubeRest } from './rest.js';

export const HEARTBEAT_LABEL = `${GROUP}/agent-heartbeat`;
const NODE_ANNOTATION = `${GROUP}/node`;
/** The agent's journal endpoint (https://<pod IP>:<port>), where the aggregated logs API reaches it. */
export const AGENT_URL_ANNOTATION = `${GROUP}/agent-url`;
/**
 * The PEM certificate that endpoint serves (made by the agent at start): callers
 * pin it. Only the node's own agent may write its Lease, so the API server vouches for it.
 */
export const AGENT_CERT_ANNOTATION = `${GROUP}/agent-cert`;

export function heartbeatLeaseName(node: string): string {
  return `sdw-agent-${node}`.slice(0, 253);
}

/** A Lease as JSON: times are MicroTime strings (RFC 3339 with 6 fractional digits). */
interface Lease {
  metadata?: V1Lease['metadata'];
  spec?: { holderIdentity?: string; leaseDurationSeconds?: number; renewTime?: string; acquireTime?: string };
}

/** metav1.MicroTime as the API server parses it: exactly six fractional digits. */
export function microTime(d = new Date()): string {
  return d.toISOString().replace(/Z$/, '000Z');
}

export function heartbeatNode(lease: Pick<V1Lease, 'metadata'>): string | undefined {
  return lease.metadata?.annotations?.[NODE_ANNOTATION];
}

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  /** The Lease as last written: a renewal is one replace, not a read and a replace. */
  private lease: Lease | undefined;
  lastSuccess = 0;

  constructor(
    private readonly rest: KubeRest,
    private readonly namespace: string,
    private readonly node: string,
    private readonly periodMs: number,
    private readonly log: Logger,
    /** Extra annotations, e.g. the agent's URL for `kubectl sdw logs`. */
    private readonly annotations: Record<string, string> = {},
  ) {}

  start(): void {
    const tick = async (): Promise<void> => {
      try {
        await this.renew();
        this.lastSuccess = Date.now();
      } catch (err) {
        this.log.warn('heartbeat failed', { error: errorMessage(err) });
      }
      this.timer = setTimeout(() => void tick(), this.periodMs);
    };
    void tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
  }

  private async renew(): Promise<void> {
    const name = heartbeatLeaseName(this.node);
    const now = microTime();
    const leases = `/apis/coordination.k8s.io/v1/namespaces/${this.namespace}/leases`;
    if (this.lease) {
      const body: Lease = { ...this.lease, spec: { ...this.lease.spec, holderIdentity: this.node, renewTime: now } };
      try {
        this.lease = await this.rest.replace<Lease>(`${leases}/${name}`, body);
        return;
      } catch (err) {
        this.lease = undefined; // conflict or gone: read afresh below
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    const annotations = { [NODE_ANNOTATION]: this.node, ...this.annotations };
    try {
      const lease = await this.rest.get<Lease>(`${leases}/${name}`);
      lease.metadata = { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...annotations } };
      lease.spec = { ...lease.spec, holderIdentity: this.node, renewTime: now, acquireTime: lease.spec?.acquireTime ?? now };
      this.lease = await this.rest.replace<Lease>(`${leases}/${name}`, lease);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.lease = await this.rest.create<Lease>(leases, {
        metadata: { name, namespace: this.namespace, labels: { [HEARTBEAT_LABEL]: 'true' }, annotations },
        spec: {
          holderIdentity: this.node,
          leaseDurationSeconds: Math.ceil((this.periodMs * 4) / 1000),
          renewTime: now,
          acquireTime: now,
        },
      });
    }
  }
}
