// A node that is a real machine: a QEMU VM booting the Debian 12 guest image of
// hack/vm/build-image.sh, with systemd as PID 1 on cgroup v2 (the layout of
// production hosts, which the namespace nodes of systemdNode.ts cannot give on
// this project's hybrid-cgroup machines). See ../../shared/vm-nodes.md for the
// facts this rests on.
//
// - Software emulation (TCG): KVM is unusable on the project's machines, and
//   TCG is the same everywhere. 7-40x slower than the host, ~40 s of a core
//   per boot, so tests run one VM at a time.
// - Disk: a qcow2 overlay per VM on the cached raw base image (instant, a few MB).
// - Network: QEMU user networking. The guest reaches the host's loopback (the
//   harness's kube-apiserver) at 10.0.2.2; a hostfwd port reaches the agent's
//   probe server in the guest. No tap device or namespace is made, so none can
//   be left behind, and nothing on the host needs root networking.
// - Control: the QEMU guest agent (virtio-serial) runs commands in the guest;
//   QMP is the monitor. Neither needs the guest's network.
// - The project's build reaches the guest read-only by virtio-9p (see vmAgent.ts).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './binaries.js';
import { freePort, waitFor } from './process.js';
import { GuestAgent, qmp, type GuestExecResult } from './qemuSockets.js';

const execFileP = promisify(execFile);
const QEMU = 'qemu-system-x86_64';
const BUILD_SCRIPT = path.join(repoRoot, 'hack', 'vm', 'build-image.sh');
/** Boot to multi-user under TCG: ~36 s idle, 70-100 s with the cores busy. */
const BOOT_TIMEOUT_MS = 300_000;

/** The guest's view of the host's loopback on QEMU's user network. */
export const HOST_FROM_GUEST = '10.0.2.2';

export interface VmShare {
  /** The 9p mount tag the guest mounts by. */
  tag: string;
  /** Host directory, shared read-only. */
  hostPath: string;
}

export interface VmNodeOptions {
  /** Node name; also the guest's hostname. */
  name: string;
  /** Where the VM's overlay, sockets and console log live (removed by stop()). */
  baseDir: string;
  /** Host directories shared read-only into the guest by virtio-9p. */
  shares?: VmShare[];
  /** Guest TCP ports reachable from the host at 127.0.0.1:<hostPort>. */
  forwardPorts?: number[];
}

export interface VmImage {
  dir: string;
  disk: string;
  kernel: string;
  initrd: string;
}

/** The cached guest image; fails, saying what is missing, when the host cannot run VM nodes. */
export async function vmImage(): Promise<VmImage> {
  for (const tool of [QEMU, 'qemu-img']) {
    if (!(await which(tool))) {
      throw new Error(
        `VM nodes need ${tool}, which this host lacks: run 'make vm-image' (hack/vm/build-image.sh installs qemu-system-x86 and qemu-utils)`,
      );
    }
  }
  // env given explicitly: under jest, the module's process.env is not the one child_process reads.
  const dir = (await execFileP('/bin/bash', [BUILD_SCRIPT, '--path'], { env: process.env })).stdout.trim();
  const img: VmImage = {
    dir,
    disk: path.join(dir, 'disk.raw'),
    kernel: path.join(dir, 'vmlinuz'),
    initrd: path.join(dir, 'initrd.img'),
  };
  if (!existsSync(path.join(dir, 'done'))) {
    throw new Error(`the VM guest image is not built (${dir} is missing): run 'make vm-image' (hack/vm/build-image.sh)`);
  }
  return img;
}

async function which(cmd: string): Promise<boolean> {
  try {
    await execFileP('/bin/bash', ['-c', `command -v ${cmd}`], { env: process.env });
    return true;
  } catch {
    return false;
  }
}

export class VmNode {
  readonly name: string;
  readonly dir: string;
  readonly guest: GuestAgent;
  /** guest port -> host port on 127.0.0.1 */
  readonly ports = new Map<number, number>();
  /** Seconds from QEMU's start to systemd's "running" (the last boot). */
  bootSeconds = 0;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    private readonly opts: VmNodeOptions,
    private readonly image: VmImage,
  ) {
    this.name = opts.name;
    this.dir = path.join(opts.baseDir, opts.name);
    this.guest = new GuestAgent(this.qgaSocket);
  }

  get overlay(): string {
    return path.join(this.dir, 'disk.qcow2');
  }
  get qgaSocket(): string {
    return path.join(this.dir, 'qga.sock');
  }
  get qmpSocket(): string {
    return path.join(this.dir, 'qmp.sock');
  }
  get consoleLog(): string {
    return path.join(this.dir, 'console.log');
  }
  /** QEMU's PID while it runs. */
  get pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  static async start(opts: VmNodeOptions): Promise<VmNode> {
    const vm = new VmNode(opts, await vmImage());
    try {
      await vm.launch();
      await vm.waitBooted();
    } catch (err) {
      await vm.stop().catch(() => undefined);
      throw err;
    }
    return vm;
  }

  private async launch(): Promise<void> {
    await fs.mkdir(this.dir, { recursive: true });
    await execFileP('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'raw', '-b', this.image.disk, this.overlay]);
    let hostfwd = '';
    for (const guestPort of this.opts.forwardPorts ?? []) {
      const hostPort = await freePort();
      this.ports.set(guestPort, hostPort);
      hostfwd += `,hostfwd=tcp:127.0.0.1:${hostPort}-:${guestPort}`;
    }
    const args = [
      '-name',
      this.name,
      '-accel',
      'tcg,thread=single,tb-size=256',
      '-cpu',
      'max',
      '-m',
      '1024',
      '-smp',
      '1',
      '-display',
      'none',
      '-no-user-config',
      '-nodefaults',
      '-kernel',
      this.image.kernel,
      '-initrd',
      this.image.initrd,
      '-append',
      `root=/dev/vda rw console=ttyS0 quiet systemd.hostname=${this.name}`,
      '-drive',
      `file=${this.overlay},format=qcow2,if=virtio,cache=unsafe`,
      '-netdev',
      `user,id=n0${hostfwd}`,
      '-device',
      'virtio-net-pci,netdev=n0',
      '-serial',
      `file:${this.consoleLog}`,
      '-chardev',
      `socket,id=qga0,path=${this.qgaSocket},server=on,wait=off`,
      '-device',
      'virtio-serial-pci',
      '-device',
      'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
      '-qmp',
      `unix:${this.qmpSocket},server=on,wait=off`,
    ];
    for (const [i, s] of (this.opts.shares ?? []).entries()) {
      args.push('-virtfs', `local,path=${s.hostPath},mount_tag=${s.tag},security_model=none,readonly=on,id=fs${i}`);
    }
    const log = openSync(path.join(this.dir, 'qemu.log'), 'a');
    // setpriv execs QEMU (same PID) with a parent-death signal: a test process that
    // dies without its teardown takes its VM along instead of leaving it running.
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', QEMU, ...args], { stdio: ['ignore', log, log] });
    closeSync(log);
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Until the guest agent answers and systemd has finished booting (state running). */
  async waitBooted(since = Date.now()): Promise<void> {
    await waitFor(
      `VM ${this.name}: guest agent`,
      async () => {
        if (!this.pid) throw new Error(`QEMU exited:\n${this.logs()}`);
        return this.guest.ping();
      },
      BOOT_TIMEOUT_MS,
      1000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${this.logs()}`);
    });
    const r = await this.exec(['systemctl', 'is-system-running', '--wait'], BOOT_TIMEOUT_MS);
    if (r.stdout.trim() !== 'running') {
      const failed = await this.exec(['systemctl', '--failed', '--no-legend']);
      throw new Error(`VM ${this.name} booted ${r.stdout.trim()}, not running; failed units:\n${failed.stdout}`);
    }
    this.bootSeconds = (Date.now() - since) / 1000;
  }

  /** Runs argv in the guest through the guest agent. */
  exec(argv: string[], timeoutMs = 60_000): Promise<GuestExecResult> {
    return this.guest.exec(argv, timeoutMs);
  }

  /** A shell script in the guest; throws with its stderr unless it exits 0. Resolves to stdout. */
  async sh(script: string, timeoutMs = 60_000): Promise<string> {
    const r = await this.exec(['/bin/sh', '-c', script], timeoutMs);
    if (r.code !== 0) throw new Error(`in VM ${this.name}: ${script}: exit ${r.code}: ${r.stderr}`);
    return r.stdout;
  }

  /** The guest's boot id: a new one after every boot. */
  async bootId(): Promise<string> {
    return (await this.sh('cat /proc/sys/kernel/random/boot_id')).trim();
  }

  /** `systemctl reboot` inside the guest, then waits for the next boot to finish. QEMU keeps running. */
  async reboot(): Promise<void> {
    const before = await this.bootId();
    const since = Date.now();
    // --no-block: the guest agent is stopped by the reboot it would wait for. Even
    // so, the reboot can stop the agent between guest-exec and guest-exec-status:
    // the status request then waits in the channel and the next boot's agent
    // answers it "Invalid parameter 'pid'" (a CI run failed so). The command's
    // outcome is therefore not the verdict; a new boot ID within the bound is, and
    // the command's error is kept for the message if none comes.
    const ordered = await this.exec(['systemctl', 'reboot', '--no-block']).then(
      (r) => {
        // It ran and refused: no reboot is coming, say so now rather than after the boot bound.
        if (r.code !== 0) throw new Error(`in VM ${this.name}: systemctl reboot: exit ${r.code}: ${r.stderr}`);
        return undefined;
      },
      (err: Error) => err,
    );
    await waitFor(
      `VM ${this.name}: a new boot`,
      async () => {
        if (!this.pid) throw new Error(`QEMU exited during the reboot:\n${this.logs()}`);
        if (!(await this.guest.ping())) return undefined;
        const id = await this.bootId().catch(() => before);
        return id !== before ? true : undefined;
      },
      BOOT_TIMEOUT_MS,
      1000,
    ).catch((err: Error) => {
      throw ordered ? new Error(`${err.message}; the reboot command itself failed: ${ordered.message}`) : err;
    });
    await this.waitBooted(since);
  }

  /** The last lines of QEMU's own log and of the guest console. */
  logs(chars = 3000): string {
    const read = (p: string): string => (existsSync(p) ? readFileSync(p, 'utf8').slice(-chars) : '');
    return `qemu.log:\n${read(path.join(this.dir, 'qemu.log'))}\nconsole:\n${read(this.consoleLog)}`;
  }

  /** QMP quit (QEMU exits at once; the overlay is scratch), SIGKILL if QEMU stays; then the VM's files go. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child && this.pid) {
      await qmp(this.qmpSocket, 'quit', undefined, 5000).catch(() => undefined);
      let timer: NodeJS.Timeout | undefined;
      const gone = await Promise.race([
        this.exited.then(() => true),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(false), 10_000))),
      ]);
      clearTimeout(timer);
      if (!gone) {
        child.kill('SIGKILL');
        await this.exited;
      }
    }
    if (!process.env.SDW_KEEP_RUN_DIR) await fs.rm(this.dir, { recursive: true, force: true });
  }

  /** What stop() must leave nothing of: a live QEMU of this VM, its overlay, its sockets, its directory. */
  leftovers(): string[] {
    const left: string[] = [];
    const pid = this.child?.pid;
    if (pid && existsSync(`/proc/${pid}`)) {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
      if (cmdline.includes(this.dir)) left.push(`QEMU process ${pid}`);
    }
    for (const p of [this.overlay, this.qgaSocket, this.qmpSocket, this.dir]) if (existsSync(p)) left.push(p);
    return left;
  }
}
