// Lease-based leader election with client-go's rules: a lease is expired when
// its record has not changed for leaseDuration as observed on OUR clock (never
// trust the holder's timestamps across machines); a leader that cannot renew
// within renewDeadline stops leading. Lease times are MicroTime (six digits).
import * as k8s from '@kubernetes/client-node';
import { withTimeout } from '../async/timeout.js';
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: Logger;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onLeaderChange?: (holder: string) => void;
}

export class LeaderElector {
  private readonly coord: k8s.CoordinationV1Api;
  private observedRecord = '';
  private observedAt = 0;
  private lastRenew = 0;
  private leading = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    kc: k8s.KubeConfig,
    private readonly opts: LeaderElectionOptions,
  ) {
    this.coord = kc.makeApiClient(k8s.CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  private get renewDeadlineMs(): number {
    return this.opts.renewDeadlineMs ?? 10_000;
  }

  private get durationS(): number {
    return this.opts.leaseDurationSeconds ?? 15;
  }

  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops; a leader releases the lease so a successor need not wait it out. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.leading) {
      try {
        const lease = await this.coord.readNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace });
        if (lease.spec?.holderIdentity === this.opts.identity) {
          lease.spec.holderIdentity = undefined;
          lease.spec.leaseDurationSeconds = 1;
          await this.coord.replaceNamespacedLease({ name: this.opts.name, namespace: this.opts.namespace, body: lease });
        }
      } catch {
        /* best effort */
      }
      this.leading = false;
    }
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.opts.retryPeriodMs ?? 2000);
  }

  private async tick(): Promise<void> {
    try {
      // A request that hangs (etcd gone under the API server, a half-open connection)
      // must not hold off the renew deadline: a leader gives up on time, as client-go's
      // renew does with a context bounded by RenewDeadline. The attempt is bounded by
      // what is left of the deadline (a candidate's by the deadline itself).
      const budget = this.leading ? Math.max(this.lastRenew + this.renewDeadlineMs - Date.now() + 1, 1) : this.renewDeadlineMs;
      const ok = await withTimeout(this.tryAcquireOrRenew(), budget, 'lease request');
      if (ok) {
        this.lastRenew = Date.now();
        if (!this.leading) {
          this.leading = true;
          this.opts.log.info('became leader', { lease: this.opts.name, identity: this.opts.identity });
          this.opts.onStartedLeading();
        }
      }
    } catch (err) {
      this.opts.log.warn('lease update failed', { lease: this.opts.name, error: errorMessage(err) });
    }
    if (this.leading && Date.now() - this.lastRenew > this.renewDeadlineMs) {
      this.leading = false;
      this.opts.log.error('leadership lost: could not renew the lease in time', { lease: this.opts.name });
      this.opts.onStoppedLeading();
    }
    this.schedule();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = new k8s.V1MicroTime();
    const { name, namespace, identity } = this.opts;
    let lease: k8s.V1Lease;
    try {
      lease = await this.coord.readNamespacedLease({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
      await this.coord.createNamespacedLease({
        namespace,
        body: {
          metadata: { name, namespace },
          spec: { holderIdentity: identity, leaseDurationSeconds: this.durationS, acquireTime: now, renewTime: now, leaseTransitions: 0 },
        },
      });
      this.observe(`${identity}/${now.toISOString()}`);
      return true;
    }
    const spec = lease.spec ?? {};
    const holder = spec.holderIdentity ?? '';
    const record = `${holder}/${spec.renewTime ? new Date(spec.renewTime).toISOString() : ''}`;
    if (record !== this.observedRecord) {
      this.observe(record);
      if (holder && holder !== identity) this.opts.onLeaderChange?.(holder);
    }
    const duration = (spec.leaseDurationSeconds ?? this.durationS) * 1000;
    if (holder && holder !== identity && Date.now() - this.observedAt < duration) return false;
    const takeover = holder !== identity;
    lease.spec = {
      ...spec,
      holderIdentity: identity,
      leaseDurationSeconds: this.durationS,
      renewTime: now,
      acquireTime: takeover ? now : spec.acquireTime ? toMicro(spec.acquireTime) : now,
      leaseTransitions: (spec.leaseTransitions ?? 0) + (takeover && holder ? 1 : 0),
    };
    // replace carries resourceVersion: two candidates racing for an expired lease cannot both win
    await this.coord.replaceNamespacedLease({ name, namespace, body: lease });
    this.observe(`${identity}/${now.toISOString()}`);
    return true;
  }

  private observe(record: string): void {
    this.observedRecord = record;
    this.observedAt = Date.now();
  }
}

export function toMicro(d: Date | string): k8s.V1MicroTime {
  return new k8s.V1MicroTime(typeof d === 'string' ? d : d.getTime());
}
