// Events on objects, as `kubectl describe` shows them. Repeats of the same
// (object, type, reason, message) within the correlation window bump count and
// lastTimestamp on one Event instead of creating a new one, as client-go's
// EventCorrelator does, so a crash-looping unit cannot flood etcd.
import type { CoreV1Event } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import type { KubeRest } from './rest.js';

export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

const WINDOW_MS = 10 * 60_000;

/** The two Event calls a recorder makes: client-node's CoreV1Api (client.ts) or the lean client. */
export interface EventWriter {
  create(namespace: string, event: CoreV1Event): Promise<unknown>;
  mergePatch(namespace: string, name: string, patch: object): Promise<unknown>;
}

export function restEventWriter(rest: KubeRest): EventWriter {
  return {
    create: (ns, event) => rest.create(`/api/v1/namespaces/${ns}/events`, event),
    mergePatch: (ns, name, patch) => rest.mergePatch(`/api/v1/namespaces/${ns}/events/${name}`, patch),
  };
}

export class EventRecorder {
  private readonly seen = new Map<string, { name: string; count: number; at: number }>();

  constructor(
    private readonly writer: EventWriter,
    private readonly component: string,
    private readonly log: Logger,
    private readonly host = '',
  ) {}

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
        await this.writer.mergePatch(ns, prev.name, { count: prev.count, lastTimestamp: ts });
        return;
      }
      const name = `${obj.metadata?.name}.${createHash('sha1')
        .update(key + now)
        .digest('hex')
        .slice(0, 12)}`;
      await this.writer.create(ns, {
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
