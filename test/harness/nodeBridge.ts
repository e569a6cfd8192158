// The network of a cluster with kubelet nodes: a host bridge that carries the
// API server's address, and one veth per node whose other end is the node's
// eth0 (in the node's own network namespace) with a default route to the
// bridge. Cutting a node off is taking its host-side veth down: the node sees
// no carrier, the host and the other nodes keep working.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export async function run(cmd: string, args: string[]): Promise<string> {
  try {
    return (await execFileP(cmd, args, { timeout: 30_000 })).stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error(`${cmd} is not installed (hack/install-deps.sh installs it)`);
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr ?? String(err)}`);
  }
}

export class NodeBridge {
  /** Host-side veth name per node. */
  private readonly veths = new Map<string, string>();

  private constructor(
    readonly name: string,
    readonly subnet: string,
    private readonly runId: string,
  ) {}

  /** The host's address on the bridge: the API server listens here. */
  get address(): string {
    return `${this.subnet}.1`;
  }

  nodeAddress(index: number): string {
    return `${this.subnet}.${index + 2}`;
  }

  /** A bridge named after the run, on a 10.250.x.0/24 that no host interface uses yet. */
  static async create(runId: string): Promise<NodeBridge> {
    const used = new Set([...(await run('ip', ['-4', '-o', 'addr', 'show'])).matchAll(/inet 10\.250\.(\d+)\./g)].map((m) => Number(m[1])));
    const free = Array.from({ length: 254 }, (_, i) => i + 1).filter((x) => !used.has(x));
    if (free.length === 0) throw new Error('no free 10.250.x.0/24 for a node bridge');
    const x = free[Math.floor(Math.random() * free.length)]!;
    const bridge = new NodeBridge(`sdwbr${runId}`, `10.250.${x}`, runId);
    await run('ip', ['link', 'add', bridge.name, 'type', 'bridge']);
    try {
      await run('ip', ['addr', 'add', `${bridge.address}/24`, 'dev', bridge.name]);
      await run('ip', ['link', 'set', bridge.name, 'up']);
    } catch (err) {
      await bridge.remove();
      throw err;
    }
    return bridge;
  }

  /**
   * Plugs the network namespace of `pid` (a node's systemd) into the bridge as
   * eth0 with address nodeAddress(index). `service` is DNAT'ed to the API server
   * inside the node (for the node itself and its pods), which is what kube-proxy
   * would do for the kubernetes Service; this harness runs no kube-proxy.
   */
  async attach(node: string, index: number, pid: number, service: { ip: string; port: number; apiserverPort: number }): Promise<void> {
    const veth = `sdw${this.runId}n${index}`;
    const inNode = (cmd: string, ...args: string[]): Promise<string> => run('nsenter', ['-t', String(pid), '-n', cmd, ...args]);
    await run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', `/proc/${pid}/ns/net`]);
    this.veths.set(node, veth);
    await run('ip', ['link', 'set', veth, 'master', this.name, 'up']);
    await inNode('ip', 'addr', 'add', `${this.nodeAddress(index)}/24`, 'dev', 'eth0');
    await inNode('ip', 'link', 'set', 'eth0', 'up');
    await inNode('ip', 'route', 'add', 'default', 'via', this.address);
    for (const chain of ['OUTPUT', 'PREROUTING']) {
      await inNode(
        'iptables',
        '-t',
        'nat',
        '-A',
        chain,
        '-d',
        `${service.ip}/32`,
        '-p',
        'tcp',
        '--dport',
        String(service.port),
        '-j',
        'DNAT',
        '--to-destination',
        `${this.address}:${service.apiserverPort}`,
      );
    }
  }

  /** Takes the node's link down (a partition) or up again. */
  async setLink(node: string, up: boolean): Promise<void> {
    const veth = this.veths.get(node);
    if (!veth) throw new Error(`node ${node} is not attached to ${this.name}`);
    await run('ip', ['link', 'set', veth, up ? 'up' : 'down']);
  }

  /** The host-side veth of a node (gone once the node's network namespace is). */
  vethOf(node: string): string | undefined {
    return this.veths.get(node);
  }

  /** Removes the node's veth if it outlived its namespace. */
  async detach(node: string): Promise<void> {
    const veth = this.veths.get(node);
    if (veth) await deleteLink(veth);
    this.veths.delete(node);
  }

  async remove(): Promise<void> {
    for (const node of [...this.veths.keys()]) await this.detach(node);
    await deleteLink(this.name);
  }
}

/**
 * Deletes a link unless it is gone. The kernel tears a network namespace down
 * asynchronously after its last process exits, taking the veth pair with it, so
 * a link seen a moment ago may vanish before `ip link del` runs: gone is success.
 */
async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  try {
    await run('ip', ['link', 'del', name]);
  } catch (err) {
    if (await linkExists(name)) throw err;
  }
}

export async function linkExists(name: string): Promise<boolean> {
  return fs.access(`/sys/class/net/${name}`).then(
    () => true,
    () => false,
  );
}
