// A real Kubernetes control plane on loopback: etcd, kube-apiserver (RBAC on,
// service-account tokens signable) and kube-controller-manager (garbage
// collector, namespace, service-account controllers), on random free ports.
import { execFile } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { binaries, kubeletBinaries, type Binaries } from './binaries.js';
import { ClusterPki } from './pki.js';
import { ManagedProcess, freePort, waitFor } from './process.js';

const execFileP = promisify(execFile);

export interface ControlPlaneOptions {
  dir: string;
  /** kube-controller-manager controllers; [] runs none. */
  controllers?: string[];
  /**
   * Serve kubelets: listen on `address` (a host bridge the nodes reach) with a
   * CA-signed certificate that also covers the kubernetes Service IP, Node and
   * RBAC authorization, client certificates for kubelets, and a kube-scheduler.
   */
  kubelets?: { address: string; serviceIp: string };
  /**
   * Serve aggregated APIs as a kubeadm cluster does: a front-proxy CA and client
   * certificate (--requestheader-*, --proxy-client-*), endpoint routing (no
   * kube-proxy here), and client certificates for users (a CA of its own).
   */
  aggregation?: boolean;
  /**
   * API Priority and Fairness, on in every real cluster (kube-apiserver's default). Off unless
   * asked (the tests' control planes run without it, as they always have); the fleet benchmarks
   * turn it on.
   */
  priorityAndFairness?: boolean;
  /**
   * More bearer-token users for tokens.csv (beside admin, which is in system:masters and so exempt
   * from APF): the benchmarks give each client the identity it has in a cluster, so APF
   * classifies its requests as it would there.
   */
  users?: TokenUser[];
}

/** A user of the API server's token file: a bearer token, a user name and its groups. */
export interface TokenUser {
  token: string;
  user: string;
  groups: string[];
}

export const DEFAULT_CONTROLLERS = ['garbagecollector', 'namespace', 'serviceaccount', 'serviceaccount-token'];

/** kube-controller-manager's controllers for kubelet nodes: DaemonSets, Deployments, real node lifecycle. */
export const KUBELET_CONTROLLERS = [
  ...DEFAULT_CONTROLLERS,
  // Every projected token volume mounts the kube-root-ca.crt ConfigMap: pods hang without its publisher.
  'root-ca-certificate-publisher-controller',
  'daemonset-controller',
  'deployment-controller',
  'replicaset-controller',
  // NotReady/Unknown and the unreachable taints, from missed kubelet heartbeats.
  'node-lifecycle-controller',
  'taint-eviction-controller',
  'pod-garbage-collector-controller',
  'ttl-controller',
];

export class ControlPlane {
  readonly bin: Binaries;
  readonly dir: string;
  readonly adminToken = randomBytes(24).toString('hex');
  etcd!: ManagedProcess;
  apiserver!: ManagedProcess;
  controllerManager: ManagedProcess | undefined;
  scheduler: ManagedProcess | undefined;
  /** The CA and certificates (kubelet mode only). */
  readonly pki: ClusterPki | undefined;
  apiserverPort = 0;
  etcdPort = 0;
  /** With aggregation: the CA whose certificates the API server accepts as users (kubelet mode: pki). */
  userPki: ClusterPki | undefined;

  constructor(private readonly opts: ControlPlaneOptions) {
    this.bin = opts.kubelets ? kubeletBinaries() : binaries();
    this.dir = opts.dir;
    this.pki = opts.kubelets ? new ClusterPki(path.join(opts.dir, 'pki')) : undefined;
  }

  /** The address the API server listens on (and advertises for the kubernetes Service). */
  get address(): string {
    return this.opts.kubelets?.address || '127.0.0.1';
  }

  /** Kubelet mode: the bridge address to serve on, known only once the bridge exists. */
  listenOn(address: string): void {
    if (!this.opts.kubelets) throw new Error('listenOn: this control plane does not serve kubelets');
    this.opts.kubelets.address = address;
  }
  get server(): string {
    return `https://${this.address}:${this.apiserverPort}`;
  }
  get kubeconfigPath(): string {
    return path.join(this.dir, 'kubeconfig');
  }
  /** What clients trust: the self-signed serving certificate, or the CA in kubelet mode. */
  get caFile(): string {
    return this.pki?.caCert ?? path.join(this.dir, 'pki', 'apiserver.crt');
  }

  async start(): Promise<void> {
    await fs.mkdir(path.join(this.dir, 'pki'), { recursive: true });
    await fs.mkdir(path.join(this.dir, 'etcd'), { recursive: true });
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await fs.writeFile(path.join(this.dir, 'pki', 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }));
    await fs.writeFile(path.join(this.dir, 'pki', 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const users = (this.opts.users ?? []).map((u, i) => `${u.token},${u.user},user-${i},"${u.groups.join(',')}"\n`);
    await fs.writeFile(path.join(this.dir, 'tokens.csv'), [`${this.adminToken},admin,admin-uid,system:masters\n`, ...users].join(''));

    this.etcdPort = await freePort();
    const peerPort = await freePort();
    this.etcd = new ManagedProcess(
      'etcd',
      this.bin.etcd,
      [
        '--name=default',
        `--data-dir=${path.join(this.dir, 'etcd')}`,
        `--listen-client-urls=http://127.0.0.1:${this.etcdPort}`,
        `--advertise-client-urls=http://127.0.0.1:${this.etcdPort}`,
        `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
        `--initial-cluster=default=http://127.0.0.1:${peerPort}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
      ],
      path.join(this.dir, 'etcd.log'),
    );
    this.etcd.start();
    await this.waitEtcd();

    this.apiserverPort = await freePort();
    this.apiserver = new ManagedProcess(
      'kube-apiserver',
      this.bin.kubeApiserver,
      [
        `--etcd-servers=http://127.0.0.1:${this.etcdPort}`,
        `--bind-address=${this.address}`,
        `--advertise-address=${this.address}`,
        `--secure-port=${this.apiserverPort}`,
        ...(this.opts.kubelets
          ? await this.kubeletArgs(this.opts.kubelets.serviceIp)
          : [`--cert-dir=${path.join(this.dir, 'pki')}`, '--authorization-mode=RBAC']),
        ...(this.opts.aggregation ? await this.aggregationArgs() : []),
        `--token-auth-file=${path.join(this.dir, 'tokens.csv')}`,
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${path.join(this.dir, 'pki', 'sa.pub')}`,
        `--service-account-signing-key-file=${path.join(this.dir, 'pki', 'sa.key')}`,
        '--service-cluster-ip-range=10.96.0.0/24',
        '--allow-privileged=true',
        ...(this.opts.priorityAndFairness ? [] : ['--enable-priority-and-fairness=false']),
        '--v=1',
      ],
      path.join(this.dir, 'kube-apiserver.log'),
    );
    this.apiserver.start();
    await this.waitApiserverReady();
    await this.writeKubeconfig();

    const controllers = this.opts.controllers ?? (this.opts.kubelets ? KUBELET_CONTROLLERS : DEFAULT_CONTROLLERS);
    if (controllers.length > 0) this.controllerManager = await this.startControllerManager(controllers);
    if (this.opts.kubelets) {
      // DaemonSet pods are bound to their nodes by the default scheduler.
      this.scheduler = new ManagedProcess(
        'kube-scheduler',
        this.bin.kubeScheduler,
        [
          `--kubeconfig=${this.kubeconfigPath}`,
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${await freePort()}`,
          `--authentication-kubeconfig=${this.kubeconfigPath}`,
          `--authorization-kubeconfig=${this.kubeconfigPath}`,
          '--v=1',
        ],
        path.join(this.dir, 'kube-scheduler.log'),
      );
      this.scheduler.start();
    }
  }

  /** API server flags for aggregated API servers (front proxy) and for users' client certificates. */
  private async aggregationArgs(): Promise<string[]> {
    const frontProxy = new ClusterPki(path.join(this.dir, 'pki', 'front-proxy'));
    await frontProxy.createCa();
    const proxyClient = await frontProxy.issue('front-proxy-client', '/CN=front-proxy-client', 'clientAuth');
    const args = [
      `--requestheader-client-ca-file=${frontProxy.caCert}`,
      '--requestheader-allowed-names=front-proxy-client',
      '--requestheader-username-headers=X-Remote-User',
      '--requestheader-group-headers=X-Remote-Group',
      '--requestheader-extra-headers-prefix=X-Remote-Extra-',
      `--proxy-client-cert-file=${proxyClient.cert}`,
      `--proxy-client-key-file=${proxyClient.key}`,
      // No kube-proxy: the aggregator must dial the Service's endpoints, not its ClusterIP.
      '--enable-aggregator-routing=true',
    ];
    if (this.pki)
      this.userPki = this.pki; // kubelet mode already accepts client certificates from its CA
    else {
      this.userPki = new ClusterPki(path.join(this.dir, 'pki', 'users'));
      await this.userPki.createCa();
      args.push(`--client-ca-file=${this.userPki.caCert}`);
    }
    return args;
  }

  /** API server flags for kubelets: CA-signed serving certificate, client certificates, Node authorization. */
  private async kubeletArgs(serviceIp: string): Promise<string[]> {
    const pki = this.pki!;
    await pki.createCa();
    const serving = await pki.issue(
      'apiserver',
      '/CN=kube-apiserver',
      'serverAuth',
      ['127.0.0.1', this.address, serviceIp],
      ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'],
    );
    const toKubelet = await pki.issue('apiserver-kubelet-client', '/O=system:masters/CN=kube-apiserver-kubelet-client', 'clientAuth');
    return [
      `--tls-cert-file=${serving.cert}`,
      `--tls-private-key-file=${serving.key}`,
      `--client-ca-file=${pki.caCert}`,
      `--kubelet-client-certificate=${toKubelet.cert}`,
      `--kubelet-client-key=${toKubelet.key}`,
      // Nodes have no DNS names here: without this, kubectl logs/exec fail with "lookup <node>: no such host".
      '--kubelet-preferred-address-types=InternalIP,Hostname',
      '--authorization-mode=Node,RBAC',
      '--enable-admission-plugins=NodeRestriction',
    ];
  }

  /**
   * Starts a kube-controller-manager running `controllers` (with leader election off, so
   * several may run side by side with disjoint controllers: the benchmarks start one with
   * only 'daemonset' and a different client rate limit through `extraArgs`). The caller
   * owns the returned process unless it is the cluster's own.
   */
  async startControllerManager(
    controllers: string[],
    extraArgs: string[] = [],
    logName = 'kube-controller-manager',
  ): Promise<ManagedProcess> {
    const kcm = new ManagedProcess(
      logName,
      this.bin.kubeControllerManager,
      [
        `--kubeconfig=${this.kubeconfigPath}`,
        `--controllers=${controllers.join(',')}`,
        `--service-account-private-key-file=${path.join(this.dir, 'pki', 'sa.key')}`,
        `--root-ca-file=${this.caFile}`,
        '--leader-elect=false',
        '--bind-address=127.0.0.1',
        `--secure-port=${await freePort()}`,
        '--authentication-skip-lookup=true',
        `--authentication-kubeconfig=${this.kubeconfigPath}`,
        `--authorization-kubeconfig=${this.kubeconfigPath}`,
        '--concurrent-gc-syncs=5',
        '--v=1',
        ...extraArgs,
      ],
      path.join(this.dir, `${logName}.log`),
    );
    kcm.start();
    return kcm;
  }

  private async waitEtcd(): Promise<void> {
    await waitFor(
      'etcd health',
      async () => {
        if (!this.etcd.running) throw new Error(`etcd exited:\n${this.etcd.logTail()}`);
        const res = await fetch(`http://127.0.0.1:${this.etcdPort}/health`).catch(() => undefined);
        return res?.ok ? true : undefined;
      },
      30_000,
    );
  }

  /** GET a path on the API server as admin; resolves to [status, body]. */
  request(urlPath: string): Promise<[number, string]> {
    return new Promise((resolve, reject) => {
      const req = https.request(
        `${this.server}${urlPath}`,
        { headers: { Authorization: `Bearer ${this.adminToken}` }, rejectUnauthorized: false, timeout: 5000 },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve([res.statusCode ?? 0, body]));
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.end();
    });
  }

  async waitApiserverReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      'kube-apiserver /readyz',
      async () => {
        if (!this.apiserver.running) throw new Error(`kube-apiserver exited:\n${this.apiserver.logTail()}`);
        const [code] = await this.request('/readyz');
        return code === 200 ? true : undefined;
      },
      timeoutMs,
      200,
    );
  }

  private async writeKubeconfig(): Promise<void> {
    const cfg = [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: local',
      '  cluster:',
      `    server: ${this.server}`,
      `    certificate-authority: ${this.caFile}`,
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${this.adminToken}`,
      'contexts:',
      '- name: local',
      '  context: {cluster: local, user: admin, namespace: default}',
      'current-context: local',
      '',
    ].join('\n');
    await fs.writeFile(this.kubeconfigPath, cfg, { mode: 0o600 });
  }

  /** Writes a kubeconfig for another identity (a bearer token) against this cluster. */
  async kubeconfigFor(name: string, token: string): Promise<string> {
    const p = path.join(this.dir, `kubeconfig-${name}`);
    const cfg = (await fs.readFile(this.kubeconfigPath, 'utf8')).replace(`token: ${this.adminToken}`, `token: ${token}`);
    await fs.writeFile(p, cfg, { mode: 0o600 });
    return p;
  }

  async kubectl(args: string[], opts: { input?: string; kubeconfig?: string } = {}): Promise<KubectlResult> {
    return runKubectl(this.bin.kubectl, opts.kubeconfig ?? this.kubeconfigPath, args, opts.input);
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
    await this.controllerManager?.stop();
    await this.apiserver?.stop();
    await this.etcd?.stop();
  }
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runKubectl(kubectl: string, kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  const child = execFileP(kubectl, args, {
    env: { ...process.env, KUBECONFIG: kubeconfig },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}
