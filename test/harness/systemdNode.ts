// A real systemd "node": systemd as PID 1 of its own pid/mount/cgroup/uts
// namespaces (see shared/node-sandbox.md and node-sandbox.sh beside this file).
// The host sees its system bus as a socket file and its /etc/systemd/system and
// journal as plain directories.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promises as fs, openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './binaries.js';
import { ARTIFACT_ROOT } from '../../src/api/artifacts.js';

const execFileP = promisify(execFile);
// The script is read from the source tree, also when this file runs from dist/.
const SCRIPT = path.join(repoRoot, 'test', 'harness', 'node-sandbox.sh');
// SIGRTMIN+4 asks systemd for a clean poweroff: every process inside ends.
const SIGRTMIN_PLUS_4 = 38;
const BOOT_TIMEOUT_MS = 60_000;

export interface SystemdNodeOptions {
  /** Node name; also the sandbox's hostname. */
  name: string;
  /** A directory outside /tmp, /var/tmp and /run (the node mounts those privately). */
  baseDir: string;
  /** Unique per test run, so parallel runs never share cgroup directories. */
  runId: string;
  /** SDNODE_* settings of node-sandbox.sh (extra units, per-node directories, shadowed sysctls). */
  sandboxEnv?: Record<string, string>;
}

export class SystemdNode {
  readonly name: string;
  readonly dir: string;
  readonly cgroupName: string;
  private readonly sandboxEnv: Record<string, string>;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Host PID of the node's systemd (PID 1 inside). */
  systemdPid = 0;

  private constructor(opts: SystemdNodeOptions) {
    this.name = opts.name;
    this.dir = path.join(opts.baseDir, opts.name);
    this.cgroupName = `sdw-${opts.runId}-${opts.name}`;
    // Every node has its own /var/lib/sdw/artifacts (the agent's --artifact-dir, artifactDir below),
    // as two machines would: agents side by side must not stage into, or sweep, one directory.
    const env = opts.sandboxEnv ?? {};
    this.sandboxEnv = { ...env, SDNODE_BINDS: [env.SDNODE_BINDS, ARTIFACT_ROOT].filter(Boolean).join(' ') };
  }

  get busSocketPath(): string {
    return path.join(this.dir, 'bus', 'system_bus_socket');
  }
  get busAddress(): string {
    return `unix:path=${this.busSocketPath}`;
  }
  /** The node's /etc/systemd/system. */
  get unitDir(): string {
    return path.join(this.dir, 'units');
  }
  /** The node's /etc/sdw (the files beside the units). */
  get filesDir(): string {
    return path.join(this.dir, 'files');
  }
  /**
   * The agent's --node-root: node paths outside /etc/sdw are here as the host sees
   * them, for the bound ones (SDNODE_BINDS); any other path has no directory here,
   * so an agent never writes the host's own /srv, /opt... for a node.
   */
  get nodeRoot(): string {
    return path.join(this.dir, 'fs');
  }
  /** The node's /var/lib/sdw/artifacts, as the host sees it. */
  get artifactDir(): string {
    return path.join(this.dir, 'fs', ARTIFACT_ROOT);
  }
  get journalDir(): string {
    return path.join(this.dir, 'journal');
  }
  get logFile(): string {
    return path.join(this.dir, '..', `${this.name}.console.log`);
  }

  static async start(opts: SystemdNodeOptions): Promise<SystemdNode> {
    const node = new SystemdNode(opts);
    await node.boot();
    return node;
  }

  private async boot(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    const log = openSync(this.logFile, 'a');
    const child = spawn('bash', [SCRIPT, this.dir, this.cgroupName, this.name], {
      stdio: ['ignore', log, log],
      detached: true,
      env: { ...process.env, ...this.sandboxEnv },
    });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    // A liveness bound, not a speed target: a node boots in 1-2 s, but two jest workers
    // booting nodes beside builds on 2 cores once took longer than 30 s.
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    let state: string | undefined;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      if (!this.systemdPid) this.systemdPid = systemdPidOf(child.pid!);
      if (this.systemdPid && existsSync(this.busSocketPath)) {
        state = await this.systemState();
        if (state === 'running') return;
      }
      await sleep(100);
    }
    const where = await this.bootDiagnosis(child, state);
    const tail = existsSync(this.logFile) ? readFileSync(this.logFile, 'utf8').slice(-2000) : '';
    await this.stop();
    throw new Error(`systemd node ${this.name} did not reach SystemState=running in ${BOOT_TIMEOUT_MS / 1000}s: ${where}\n${tail}`);
  }

  /** Where a boot that did not finish was: the sandbox script, systemd's exec, the bus, or systemd's jobs. */
  private async bootDiagnosis(child: ChildProcess, state: string | undefined): Promise<string> {
    if (child.exitCode !== null) return `the sandbox exited with code ${child.exitCode} (console log below)`;
    if (!this.systemdPid) {
      return `systemd was not yet exec'd by the sandbox script (its processes: ${processTree(child.pid!)})`;
    }
    if (!existsSync(this.busSocketPath)) return `systemd (host PID ${this.systemdPid}) runs but has no bus socket yet`;
    if (state === undefined) return `systemd (host PID ${this.systemdPid}) does not answer on its bus`;
    let jobs = '';
    try {
      jobs = (
        await this.busctl('call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'ListJobs')
      ).trim();
    } catch (e) {
      jobs = `ListJobs failed: ${(e as Error).message}`;
    }
    let failed = '';
    try {
      failed = (
        await this.busctl(
          'call',
          'org.freedesktop.systemd1',
          '/org/freedesktop/systemd1',
          'org.freedesktop.systemd1.Manager',
          'ListUnitsFiltered',
          'as',
          '1',
          'failed',
        )
      ).trim();
    } catch (e) {
      failed = `ListUnitsFiltered failed: ${(e as Error).message}`;
    }
    return `SystemState=${state}; pending jobs: ${jobs.slice(0, 1500)}; failed units: ${failed.slice(0, 1000)}`;
  }

  /** Manager.SystemState read through busctl (independent of the code under test). */
  async systemState(): Promise<string | undefined> {
    try {
      const { stdout } = await execFileP(
        'busctl',
        [
          `--address=${this.busAddress}`,
          'get-property',
          'org.freedesktop.systemd1',
          '/org/freedesktop/systemd1',
          'org.freedesktop.systemd1.Manager',
          'SystemState',
        ],
        { timeout: 5000 },
      );
      return /"(.*)"/.exec(stdout)?.[1];
    } catch {
      return undefined;
    }
  }

  /** Runs busctl against this node's bus, for tests that check systemd independently. */
  async busctl(...args: string[]): Promise<string> {
    const { stdout } = await execFileP('busctl', [`--address=${this.busAddress}`, ...args], { timeout: 10_000 });
    return stdout;
  }

  /** The host PIDs of every process in the node (systemd's pid namespace). */
  async processes(): Promise<number[]> {
    if (!this.systemdPid) return [];
    let ns: string;
    try {
      ns = await fs.readlink(`/proc/${this.systemdPid}/ns/pid`);
    } catch {
      return [];
    }
    const pids: number[] = [];
    for (const entry of await fs.readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if ((await fs.readlink(`/proc/${entry}/ns/pid`)) === ns) pids.push(Number(entry));
      } catch {
        /* gone */
      }
    }
    return pids;
  }

  /** Clean poweroff, then removal of the node's cgroup directories and files. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      if (!this.systemdPid && child.pid) this.systemdPid = systemdPidOf(child.pid);
      if (this.systemdPid) {
        try {
          process.kill(this.systemdPid, SIGRTMIN_PLUS_4);
        } catch {
          /* already gone */
        }
      }
      // A cleared timer: a pending 20 s sleep would keep the test process alive after a clean stop.
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 20_000)));
      const clean = await Promise.race([this.exited.then(() => true), timedOut]);
      clearTimeout(timer);
      if (!clean) {
        // PID 1 of a pid namespace takes every process in it along when killed.
        for (const pid of [this.systemdPid, child.pid]) {
          try {
            if (pid) process.kill(pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await this.exited;
      }
    }
    await removeCgroupDirs(this.cgroupName);
    await fs.rm(this.dir, { recursive: true, force: true });
    await fs.rm(this.logFile, { force: true });
  }
}

/**
 * The node's systemd: the child of `unshare`. The script's bash execs unshare
 * (same PID), but before that its children are short-lived mkdir/cat/echo: taking
 * "the first child" too early recorded one of those, so stop() signalled a dead
 * (or reused!) PID and the node's systemd was orphaned. Accept only the child of
 * a process named unshare that is itself named systemd (the inner bash execs it).
 */
function systemdPidOf(pid: number): number {
  try {
    if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== 'unshare') return 0;
    const kid = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0] ?? 0);
    if (!kid) return 0;
    return readFileSync(`/proc/${kid}/comm`, 'utf8').trim() === 'systemd' ? kid : 0;
  } catch {
    return 0;
  }
}

/** "pid comm wchan" of a process and its descendants: where a sandbox script waits. */
function processTree(pid: number): string {
  const out: string[] = [];
  const walk = (p: number, depth: number): void => {
    if (depth > 5) return;
    try {
      const comm = readFileSync(`/proc/${p}/comm`, 'utf8').trim();
      const wchan = readFileSync(`/proc/${p}/wchan`, 'utf8').trim();
      out.push(`${p} ${comm} ${wchan || '-'}`);
      for (const kid of readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) {
        if (kid) walk(Number(kid), depth + 1);
      }
    } catch {
      // gone meanwhile
    }
  };
  walk(pid, 0);
  return out.join(', ') || 'none';
}

/** Every directory named `name` in any hierarchy under /sys/fs/cgroup. */
export async function findCgroupDirs(name: string): Promise<string[]> {
  const found: string[] = [];
  async function walk(dir: string, depth: number): Promise<void> {
    if (depth > 6) return;
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === name) found.push(p);
      else await walk(p, depth + 1);
    }
  }
  await walk('/sys/fs/cgroup', 0);
  return found;
}

async function removeCgroupDirs(name: string): Promise<void> {
  for (const top of await findCgroupDirs(name)) {
    // Empty cgroups are removed with rmdir, deepest first.
    const dirs: string[] = [];
    const collect = async (d: string): Promise<void> => {
      for (const e of await fs.readdir(d, { withFileTypes: true }).catch(() => [])) {
        if (e.isDirectory()) await collect(path.join(d, e.name));
      }
      dirs.push(d);
    };
    await collect(top);
    for (const d of dirs) {
      for (let i = 0; i < 50; i++) {
        try {
          await fs.rmdir(d);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOENT') break;
          await sleep(100); // tasks may still be leaving
        }
      }
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
