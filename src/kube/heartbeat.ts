// The agent's per-node heartbeat: a Lease named after the node, renewed every
// few seconds, so the controller can tell a silent agent from a dead node.
import * as k8s from '@kubernetes/client-node';
import { GROUP } from '../api/types.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import { isConflict, isNotFound } from './client.js';

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

export function heartbeatNode(lease: k8s.V1Lease): string | undefined {
  return lease.metadata?.annotations?.[NODE_ANNOTATION];
}

export class Heartbeat {
  private readonly coord: k8s.CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  /** The Lease as last written: a renewal is one replace, not a read and a replace. */
  private lease: k8s.V1Lease | undefined;
  lastSuccess = 0;

  constructor(
    kc: k8s.KubeConfig,
    private readonly namespace: string,
    private readonly node: string,
    private readonly periodMs: number,
    private readonly log: Logger,
    /** Extra annotations, e.g. the agent's URL for `kubectl sdw logs`. */
    private readonly annotations: Record<string, string> = {},
  ) {
    this.coord = kc.makeApiClient(k8s.CoordinationV1Api);
  }

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
    const now = new k8s.V1MicroTime();
    if (this.lease) {
      const body: k8s.V1Lease = { ...this.lease, spec: { ...this.lease.spec, holderIdentity: this.node, renewTime: now } };
      try {
        this.lease = await this.coord.replaceNamespacedLease({ name, namespace: this.namespace, body });
        return;
      } catch (err) {
        this.lease = undefined; // conflict or gone: read afresh below
        if (!isConflict(err) && !isNotFound(err)) throw err;
      }
    }
    const annotations = { [NODE_ANNOTATION]: this.node, ...this.annotations };
    try {
      const lease = await this.coord.readNamespacedLease({ name, namespace: this.namespace });
      lease.metadata = { ...lease.metadata, annotations: { ...lease.metadata?.annotations, ...annotations } };
      lease.spec = {
        ...lease.spec,
        holderIdentity: this.node,
        renewTime: now,
        acquireTime: lease.spec?.acquireTime ? new k8s.V1MicroTime(new Date(lease.spec.acquireTime).getTime()) : now,
      };
      this.lease = await this.coord.replaceNamespacedLease({ name, namespace: this.namespace, body: lease });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      this.lease = await this.coord.createNamespacedLease({
        namespace: this.namespace,
        body: {
          metadata: { name, namespace: this.namespace, labels: { [HEARTBEAT_LABEL]: 'true' }, annotations },
          spec: {
            holderIdentity: this.node,
            leaseDurationSeconds: Math.ceil((this.periodMs * 4) / 1000),
            renewTime: now,
            acquireTime: now,
          },
        },
      });
    }
  }
}
