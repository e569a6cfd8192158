// Runs a reconcile function over a work queue with N workers, the way
// controller-runtime does: errors requeue as the error policy says (per-item
// backoff by default), a returned
// requeueAfter schedules the next pass, and every pass is counted in metrics.
import type { Logger } from '../observability/log.js';
import { errorMessage } from '../observability/log.js';
import type { Metrics } from '../observability/metrics.js';
import { defaultErrorPolicy, type ErrorPolicy } from './errorPolicy.js';
import { WorkQueue, type BackoffOptions } from './workqueue.js';

export interface ReconcileResult {
  requeueAfterMs?: number;
}

/**
 * One workqueue_longest_running_processor_seconds gauge per registry, reading
 * every loop registered on it (a process may run several loops, as the agent does).
 */
const longestRunning = new WeakMap<Metrics, Set<WorkQueue>>();

function trackLongestRunning(metrics: Metrics, queue: WorkQueue): void {
  let queues = longestRunning.get(metrics);
  if (!queues) {
    const set = new Set<WorkQueue>();
    queues = set;
    longestRunning.set(metrics, set);
    metrics.gaugeFn(
      'workqueue_longest_running_processor_seconds',
      'How many seconds the longest running processor has been running',
      ['name'],
      (g) => {
        for (const q of set) g.set({ name: q.name }, q.longestRunningSeconds());
      },
    );
  }
  queues.add(queue);
}

export class ControllerLoop {
  readonly queue: WorkQueue;
  private running = 0;
  private stopped = false;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    readonly name: string,
    private readonly reconcile: (key: string) => Promise<ReconcileResult>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly workers = 2,
    backoff: BackoffOptions = { baseMs: 200, maxMs: 60_000 },
    /** What a failed pass does next (errorPolicy.ts), kept apart from reconcile. */
    private readonly errorPolicy: ErrorPolicy = defaultErrorPolicy,
  ) {
    this.queue = new WorkQueue(name, backoff, metrics.workqueue);
    // As controller-runtime: every series exists from the start (at 0), so a
    // dashboard or an alert on errors sees a value before the first error.
    for (const result of ['success', 'error', 'requeue', 'requeue_after']) metrics.reconcile.total.inc({ controller: name, result }, 0);
    metrics.reconcile.errors.inc({ controller: name }, 0);
    trackLongestRunning(metrics, this.queue);
  }

  start(): void {
    for (let i = 0; i < this.workers; i++) void this.worker();
  }

  /** Takes no more keys; passes already running finish on their own (see drain). */
  stop(): void {
    this.stopped = true;
    this.queue.shutdown();
  }

  /**
   * Waits for the passes still running, at most timeoutMs (controller-runtime's
   * graceful shutdown timeout); true when they all finished in time.
   */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.inFlight.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const finished = Promise.allSettled([...this.inFlight]).then(() => true);
    const ok = await Promise.race([finished, timeout]);
    clearTimeout(timer);
    return ok;
  }

  get busy(): number {
    return this.running;
  }

  private async worker(): Promise<void> {
    while (!this.stopped) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const pass = this.runPass(key);
      this.inFlight.add(pass);
      await pass;
      this.inFlight.delete(pass);
    }
  }

  private async runPass(key: string): Promise<void> {
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
      const decision = this.errorPolicy(err);
      const fields = { controller: this.name, key, error: errorMessage(err), retries: this.queue.numRequeues(key) };
      if (decision.retry === 'backoff') {
        this.log[decision.level]('reconcile failed, requeued with backoff', fields);
        this.queue.addRateLimited(key);
      } else {
        this.log[decision.level]('reconcile failed, requeued', { ...fields, afterMs: decision.retry });
        this.queue.addAfter(key, decision.retry);
      }
    } finally {
      end();
      this.running--;
      this.queue.done(key);
    }
  }
}
