// Events on objects, as `kubectl describe` shows them. Repeats of the same
// (object, type, reason, message) within the correlation window bump count and
// lastTimestamp on one Event instead of creating a new one, as client-go's
// EventCorrelator does, so a crash-looping unit cannot flood etcd.
import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';

export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const WINDOW_MS = 10 * 60_000;

export class EventRecorder {
  private readonly core: k8s.CoreV1Api;
  private readonly seen = new Map<string, { name: string; count: number; at: number }>();

  constructor(
    kc: k8s.KubeConfig,
    private readonly component: string,
    private readonly log: Logger,
    private readonly host = '',
  ) {
    this.core = kc.makeApiClient(k8s.CoreV1Api);
  }

  /** Records an event; never throws (an event is not worth failing a reconcile). */
  async record(obj: InvolvedObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
    const ns = obj.metadata?.namespace ?? 'default';
    const key = `${ns}/${obj.metadata?.uid}/${type}/${reason}/${message}`;
    const now = Date.now();
    const prev = this.seen.get(key);
    const ts = new Date(now);
    try {
      if (prev && now - prev.at < WINDOW_MS) {
        prev.count++;
        prev.at = now;
        await this.core.patchNamespacedEvent(
          { name: prev.name, namespace: ns, body: { count: prev.count, lastTimestamp: ts } },
          k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
        );
        return;
      }
      const name = `${obj.metadata?.name}.${createHash('sha1')
        .update(key + now)
        .digest('hex')
        .slice(0, 12)}`;
      await this.core.createNamespacedEvent({
        namespace: ns,
        body: {
          metadata: { name, namespace: ns },
          involvedObject: {
            apiVersion: obj.apiVersion,
            kind: obj.kind,
            name: obj.metadata?.name,
            namespace: ns,
            uid: obj.metadata?.uid,
            resourceVersion: obj.metadata?.resourceVersion,
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.component, host: this.host || undefined },
          reportingComponent: this.component,
          reportingInstance: this.host || this.component,
          firstTimestamp: ts,
          lastTimestamp: ts,
          count: 1,
        },
      });
      this.seen.set(key, { name, count: 1, at: now });
      if (this.seen.size > 5000) this.prune(now);
    } catch (err) {
      this.log.warn('could not record event', { reason, error: errorMessage(err) });
    }
  }

  private prune(now: number): void {
    for (const [k, v] of this.seen) if (now - v.at > WINDOW_MS) this.seen.delete(k);
  }
}
