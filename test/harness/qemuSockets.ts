// The two QEMU control channels of a VM node, as small clients over their unix
// sockets (one connection per call: QEMU's socket chardevs serve one client at a
// time, and a connection left open would block the next caller):
//   - QMP, the monitor (JSON; HMP echoes terminal escapes): quit, link state;
//   - the QEMU guest agent inside the guest (virtio-serial): run a command,
//     read and write files. It works while the guest's network is down.
import net from 'node:net';
import { randomInt } from 'node:crypto';

interface Reply {
  return?: unknown;
  error?: { class: string; desc: string };
  event?: string;
}

/** A JSON-lines conversation on a unix socket, bounded by timeoutMs. */
class LineSocket {
  private buf = '';
  private waiters: Array<(line: string) => void> = [];
  private lines: string[] = [];
  private failure: Error | undefined;

  private constructor(private readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      let i: number;
      while ((i = this.buf.indexOf('\n')) >= 0) {
        // The guest agent may prefix a reply with 0xFF after a guest-sync-delimited.
        const line = this.buf
          .slice(0, i)
          .replace(/^\xff+/, '')
          .trim();
        this.buf = this.buf.slice(i + 1);
        if (!line) continue;
        const w = this.waiters.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const w of this.waiters.splice(0)) w('');
    };
    sock.on('error', fail);
    sock.on('close', () => fail(new Error('socket closed')));
  }

  static connect(socketPath: string, timeoutMs: number): Promise<LineSocket> {
    return new Promise((resolve, reject) => {
      const sock = net.connect(socketPath);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new Error(`connect ${socketPath}: timeout`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve(new LineSocket(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
  }

  send(obj: unknown, prefix = ''): void {
    this.sock.write(prefix + JSON.stringify(obj) + '\n', 'latin1');
  }

  next(timeoutMs: number): Promise<Reply> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(JSON.parse(ready) as Reply);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== take);
        reject(new Error(`no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      const take = (line: string): void => {
        clearTimeout(timer);
        if (!line) reject(this.failure ?? new Error('socket closed'));
        else {
          try {
            resolve(JSON.parse(line) as Reply);
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        }
      };
      this.waiters.push(take);
    });
  }

  /** The next reply that is not an asynchronous event. */
  async reply(timeoutMs: number): Promise<Reply> {
    for (;;) {
      const r = await this.next(timeoutMs);
      if (!r.event) return r;
    }
  }

  close(): void {
    this.sock.destroy();
  }
}

function unwrap<T>(what: string, r: Reply): T {
  if (r.error) throw new Error(`${what}: ${r.error.class}: ${r.error.desc}`);
  return r.return as T;
}

/** One QMP command: greeting, capabilities negotiation, the command. */
export async function qmp<T = unknown>(socketPath: string, execute: string, args?: object, timeoutMs = 10_000): Promise<T> {
  const s = await LineSocket.connect(socketPath, timeoutMs);
  try {
    await s.next(timeoutMs); // {"QMP": {...}} greeting
    s.send({ execute: 'qmp_capabilities' });
    unwrap('qmp_capabilities', await s.reply(timeoutMs));
    s.send(args ? { execute, arguments: args } : { execute });
    return unwrap<T>(execute, await s.reply(timeoutMs));
  } finally {
    s.close();
  }
}

export interface GuestExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The QEMU guest agent. Every call opens the socket, flushes whatever an earlier
 * (timed-out) caller left unread with guest-sync, and closes it again; calls are
 * serialised, since the agent serves one client.
 */
export class GuestAgent {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly socketPath: string) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private session<T>(timeoutMs: number, fn: (call: (execute: string, args?: object) => Promise<unknown>) => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const s = await LineSocket.connect(this.socketPath, timeoutMs);
      try {
        const id = randomInt(1, 2 ** 31);
        s.send({ execute: 'guest-sync-delimited', arguments: { id } }, '\xff');
        for (;;) {
          const r = await s.next(Math.min(timeoutMs, 5000));
          if (r.return === id) break;
        }
        return await fn(async (execute, args) =>
          unwrap(execute, (s.send(args ? { execute, arguments: args } : { execute }), await s.reply(timeoutMs))),
        );
      } finally {
        s.close();
      }
    });
  }

  /** Whether the guest agent answers (the guest has booted far enough to start it). */
  async ping(timeoutMs = 3000): Promise<boolean> {
    try {
      await this.session(timeoutMs, (call) => call('guest-ping'));
      return true;
    } catch {
      return false;
    }
  }

  /** Runs argv in the guest (no shell) and waits for it to exit. */
  exec(argv: string[], timeoutMs = 60_000, input?: string): Promise<GuestExecResult> {
    return this.session(timeoutMs, async (call) => {
      const started = (await call('guest-exec', {
        path: argv[0],
        arg: argv.slice(1),
        'capture-output': true,
        ...(input !== undefined ? { 'input-data': Buffer.from(input).toString('base64') } : {}),
      })) as { pid: number };
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const st = (await call('guest-exec-status', { pid: started.pid }).catch((err: Error) => {
          // The agent that started the command was stopped (a reboot) and its successor,
          // reading the request from the channel, does not know the pid: say so.
          if (/Invalid parameter 'pid'/.test(err.message))
            throw new Error(`guest command ${argv.join(' ')}: the guest agent that ran it is gone (reboot?): ${err.message}`);
          throw err;
        })) as {
          exited: boolean;
          exitcode?: number;
          signal?: number;
          'out-data'?: string;
          'err-data'?: string;
        };
        if (st.exited) {
          return {
            code: st.exitcode ?? 128 + (st.signal ?? 0),
            stdout: Buffer.from(st['out-data'] ?? '', 'base64').toString(),
            stderr: Buffer.from(st['err-data'] ?? '', 'base64').toString(),
          };
        }
        if (Date.now() > deadline) throw new Error(`guest command ${argv.join(' ')} still running after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    });
  }

  /** Writes a file in the guest (created or truncated) with the given mode. */
  async writeFile(guestPath: string, content: string, mode = '0644'): Promise<void> {
    // tee reads stdin; chmod follows. Through exec, so a missing directory is created too.
    const r = await this.exec(
      ['/bin/sh', '-c', 'mkdir -p "$(dirname "$1")" && cat > "$1" && chmod "$2" "$1"', 'sh', guestPath, mode],
      30_000,
      content,
    );
    if (r.code !== 0) throw new Error(`writing ${guestPath} in the guest failed (${r.code}): ${r.stderr}`);
  }
}
