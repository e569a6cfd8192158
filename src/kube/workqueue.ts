// A work queue with client-go's semantics: a key is queued at most once, a key
// being processed is never handed to a second worker (re-adds while it runs are
// kept "dirty" and queued when it finishes), failures come back after a
// per-item exponential backoff, and reconcilers may ask for a delayed requeue.
import type { WorkqueueMetrics } from '../observability/metrics.js';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Per-item exponential backoff: base * 2^failures, capped. Pure. */
export function backoffDelay(failures: number, opts: BackoffOptions): number {
  const exp = Math.min(failures, 30);
  return Math.min(opts.baseMs * 2 ** exp, opts.maxMs);
}

export class WorkQueue {
  private queue: string[] = [];
  private dirty = new Set<string>();
  private processing = new Set<string>();
  private failures = new Map<string, number>();
  private timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private addedAt = new Map<string, number>();
  private startedAt = new Map<string, number>();
  private waiters: Array<(key: string | undefined) => void> = [];
  private shuttingDown = false;

  constructor(
    readonly name: string,
    private readonly backoff: BackoffOptions = { baseMs: 100, maxMs: 5 * 60_000 },
    private readonly metrics?: WorkqueueMetrics,
  ) {
    metrics?.depth.set({ name }, 0);
    metrics?.adds.inc({ name }, 0);
    metrics?.retries.inc({ name }, 0);
  }

  get length(): number {
    return this.queue.length;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.metrics?.adds.inc({ name: this.name });
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.push(key);
  }

  private push(key: string): void {
    this.addedAt.set(key, Date.now());
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.begin(key);
      waiter(key);
      return;
    }
    this.queue.push(key);
    this.metrics?.depth.set({ name: this.name }, this.queue.length);
  }

  /** Adds the key after delayMs; an earlier pending delayed add wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const at = Date.now() + delayMs;
    const existing = this.timers.get(key);
    if (existing && existing.at <= at) return;
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.timers.set(key, { at, timer });
  }

  /** Re-adds a failed key after its backoff. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.metrics?.retries.inc({ name: this.name });
    this.addAfter(key, backoffDelay(n, this.backoff));
  }

  /** Forgets a key's failures (after a success). */
  forget(key: string): void {
    this.failures.delete(key);
  }

  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Next key to process; resolves undefined when the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) {
      this.metrics?.depth.set({ name: this.name }, this.queue.length);
      this.dirty.delete(key);
      this.begin(key);
      return Promise.resolve(key);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private begin(key: string): void {
    this.processing.add(key);
    const added = this.addedAt.get(key);
    if (added !== undefined) this.metrics?.queueDuration.observe({ name: this.name }, (Date.now() - added) / 1000);
    this.addedAt.delete(key);
    this.startedAt.set(key, Date.now());
  }

  /** Marks a key finished; if it was re-added meanwhile it is queued again. */
  done(key: string): void {
    this.processing.delete(key);
    const started = this.startedAt.get(key);
    if (started !== undefined) this.metrics?.workDuration.observe({ name: this.name }, (Date.now() - started) / 1000);
    this.startedAt.delete(key);
    if (this.dirty.has(key)) this.push(key);
  }

  /** Seconds the longest-running key has been processed (for the workqueue metric). */
  longestRunningSeconds(): number {
    let oldest = Infinity;
    for (const t of this.startedAt.values()) oldest = Math.min(oldest, t);
    return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
  }

  shutdown(): void {
    this.shuttingDown = true;
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
