// Runs a reconcile function over a work queue with N workers, the way
// controller-runtime does: errors requeue with per-item backoff, a returned
// requeueAfter schedules the next pass, and every pass is counted in metrics.
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { WorkQueue } from './workqueue.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

export class ControllerLoop {
  readonly queue: WorkQueue;
  private running = 0;
  private stopped = false;

  constructor(
    readonly name: string,
    private readonly reconcile: (key: string) => Promise<ReconcileResult>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly workers = 2,
  ) {
    this.queue = new WorkQueue(name, { baseMs: 200, maxMs: 60_000 }, metrics.workqueue);
    // As controller-runtime: every series exists from the start (at 0), so a
    // dashboard or an alert on errors sees a value before the first error.
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) metrics.reconcile.total.inc({ controller: name, result }, 0);
    metrics.reconcile.errors.inc({ controller: name }, 0);
    metrics.gaugeFn('workqueue_longest_running_processor_seconds', 'How many seconds the longest running processor has been running', ['name'], (g) =>
      g.set({ name }, this.queue.longestRunningSeconds()));
  }

  start(): void {
    for (let i = 0; i < this.workers; i++) void this.worker();
  }

  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  get busy(): number {
    return this.running;
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.running++;
      const end = this.metrics.reconcile.time.startTimer({ controller: this.name });
      try {
        const res = await this.reconcile(key);
        this.queue.forget(key);
        if (res.requeueAfterMs !== undefined) {
          this.metrics.reconcile.total.inc({ controller: this.name, result: 'requeue_after' });
          this.queue.addAfter(key, res.requeueAfterMs);
        } else {
          this.metrics.reconcile.total.inc({ controller: this.name, result: 'success' });
        }
      } catch (err) {
        this.metrics.reconcile.total.inc({ controller: this.name, result: 'error' });
        this.metrics.reconcile.errors.inc({ controller: this.name });
        const conflict = (err as { code?: number }).code === 409;
        // A conflict only means our cache was behind: retry soon, quietly.
        (conflict ? this.log.debug : this.log.warn)('reconcile failed, requeued with backoff', {
          key, error: errorMessage(err), retries: this.queue.numRequeues(key),
        });
        this.queue.addRateLimited(key);
      } finally {
        end();
        this.running--;
        this.queue.done(key);
      }
    }
  }
}
