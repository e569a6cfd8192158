// Runs the operator's own processes (controller, agents) from the compiled
// dist/ against a harness cluster, exactly as they run in production: separate
// processes, configured by flags and KUBECONFIG, talking real HTTP and D-Bus.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './binaries.js';
import type { Cluster } from './cluster.js';
import { ManagedProcess, freePort, waitFor } from './process.js';

export const OPERATOR_NAMESPACE = 'systemd-workload-operator';

function entry(rel: string): string {
  const p = path.join(repoRoot, 'dist', 'src', rel);
  if (!existsSync(p)) throw new Error(`${p} is missing: run 'npm run build' (make build) before integration tests`);
  return p;
}

export async function ensureOperatorNamespace(cluster: Cluster): Promise<void> {
  const r = await cluster.kubectl(['create', 'namespace', OPERATOR_NAMESPACE]);
  if (r.code !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
}

export class OperatorProcess extends ManagedProcess {
  constructor(
    name: string,
    args: string[],
    logFile: string,
    kubeconfig: string,
    readonly probePort: number,
  ) {
    super(name, process.execPath, args, logFile, {
      ...process.env,
      KUBECONFIG: kubeconfig,
      LOG_LEVEL: process.env.SDW_LOG_LEVEL ?? 'info',
    });
  }

  async get(pathname: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${this.probePort}${pathname}`);
    return { status: res.status, body: await res.text() };
  }

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${this.name} /readyz`,
      async () => {
        if (!this.running) throw new Error(`${this.name} exited:\n${this.logTail()}`);
        const r = await this.get('/readyz').catch(() => undefined);
        return r?.status === 200 ? true : undefined;
      },
      timeoutMs,
      100,
    );
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    return metricValue((await this.get('/metrics')).body, name, labels);
  }
}

/** The value of the first sample of `name` with these labels in a Prometheus text exposition. */
export function metricValue(body: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of body.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const ls = m[3] ?? '';
    if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) return Number(m[4]);
  }
  return undefined;
}

export interface ControllerOptions {
  identity?: string;
  heartbeatGraceSeconds?: number;
  leaderElect?: boolean;
  /** Serve the aggregated logs API here (an address the API server can reach); default off. */
  logsApi?: { host: string; port: number };
  extraArgs?: string[];
  /** Node's own flags before the entry point (e.g. the Deployment's --max-semi-space-size). */
  nodeArgs?: string[];
  /** Another identity's kubeconfig (default: the cluster's admin). */
  kubeconfig?: string;
}

export async function startController(cluster: Cluster, opts: ControllerOptions = {}): Promise<OperatorProcess> {
  await ensureOperatorNamespace(cluster);
  const port = await freePort();
  const id = opts.identity ?? `controller-${port}`;
  const p = new OperatorProcess(
    `controller ${id}`,
    [
      ...(opts.nodeArgs ?? []),
      entry('controller/main.js'),
      `--probe-port=${port}`,
      `--identity=${id}`,
      `--leader-elect=${opts.leaderElect ?? true}`,
      `--leader-election-namespace=${OPERATOR_NAMESPACE}`,
      `--heartbeat-namespace=${OPERATOR_NAMESPACE}`,
      `--heartbeat-grace=${opts.heartbeatGraceSeconds ?? 40}`,
      '--lease-duration=6',
      '--renew-deadline=4',
      '--retry-period=1',
      ...(opts.logsApi ? [`--logs-api-port=${opts.logsApi.port}`, `--logs-api-bind-address=${opts.logsApi.host}`] : ['--logs-api-port=0']),
      ...(opts.extraArgs ?? []),
    ],
    path.join(cluster.dir, `${id}.log`),
    opts.kubeconfig ?? cluster.kubeconfigPath,
    port,
  );
  p.start();
  await p.waitReady();
  return p;
}

export interface AgentProcOptions {
  usagePeriodSeconds?: number;
  heartbeatPeriodSeconds?: number;
  resyncPeriodSeconds?: number;
  kubeconfig?: string;
  extraArgs?: string[];
  /** Node's own flags before the entry point (e.g. the DaemonSet's --max-semi-space-size). */
  nodeArgs?: string[];
}

/** Starts an agent process without waiting for /readyz (it cannot be ready while the API server is down). */
export async function spawnAgent(cluster: Cluster, nodeName: string, opts: AgentProcOptions = {}): Promise<OperatorProcess> {
  const node = cluster.node(nodeName);
  const port = await freePort();
  const logsPort = await freePort();
  const p = new OperatorProcess(
    `agent ${nodeName}`,
    [
      ...(opts.nodeArgs ?? []),
      entry('agent/main.js'),
      `--node-name=${nodeName}`,
      `--unit-dir=${node.unitDir}`,
      `--files-dir=${node.filesDir}`,
      `--state-dir=${path.join(node.dir, 'agent-state')}`,
      `--artifact-dir=${node.artifactDir}`,
      `--node-root=${node.nodeRoot}`,
      `--bus-address=${node.busAddress}`,
      `--probe-port=${port}`,
      `--heartbeat-namespace=${OPERATOR_NAMESPACE}`,
      `--usage-period=${opts.usagePeriodSeconds ?? 2}`,
      `--heartbeat-period=${opts.heartbeatPeriodSeconds ?? 2}`,
      `--resync-period=${opts.resyncPeriodSeconds ?? 10}`,
      `--logs-port=${logsPort}`,
      '--logs-bind-address=127.0.0.1',
      `--advertise-url=https://127.0.0.1:${logsPort}`,
      // The node is a network namespace of this host (node-sandbox.sh: unshare --net)
      // and its units listen there; this agent stays in the host's namespace, where
      // the API server and the tests reach it on loopback. In production the agent
      // pod's hostNetwork puts it in the node's namespace; here only its httpGet and
      // tcpSocket probes enter the node's (src/probe/netns.ts).
      `--probe-netns=/proc/${node.systemdPid}/ns/net`,
      ...(opts.extraArgs ?? []),
    ],
    path.join(cluster.dir, `agent-${nodeName}.log`),
    opts.kubeconfig ?? cluster.kubeconfigPath,
    port,
  );
  p.start();
  return p;
}

export async function startAgent(cluster: Cluster, nodeName: string, opts: AgentProcOptions = {}): Promise<OperatorProcess> {
  await ensureOperatorNamespace(cluster);
  const p = await spawnAgent(cluster, nodeName, opts);
  await p.waitReady();
  return p;
}
