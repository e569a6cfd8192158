// A child process the harness started and therefore may end: by its PID only.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, existsSync } from 'node:fs';
import net from 'node:net';

export class ManagedProcess {
  private child: ChildProcess | undefined;
  private exitPromise: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    readonly command: string,
    readonly args: string[],
    readonly logFile: string,
    readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  start(): void {
    if (this.running) return;
    const log = openSync(this.logFile, 'a');
    const child = spawn(this.command, this.args, { stdio: ['ignore', log, log], env: this.env });
    closeSync(log);
    this.child = child;
    this.exitPromise = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** SIGTERM, then SIGKILL after graceMs. Resolves when the process has exited. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || !this.running) return;
    child.kill('SIGTERM');
    const exited = await Promise.race([this.exitPromise.then(() => true), delay(graceMs).then(() => false)]);
    if (!exited) {
      child.kill('SIGKILL');
      await this.exitPromise;
    }
  }

  /**
   * Lets this process's parent exit while it runs (Node otherwise waits for it): for a process
   * that outlives its starter by design and is ended by someone else (sharedCluster.ts).
   */
  unref(): void {
    this.child?.unref();
  }

  /** How the process ended: its exit code, or the signal that ended it; undefined while it runs. */
  get exitStatus(): { code: number | null; signal: NodeJS.Signals | null } | undefined {
    if (!this.child || this.running) return undefined;
    return { code: this.child.exitCode, signal: this.child.signalCode };
  }

  /** SIGKILL at once: for fault tests. */
  async kill(): Promise<void> {
    if (!this.child || !this.running) return;
    this.child.kill('SIGKILL');
    await this.exitPromise;
  }

  /** Suspends (SIGSTOP) or resumes (SIGCONT): a process that is alive but silent. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child!.kill(sig);
  }

  logTail(chars = 3000): string {
    return existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-chars) : '';
  }
}

/** Whether a process with this PID exists (signal 0 probes without signalling). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A free TCP port on 127.0.0.1 (the kernel picks; the tiny race is acceptable in tests). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastErr = err;
    }
    await delay(intervalMs);
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr instanceof Error ? String(lastErr) : JSON.stringify(lastErr)}` : ''}`,
  );
}
