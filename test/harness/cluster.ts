// The harness as one library call: a real control plane plus N real systemd
// nodes, each registered as a Node object, or nodes with a real kubelet that
// register themselves. Every test (unit tests aside), the demo and the
// benchmarks build on this.
import * as k8s from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, writeBusyboxImage } from '../../hack/images/busybox-oci.js';
import { cacheRoot, repoRoot } from './binaries.js';
import { ControlPlane, type KubectlResult, type TokenUser } from './controlPlane.js';
import { KubeletNode, SERVICE_IP } from './kubeletNode.js';
import { NodeBridge } from './nodeBridge.js';
import { SystemdNode } from './systemdNode.js';
import { VmNode } from './vmNode.js';
import { AGENT_GUEST_PORTS, agentShares } from './vmAgent.js';
import { waitFor } from './process.js';

export interface NodeSpec {
  name: string;
  labels?: Record<string, string>;
  taints?: k8s.V1Taint[];
  /** false: only a Node object, no systemd (for fan-out tests with simulated agents). */
  systemd?: boolean;
  /** Node paths that get the node's own directory (SDNODE_BINDS; each must exist on the host). */
  binds?: string[];
}

export interface KubeletNodeSpec {
  name: string;
  /** Set by the kubelet at registration (--node-labels). */
  labels?: Record<string, string>;
  /** More node paths with the node's own directory, beside the kubelet's (NodeSpec.binds). */
  binds?: string[];
}

export interface ClusterOptions {
  nodes?: NodeSpec[];
  /**
   * Nodes with containerd and a real kubelet, joined over a host bridge; the
   * control plane then serves kubelets (CA, Node authorization, scheduler,
   * node lifecycle). Pods can use the image BUSYBOX_IMAGE; the pause image is
   * the same busybox archive.
   */
  kubeletNodes?: KubeletNodeSpec[];
  /** kube-controller-manager controllers (default: GC, namespace, service accounts). */
  controllers?: string[];
  /** Serve aggregated APIs and accept users' client certificates (ControlPlaneOptions.aggregation). */
  aggregation?: boolean;
  /** API Priority and Fairness on (ControlPlaneOptions.priorityAndFairness; default off). */
  priorityAndFairness?: boolean;
  /** More token users (ControlPlaneOptions.users). */
  users?: TokenUser[];
  /** Install the project's CRDs from crds/ (default true). */
  crds?: boolean;
  /** Where the run's files live; default under the cache (never /tmp: nodes mount it privately). */
  baseDir?: string;
}

export class Cluster {
  readonly runId = randomBytes(4).toString('hex');
  readonly dir: string;
  readonly controlPlane: ControlPlane;
  readonly nodes = new Map<string, SystemdNode>();
  readonly vms = new Map<string, VmNode>();
  /** The kubelet nodes (their systemd is also in `nodes`). */
  readonly kubeletNodes = new Map<string, KubeletNode>();
  /** The host bridge of the kubelet nodes. */
  bridge: NodeBridge | undefined;
  kc!: k8s.KubeConfig;

  private constructor(private readonly opts: ClusterOptions) {
    this.dir = path.join(opts.baseDir ?? path.join(cacheRoot(), 'run'), this.runId);
    this.controlPlane = new ControlPlane({
      dir: path.join(this.dir, 'control-plane'),
      controllers: opts.controllers,
      aggregation: opts.aggregation,
      priorityAndFairness: opts.priorityAndFairness,
      users: opts.users,
      ...(opts.kubeletNodes ? { kubelets: { address: '', serviceIp: SERVICE_IP } } : {}),
    });
  }

  static async start(opts: ClusterOptions = {}): Promise<Cluster> {
    const c = new Cluster(opts);
    try {
      await fs.mkdir(c.dir, { recursive: true });
      if (opts.kubeletNodes) {
        // The API server binds the bridge address, so the bridge comes first.
        c.bridge = await NodeBridge.create(c.runId);
        c.controlPlane.listenOn(c.bridge.address);
      }
      await c.controlPlane.start();
      c.kc = new k8s.KubeConfig();
      c.kc.loadFromFile(c.controlPlane.kubeconfigPath);
      if (opts.crds !== false) await c.installCrds();
      await settleAll((opts.nodes ?? []).map((n) => c.addNode(n)));
      if (opts.kubeletNodes) {
        const images = [await writeBusyboxImage(path.join(c.dir, 'images', 'busybox.oci.tar'))];
        await settleAll(opts.kubeletNodes.map((n, i) => c.addKubeletNode(n, i, images)));
      }
    } catch (err) {
      await c.stop();
      throw err;
    }
    return c;
  }

  get kubeconfigPath(): string {
    return this.controlPlane.kubeconfigPath;
  }

  kubectl(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<KubectlResult> {
    return this.controlPlane.kubectl(args, opts);
  }

  /** kubectl that throws with its stderr when it fails. */
  async kubectlOk(args: string[], opts: { input?: string } = {}): Promise<string> {
    const r = await this.kubectl(args, opts);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
  }

  async installCrds(): Promise<void> {
    await installCrds((args) => this.kubectl(args));
  }

  /** Boots a systemd node (unless systemd: false) and registers a Ready Node object for it. */
  async addNode(spec: NodeSpec): Promise<SystemdNode | undefined> {
    let node: SystemdNode | undefined;
    if (spec.systemd !== false) {
      node = await SystemdNode.start({
        name: spec.name,
        baseDir: path.join(this.dir, 'nodes'),
        runId: this.runId,
        ...(spec.binds ? { sandboxEnv: { SDNODE_BINDS: spec.binds.join(' ') } } : {}),
      });
      this.nodes.set(spec.name, node);
    }
    await registerNode(this.kc, spec);
    return node;
  }

  /**
   * Boots a VM node (systemd as PID 1 on cgroup v2; vmNode.ts) that can run the
   * project's agent (startVmAgent), and registers a Ready Node object for it.
   */
  async addVmNode(spec: NodeSpec): Promise<VmNode> {
    const vm = await VmNode.start({
      name: spec.name,
      baseDir: path.join(this.dir, 'vms'),
      shares: await agentShares(),
      forwardPorts: AGENT_GUEST_PORTS,
    });
    this.vms.set(spec.name, vm);
    await registerNode(this.kc, spec);
    return vm;
  }

  /** Boots a kubelet node and waits until its kubelet has registered it Ready. */
  async addKubeletNode(spec: KubeletNodeSpec, index: number, images: string[]): Promise<KubeletNode> {
    const cp = this.controlPlane;
    if (!this.bridge || !cp.pki) throw new Error('a cluster with kubelet nodes must be started with kubeletNodes');
    const node = await KubeletNode.start({
      name: spec.name,
      index,
      labels: spec.labels,
      binds: spec.binds,
      baseDir: path.join(this.dir, 'nodes'),
      runId: this.runId,
      bin: cp.bin,
      pki: cp.pki,
      bridge: this.bridge,
      apiserverPort: cp.apiserverPort,
      images,
      sandboxImage: PAUSE_IMAGE,
    });
    this.kubeletNodes.set(spec.name, node);
    this.nodes.set(spec.name, node.systemd);
    await waitFor(`node ${spec.name} Ready`, async () => (await this.nodeReady(spec.name)) === 'True', 120_000, 250);
    node.readyAt = Date.now();
    return node;
  }

  /** The Node's Ready condition status as the API shows it ('True', 'False', 'Unknown'), or undefined. */
  async nodeReady(name: string): Promise<string | undefined> {
    const r = await this.kubectl(['get', 'node', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
    return r.code === 0 && r.stdout ? r.stdout : undefined;
  }

  kubeletNode(name: string): KubeletNode {
    const n = this.kubeletNodes.get(name);
    if (!n) throw new Error(`no kubelet node ${name} in this cluster`);
    return n;
  }

  node(name: string): SystemdNode {
    const n = this.nodes.get(name);
    if (!n) throw new Error(`no systemd node ${name} in this cluster`);
    return n;
  }

  /** Stops every node and the control plane, and removes the run's directory. */
  async stop(): Promise<void> {
    const errors: unknown[] = [];
    await Promise.all([...this.kubeletNodes.values(), ...this.vms.values()].map((n) => n.stop().catch((e) => errors.push(e))));
    await Promise.all(
      [...this.nodes.entries()].filter(([name]) => !this.kubeletNodes.has(name)).map(([, n]) => n.stop().catch((e) => errors.push(e))),
    );
    this.kubeletNodes.clear();
    this.nodes.clear();
    this.vms.clear();
    await this.bridge?.remove().catch((e) => errors.push(e));
    await this.controlPlane.stop().catch((e) => errors.push(e));
    if (!process.env.SDW_KEEP_RUN_DIR) await fs.rm(this.dir, { recursive: true, force: true });
    if (errors.length)
      throw new AggregateError(
        errors,
        `cluster teardown failed: ${errors.map((e) => (e instanceof Error ? e.message : String(e))).join('; ')}`,
      );
  }
}

/** Applies the project's CRDs (crds/) with kubectl and waits until the API server serves them. */
export async function installCrds(kubectl: (args: string[]) => Promise<KubectlResult>): Promise<void> {
  const applied = await kubectl(['apply', '--server-side', '-f', path.join(repoRoot, 'crds')]);
  if (applied.code !== 0) throw new Error(`kubectl apply -f crds failed (${applied.code}): ${applied.stderr}`);
  // `kubectl wait` fails outright when a CRD has no status.conditions yet: retry until it can wait.
  await waitFor(
    'CRDs established',
    async () => {
      const r = await kubectl(['wait', '--for=condition=Established', '--timeout=30s', '-f', path.join(repoRoot, 'crds')]);
      return r.code === 0 ? true : undefined;
    },
    90_000,
    250,
  );
}

/**
 * Promise.all that waits for every promise before it throws the first failure: a node that
 * was still booting when another failed is then in the cluster's map, and the teardown
 * that follows stops it (with Promise.all it joined the map after the teardown and was left
 * running).
 */
export async function settleAll<T>(promises: Array<Promise<T>>): Promise<T[]> {
  const settled = await Promise.allSettled(promises);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export async function registerNode(kc: k8s.KubeConfig, spec: NodeSpec): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const body: k8s.V1Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: spec.name,
      labels: { 'kubernetes.io/hostname': spec.name, 'kubernetes.io/os': 'linux', ...spec.labels },
    },
    spec: { taints: spec.taints },
  };
  const created = await core.createNode({ body });
  created.status = {
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'SandboxRunning',
        message: 'systemd sandbox node',
        lastHeartbeatTime: new Date(),
        lastTransitionTime: new Date(),
      },
    ],
  };
  const ready = await core.replaceNodeStatus({ name: spec.name, body: created });
  // The API server taints a new Node not-ready; the node lifecycle controller
  // (not run here) lifts it once Ready. Do what it would do.
  ready.spec = { ...ready.spec, taints: spec.taints };
  await core.replaceNode({ name: spec.name, body: ready });
}

export async function setNodeReady(kc: k8s.KubeConfig, name: string, ready: boolean): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const node = await core.readNodeStatus({ name });
  node.status = {
    ...node.status,
    conditions: [
      {
        type: 'Ready',
        status: ready ? 'True' : 'False',
        reason: ready ? 'SandboxRunning' : 'TestSetNotReady',
        message: 'set by test',
        lastHeartbeatTime: new Date(),
        lastTransitionTime: new Date(),
      },
    ],
  };
  await core.replaceNodeStatus({ name, body: node });
}

export { waitFor, BUSYBOX_IMAGE };
