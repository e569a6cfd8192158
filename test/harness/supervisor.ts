// What a Deployment's kubelet does for the controller: start the process again
// when it exits, after a short backoff (doubling, capped, as CrashLoopBackOff
// does, but in seconds not minutes). It restarts the same OperatorProcess (same
// flags, identity and probe port), so its log file and metrics URL stay valid.
// Only the process this supervisor was given is ever started or stopped.
import type { OperatorProcess } from './operator.js';
import { delay } from './process.js';

export interface SupervisorOptions {
  /** First backoff after an exit (doubling up to maxBackoffMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** How often the process is checked. */
  pollMs?: number;
}

export class Supervisor {
  /** Times the process was started again after it exited. */
  restarts = 0;
  /** When each exit was noticed (epoch ms). */
  readonly exits: number[] = [];
  private stopping = false;
  private loop: Promise<void> | undefined;

  constructor(
    readonly proc: OperatorProcess,
    private readonly opts: SupervisorOptions = {},
  ) {}

  /** Starts watching (the process is expected to be running already, or is started now). */
  start(): this {
    if (!this.proc.running) this.proc.start();
    this.stopping = false;
    this.loop = this.watch();
    return this;
  }

  private async watch(): Promise<void> {
    const base = this.opts.backoffMs ?? 1000;
    let backoff = base;
    let upSince = Date.now();
    while (!this.stopping) {
      await delay(this.opts.pollMs ?? 200);
      if (this.stopping) return;
      if (this.proc.running) {
        // Up for a while: the next crash starts from the short backoff again.
        if (Date.now() - upSince > 30_000) backoff = base;
        continue;
      }
      this.exits.push(Date.now());
      await delay(backoff);
      if (this.stopping) return;
      backoff = Math.min(backoff * 2, this.opts.maxBackoffMs ?? 8000);
      this.proc.start();
      upSince = Date.now();
      this.restarts++;
    }
  }

  /** Stops supervising, then stops the process (SIGTERM, then SIGKILL). */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
    await this.proc.stop();
  }
}
