// Matches JobRemoved signals to the callers waiting for their job.
// The race this exists for: systemd can send JobRemoved for a fast job before the
// StartUnit reply's continuation runs, so a waiter registered after
// `await StartUnit()` would miss it and wait for ever. Every JobRemoved nobody
// waits for yet is kept (bounded: `maxFinished` entries, `finishedTtlMs` old) and
// a new waiter looks there first. No I/O here: the bus feeds it.
import { BusDisconnectedError, CallTimeoutError } from './errors.js';

export type JobResult = 'done' | 'failed' | 'canceled' | 'timeout' | 'dependency' | 'skipped' | 'invalid';

export interface JobRemoved {
  id: number;
  job: string; // object path
  unit: string;
  result: JobResult;
}

interface Waiter {
  resolve: (r: JobRemoved) => void;
  reject: (e: Error) => void;
  timer?: NodeJS.Timeout;
}

export interface JobTrackerOptions {
  maxFinished?: number;
  finishedTtlMs?: number;
  now?: () => number;
}

export class JobTracker {
  private readonly waiters = new Map<string, Waiter[]>();
  // Insertion-ordered: the oldest entry is first, which makes eviction cheap.
  private readonly finished = new Map<string, { job: JobRemoved; at: number }>();
  private readonly maxFinished: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: JobTrackerOptions = {}) {
    this.maxFinished = opts.maxFinished ?? 4096;
    this.ttlMs = opts.finishedTtlMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Bumped by abortAll(): a caller that got a job path before an abort must not wait for it. */
  epoch = 0;

  get pendingCount(): number {
    let n = 0;
    for (const w of this.waiters.values()) n += w.length;
    return n;
  }
  get finishedCount(): number {
    return this.finished.size;
  }

  /** Feed every JobRemoved signal here. */
  jobRemoved(job: JobRemoved): void {
    const ws = this.waiters.get(job.job);
    if (ws) {
      this.waiters.delete(job.job);
      for (const w of ws) {
        if (w.timer) clearTimeout(w.timer);
        w.resolve(job);
      }
      return;
    }
    this.evict();
    this.finished.delete(job.job);
    this.finished.set(job.job, { job, at: this.now() });
    if (this.finished.size > this.maxFinished) {
      const oldest = this.finished.keys().next().value;
      if (oldest !== undefined) this.finished.delete(oldest);
    }
  }

  /** Resolves with the job's JobRemoved; a job merged into another resolves all waiters. */
  wait(jobPath: string, timeoutMs?: number): Promise<JobRemoved> {
    this.evict();
    const done = this.finished.get(jobPath);
    if (done) {
      this.finished.delete(jobPath);
      return Promise.resolve(done.job);
    }
    return new Promise<JobRemoved>((resolve, reject) => {
      const w: Waiter = { resolve, reject };
      if (timeoutMs !== undefined) {
        w.timer = setTimeout(() => {
          this.drop(jobPath, w);
          reject(new CallTimeoutError(`job ${jobPath}`, timeoutMs));
        }, timeoutMs);
        w.timer.unref();
      }
      const ws = this.waiters.get(jobPath) ?? [];
      ws.push(w);
      this.waiters.set(jobPath, ws);
    });
  }

  /** The connection was lost: no JobRemoved can be trusted to come; fail every waiter. */
  abortAll(cause: 'bus' | 'systemd' | 'closed'): void {
    this.epoch++;
    const all = [...this.waiters.entries()];
    this.waiters.clear();
    this.finished.clear();
    for (const [path, ws] of all) {
      for (const w of ws) {
        if (w.timer) clearTimeout(w.timer);
        w.reject(new BusDisconnectedError(`job ${path}`, cause));
      }
    }
  }

  private drop(jobPath: string, w: Waiter): void {
    const ws = this.waiters.get(jobPath)?.filter((x) => x !== w);
    if (!ws || ws.length === 0) this.waiters.delete(jobPath);
    else this.waiters.set(jobPath, ws);
  }

  private evict(): void {
    const cutoff = this.now() - this.ttlMs;
    for (const [path, { at }] of this.finished) {
      if (at >= cutoff) break; // insertion order = time order
      this.finished.delete(path);
    }
  }
}
