// Network probes (httpGet, tcpSocket) run in another network namespace than the
// agent's own: a probe must connect where the unit listens, the node's network.
// In production the agent pod has hostNetwork, so its own namespace is the
// node's and this is not used. Where a node is a network namespace of the
// agent's host (the test nodes of test/harness, booted with unshare --net, while
// their agent runs on the host to reach the API server on the host's loopback),
// --probe-netns names the node's namespace and the probes run there: the same
// code (network.ts) in one long-lived worker process entered with
// nsenter --net, since a Node.js process cannot move one socket into another
// namespace.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NetworkProbe, ProbeOutcome } from './network.js';

const WORKER = fileURLToPath(new URL('./netnsWorker.js', import.meta.url));
/** Beyond the probe's own timeout: a worker that does not answer by then is not answering. */
const GRACE_MS = 5_000;

export class NetnsProbeRunner {
  private worker: ChildProcessWithoutNullStreams | undefined;
  private readonly pending = new Map<number, (o: ProbeOutcome) => void>();
  private nextId = 0;
  private stderrTail = '';

  /** netns: a network namespace file, e.g. /proc/<node's PID 1>/ns/net. */
  constructor(private readonly netns: string) {}

  run(probe: NetworkProbe, timeoutSeconds = 1): Promise<ProbeOutcome> {
    const worker = this.worker ?? this.spawn();
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const timer = setTimeout(
        () => this.settle(id, { ok: false, message: `no answer from the probe worker in ${this.netns}` }),
        timeoutSeconds * 1000 + GRACE_MS,
      );
      this.pending.set(id, (o) => {
        clearTimeout(timer);
        resolve(o);
      });
      worker.stdin.write(`${JSON.stringify({ id, probe, timeoutSeconds })}\n`);
    });
  }

  stop(): void {
    this.worker?.kill();
    this.worker = undefined;
  }

  private settle(id: number, o: ProbeOutcome): void {
    const done = this.pending.get(id);
    this.pending.delete(id);
    done?.(o);
  }

  private spawn(): ChildProcessWithoutNullStreams {
    const w = spawn('nsenter', [`--net=${this.netns}`, '--', process.execPath, WORKER], { stdio: 'pipe' });
    this.worker = w;
    this.stderrTail = '';
    readline.createInterface({ input: w.stdout }).on('line', (line) => {
      try {
        const { id, ok, message } = JSON.parse(line) as ProbeOutcome & { id: number };
        this.settle(id, { ok, message });
      } catch {
        /* not an answer */
      }
    });
    w.stderr.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-500)));
    const gone = (why: string) => {
      if (this.worker === w) this.worker = undefined;
      // Every probe waiting on it fails, saying why; the next probe starts a new worker.
      for (const id of [...this.pending.keys()])
        this.settle(id, { ok: false, message: `probe worker in ${this.netns} ${why}: ${this.stderrTail.trim()}` });
    };
    w.on('error', (e) => gone(`could not start (${e.message})`));
    w.on('exit', (code, signal) => gone(`exited (${signal ?? code})`));
    w.stdin.on('error', () => undefined);
    return w;
  }
}
