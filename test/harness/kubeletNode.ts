// A node with a real kubelet, the way kind makes one, without Docker: a
// SystemdNode whose own systemd (PID 1 inside) runs containerd (Debian's unit)
// and a kubelet built from the control plane's release, on the node's own
// network namespace plugged into the cluster bridge. Per-node state lives in
// the node's directory (bound over /var/lib/containerd, /var/lib/kubelet...),
// and the host-wide kernel settings kubelet writes at start are shadowed.
// Facts behind each step: shared/kubelet-nodes.md.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Binaries } from './binaries.js';
import type { NodeBridge } from './nodeBridge.js';
import { run } from './nodeBridge.js';
import type { ClusterPki } from './pki.js';
import { SystemdNode, findCgroupDirs } from './systemdNode.js';

/** Node paths that get the node's own directory (each must exist on the host as a mount point). */
export const KUBELET_NODE_DIRS = [
  '/var/lib/containerd',
  '/var/lib/kubelet',
  '/var/lib/cni',
  '/etc/cni',
  '/etc/containerd',
  '/var/log/pods',
  '/var/log/containers',
];

/**
 * Host-wide settings kubelet sets at start unless they already hold these
 * values (its protectKernelDefaults=false path). /proc/sys is the host's in a
 * node: the node reads them from files bound over them, and never writes the host's.
 */
export const KUBELET_SYSCTLS = {
  'vm.overcommit_memory': '1',
  'vm.panic_on_oom': '0',
  'kernel.panic': '10',
  'kernel.panic_on_oops': '1',
  'kernel.keys.root_maxkeys': '1000000',
  'kernel.keys.root_maxbytes': '25000000',
};

/** The kubernetes Service, as pods see it (KUBERNETES_SERVICE_HOST/PORT). */
export const SERVICE_IP = '10.96.0.1';

export interface KubeletNodeOptions {
  name: string;
  /** Position on the bridge (address and pod subnet). */
  index: number;
  labels?: Record<string, string>;
  /** Node paths with the node's own directory besides KUBELET_NODE_DIRS (each must exist on the host). */
  binds?: string[];
  baseDir: string;
  runId: string;
  bin: Binaries;
  pki: ClusterPki;
  bridge: NodeBridge;
  /** The API server's port on the bridge address. */
  apiserverPort: number;
  /** OCI archives imported into the node's containerd before kubelet starts (the pause image first). */
  images: string[];
  sandboxImage: string;
}

export class KubeletNode {
  /** When the Node read Ready (set by the cluster): with startedAt, the boot-to-Ready figure. */
  readyAt = 0;

  private constructor(
    readonly opts: KubeletNodeOptions,
    readonly systemd: SystemdNode,
    readonly startedAt: number,
  ) {}

  get name(): string {
    return this.opts.name;
  }
  get address(): string {
    return this.opts.bridge.nodeAddress(this.opts.index);
  }

  static async start(opts: KubeletNodeOptions): Promise<KubeletNode> {
    const startedAt = Date.now();
    const dir = path.join(opts.baseDir, opts.name);
    await writeNodeFiles(dir, opts);
    const systemd = await SystemdNode.start({
      name: opts.name,
      baseDir: opts.baseDir,
      runId: opts.runId,
      sandboxEnv: {
        SDNODE_WANTS: 'containerd.service',
        SDNODE_BINDS: [...KUBELET_NODE_DIRS, ...(opts.binds ?? [])].join(' '),
        SDNODE_SYSCTLS: Object.entries(KUBELET_SYSCTLS)
          .map(([k, v]) => `${k}=${v}`)
          .join(' '),
      },
    });
    const node = new KubeletNode(opts, systemd, startedAt);
    try {
      await opts.bridge.attach(opts.name, opts.index, systemd.systemdPid, { ip: SERVICE_IP, port: 443, apiserverPort: opts.apiserverPort });
      for (const image of opts.images) await node.importImage(image);
      await systemd.busctl(
        'call',
        'org.freedesktop.systemd1',
        '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager',
        'StartUnit',
        'ss',
        'kubelet.service',
        'replace',
      );
    } catch (err) {
      await node.stop();
      throw err;
    }
    return node;
  }

  /** `ctr -n k8s.io images import`, run in the node's mount namespace (its /run/containerd). */
  async importImage(archive: string): Promise<void> {
    await run('nsenter', ['-t', String(this.systemd.systemdPid), '-m', '--', 'ctr', '-n', 'k8s.io', 'images', 'import', archive]);
  }

  /** Gives an image in the node's containerd a second name (a new tag of the same bytes). */
  async tagImage(source: string, target: string): Promise<void> {
    await run('nsenter', [
      '-t',
      String(this.systemd.systemdPid),
      '-m',
      '--',
      'ctr',
      '-n',
      'k8s.io',
      'images',
      'tag',
      '--force',
      source,
      target,
    ]);
  }

  /** Image names in the node's containerd (the k8s.io namespace kubelet uses). */
  async images(): Promise<string[]> {
    const out = await run('nsenter', ['-t', String(this.systemd.systemdPid), '-m', '--', 'ctr', '-n', 'k8s.io', 'images', 'list', '-q']);
    return out.split('\n').filter(Boolean);
  }

  /** Cuts the node's network link (true) or restores it (false). */
  async partition(cut: boolean): Promise<void> {
    await this.opts.bridge.setLink(this.name, !cut);
  }

  /** Memory charged to the whole node (systemd, containerd, kubelet, pods): its memory cgroup's usage. */
  async memoryBytes(): Promise<number> {
    for (const dir of await findCgroupDirs(this.systemd.cgroupName)) {
      if (!dir.includes('/memory/')) continue;
      return Number((await fs.readFile(path.join(dir, 'memory.usage_in_bytes'), 'utf8')).trim());
    }
    throw new Error(`no memory cgroup for node ${this.name}`);
  }

  /**
   * A container's memory from its cgroup (the systemd cgroup driver's
   * cri-containerd-<id>.scope in the node's memory hierarchy): usage, and the
   * working set kubelet compares with the limit (usage minus inactive file pages).
   */
  async containerMemory(containerId: string): Promise<{ usageBytes: number; workingSetBytes: number }> {
    const id = containerId.replace(/^containerd:\/\//, '');
    const root = (await findCgroupDirs(this.systemd.cgroupName)).find((d) => d.includes('/memory/'));
    const scope = root && (await findDir(root, `cri-containerd-${id}.scope`));
    if (!scope) throw new Error(`no memory cgroup for container ${id} on node ${this.name}`);
    const usageBytes = Number((await fs.readFile(path.join(scope, 'memory.usage_in_bytes'), 'utf8')).trim());
    const stat = await fs.readFile(path.join(scope, 'memory.stat'), 'utf8');
    const inactiveFile = Number(/^total_inactive_file (\d+)$/m.exec(stat)?.[1] ?? 0);
    return { usageBytes, workingSetBytes: Math.max(0, usageBytes - inactiveFile) };
  }

  async stop(): Promise<void> {
    await this.systemd.stop();
    await this.opts.bridge.detach(this.name);
  }
}

/** containerd's and kubelet's configuration, the CNI network and the kubelet unit, before the node boots. */
async function writeNodeFiles(dir: string, o: KubeletNodeOptions): Promise<void> {
  const fsDir = (p: string): string => path.join(dir, 'fs', p);
  const kubeletDir = path.join(dir, 'kubelet');
  await Promise.all(
    [fsDir('/etc/containerd'), fsDir('/etc/cni/net.d'), path.join(dir, 'units'), kubeletDir].map((d) => fs.mkdir(d, { recursive: true })),
  );
  const cert = await o.pki.issue(`kubelet-${o.name}`, `/O=system:nodes/CN=system:node:${o.name}`, 'clientAuth');

  await fs.writeFile(
    fsDir('/etc/containerd/config.toml'),
    `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${o.sandboxImage}"
  # Without it runc fails ("can't get final child's PID from pipe: EOF"): the
  # pause container's oom_score_adj of -998 needs CAP_SYS_RESOURCE, which the node lacks.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
`,
  );
  // Pods on a node bridge of their own; ipMasq lets them reach the API server through the node's eth0.
  await fs.writeFile(
    fsDir('/etc/cni/net.d/10-sdw.conflist'),
    JSON.stringify(
      {
        cniVersion: '0.4.0',
        name: 'sdw-pods',
        plugins: [
          {
            type: 'bridge',
            bridge: 'cni0',
            isGateway: true,
            ipMasq: true,
            ipam: { type: 'host-local', ranges: [[{ subnet: `10.244.${o.index}.0/24` }]], routes: [{ dst: '0.0.0.0/0' }] },
          },
        ],
      },
      null,
      1,
    ),
  );

  const config = path.join(kubeletDir, 'config.yaml');
  await fs.writeFile(
    config,
    `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
cgroupDriver: systemd
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
# The host has swap, and cgroup v1 hierarchies (kubelet 1.34 warns: maintenance mode).
failSwapOn: false
failCgroupV1: false
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: ${o.pki.caCert}}
authorization: {mode: Webhook}
readOnlyPort: 0
clusterDomain: cluster.local
# The disk and memory figures a node sees are the shared host's: eviction and
# image garbage collection on them would act on other tenants' usage.
evictionHard: {memory.available: "1Mi", nodefs.available: "1%", imagefs.available: "1%", nodefs.inodesFree: "1%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
`,
  );
  const kubeconfig = path.join(kubeletDir, 'kubeconfig');
  await fs.writeFile(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
- name: local
  cluster: {server: "https://${o.bridge.address}:${o.apiserverPort}", certificate-authority: ${o.pki.caCert}}
users:
- name: kubelet
  user: {client-certificate: ${cert.cert}, client-key: ${cert.key}}
contexts:
- name: local
  context: {cluster: local, user: kubelet}
current-context: local
`,
    { mode: 0o600 },
  );
  const labels = Object.entries(o.labels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  await fs.writeFile(
    path.join(dir, 'units', 'kubelet.service'),
    `[Unit]
Description=kubelet (systemd-workload-operator test node)
Wants=containerd.service
After=containerd.service
[Service]
ExecStart=${o.bin.kubelet} --config=${config} --kubeconfig=${kubeconfig} --node-ip=${o.bridge.nodeAddress(o.index)} --hostname-override=${o.name}${labels ? ` --node-labels=${labels}` : ''} --v=1
Restart=always
RestartSec=2
`,
  );
}

async function findDir(dir: string, name: string, depth = 0): Promise<string | undefined> {
  if (depth > 6) return undefined;
  for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory()) continue;
    const p = path.join(dir, e.name);
    if (e.name === name) return p;
    const found = await findDir(p, name, depth + 1);
    if (found) return found;
  }
  return undefined;
}
