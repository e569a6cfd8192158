// Shared pieces of the benchmarks: the machine's facts, statistics, process
// footprint from /proc, API server request counts from its /metrics, fleets of
// Node objects, and writing bench/results/<name>.{json,md}.
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/harness/binaries.js';
import { registerNode } from '../test/harness/cluster.js';
import type { Cluster } from '../test/harness/cluster.js';
import type { ControlPlane, TokenUser } from '../test/harness/controlPlane.js';
import { OPERATOR_NAMESPACE } from '../test/harness/operator.js';
import { mapLimit } from '../test/harness/simAgents.js';

// The compiled harness looks for its node script beside itself.
export function ensureNodeScript(): void {
  const script = path.join(repoRoot, 'dist', 'test', 'harness', 'node-sandbox.sh');
  if (!existsSync(script)) copyFileSync(path.join(repoRoot, 'test', 'harness', 'node-sandbox.sh'), script);
}

/**
 * The controller's production leader-election timings (src/controller/main.ts defaults), in
 * place of the harness's fast test ones (6/4/1 s): on this shared 2-core machine at load 20+
 * a 4 s renew deadline was missed and the controller exited (as designed: lost lease -> exit),
 * which ended an idle run.
 */
export const PRODUCTION_LEASE = ['--lease-duration=15', '--renew-deadline=10', '--retry-period=2'];

export const resultsDir = path.join(repoRoot, 'bench', 'results');
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const env = (name: string, dflt: number): number => (process.env[name] !== undefined ? Number(process.env[name]) : dflt);

export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  // nearest rank
  const idx = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[idx]!;
}
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

/** The machine's facts, taken at the start of a benchmark (load average then). */
export function machine(systemdVersion?: string): Record<string, unknown> {
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: r3(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: sh('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']),
    systemd: systemdVersion ?? sh('sh', ['-c', 'systemctl --version | head -1']),
    loadavgAtStart: os.loadavg().map(r3),
    date: new Date().toISOString(),
  };
}

export async function systemdVersionOf(busctl: (...a: string[]) => Promise<string>): Promise<string> {
  return (
    await busctl('get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'Version')
  )
    .trim()
    .replace(/^s "(.*)"$/, '$1');
}

export async function writeResults(name: string, json: Record<string, unknown>, md: string): Promise<void> {
  await fs.mkdir(resultsDir, { recursive: true });
  await fs.writeFile(path.join(resultsDir, `${name}.json`), JSON.stringify(json, null, 2) + '\n');
  await fs.writeFile(path.join(resultsDir, `${name}.md`), md.endsWith('\n') ? md : md + '\n');
}

export function mdMachine(m: Record<string, unknown>): string[] {
  return ['## Machine', '', ...Object.entries(m).map(([k, v]) => `- ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`), ''];
}

export { mdTable } from './md.js';

/** RSS (MiB, VmRSS) and CPU seconds (utime+stime) of a process, from /proc. */
export function procStats(pid: number): { rssMiB: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  const ticks = Number(fields[11]) + Number(fields[12]);
  const hz = Number(sh('getconf', ['CLK_TCK'])) || 100;
  return { rssMiB: r3(rssKb / 1024), cpuSeconds: ticks / hz };
}

/**
 * Node's flags in a manifest's `command: ["node", ...flags, "dist/src/....js"]` line (e.g.
 * config/manager/controller.yaml): the benchmarks run the process as the cluster does.
 */
export function manifestNodeFlags(manifest: string): string[] {
  const yaml = readFileSync(path.join(repoRoot, manifest), 'utf8');
  const command = /^\s*command:\s*(\[.*\])\s*$/m.exec(yaml)?.[1];
  if (!command) throw new Error(`${manifest}: no \`command: [...]\` line`);
  const argv = JSON.parse(command) as string[];
  return argv.slice(
    1,
    argv.findIndex((a) => a.endsWith('.js')),
  );
}

/** The process's peak RSS so far (VmHWM), MiB. */
export function peakRssMiB(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return r3(kb / 1024);
}

export type RequestCounts = Map<string, number>;

/** apiserver_request_total summed by verb|resource|subresource (every code), scraped as admin. */
export async function apiRequests(cp: ControlPlane): Promise<RequestCounts> {
  const [code, body] = await cp.request('/metrics');
  if (code !== 200) throw new Error(`/metrics: ${code}`);
  const out: RequestCounts = new Map();
  for (const line of body.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const get = (k: string): string => new RegExp(`(?:^|,)${k}="([^"]*)"`).exec(labels)?.[1] ?? '';
    const key = `${get('verb')}|${get('resource')}|${get('subresource')}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1)));
  }
  return out;
}

export function diffRequests(before: RequestCounts, after: RequestCounts): RequestCounts {
  const out: RequestCounts = new Map();
  for (const [k, v] of after) {
    const d = v - (before.get(k) ?? 0);
    if (d > 0) out.set(k, d);
  }
  return out;
}

export const WRITE_VERBS = new Set(['POST', 'PUT', 'PATCH', 'DELETE', 'DELETECOLLECTION', 'APPLY']);

/** Registers n Ready Node objects (no systemd) named <prefix>-<i>, 32 at a time. */
export async function registerNodes(kc: k8s.KubeConfig, prefix: string, n: number, labels: Record<string, string> = {}): Promise<string[]> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(4, '0')}`);
  await mapLimit(names, 32, (name) => registerNode(kc, { name, labels, systemd: false }));
  return names;
}

export async function readSummary(): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await fs.readFile(path.join(resultsDir, 'summary.json'), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

// ---- API Priority and Fairness, and the identities it classifies ----

/**
 * The fleet benchmarks' clients, each with the identity it has in a cluster, so that the API
 * server's Priority and Fairness (on in these benchmarks) classifies its requests as a cluster's
 * default FlowSchemas would: our controller and agents are ServiceAccounts of the operator's
 * namespace (FlowSchema service-accounts: priority level workload-low); kube-controller-manager's
 * DaemonSet controller is kube-system's daemon-set-controller, as with
 * --use-service-account-credentials (kube-system-service-accounts: workload-high); kubelets are
 * system:nodes (system-nodes: system). The harness's admin is in system:masters, which APF exempts:
 * the benchmarks use it only to set up, to clean up and to read.
 */
export const BENCH_IDENTITIES = {
  controller: [
    `system:serviceaccount:${OPERATOR_NAMESPACE}:systemd-workload-controller`,
    'system:serviceaccounts',
    `system:serviceaccounts:${OPERATOR_NAMESPACE}`,
  ],
  agents: [
    `system:serviceaccount:${OPERATOR_NAMESPACE}:systemd-workload-agent`,
    'system:serviceaccounts',
    `system:serviceaccounts:${OPERATOR_NAMESPACE}`,
  ],
  daemonSetController: [
    'system:serviceaccount:kube-system:daemon-set-controller',
    'system:serviceaccounts',
    'system:serviceaccounts:kube-system',
  ],
  kubelets: ['system:node:sim-kubelets', 'system:nodes'],
} as const;
export type BenchIdentity = keyof typeof BENCH_IDENTITIES;

/** Token users for Cluster.start({ users }): one per bench identity, with a fresh token each. */
export function benchUsers(): Record<BenchIdentity, TokenUser> {
  return Object.fromEntries(
    Object.entries(BENCH_IDENTITIES).map(([k, [user, ...groups]]): [string, TokenUser] => [
      k,
      { token: randomBytes(24).toString('hex'), user, groups },
    ]),
  ) as Record<BenchIdentity, TokenUser>;
}

/**
 * Binds cluster-admin to each bench identity (what a client may do does not change how APF
 * classifies it) and writes a kubeconfig for each; returns their paths and loaded KubeConfigs.
 */
export async function benchKubeconfigs(
  cluster: Cluster,
  users: Record<BenchIdentity, TokenUser>,
): Promise<Record<BenchIdentity, { path: string; kc: k8s.KubeConfig }>> {
  const out: Partial<Record<BenchIdentity, { path: string; kc: k8s.KubeConfig }>> = {};
  for (const [name, u] of Object.entries(users) as Array<[BenchIdentity, TokenUser]>) {
    const r = await cluster.kubectl(['create', 'clusterrolebinding', `bench-${name}`, '--clusterrole=cluster-admin', `--user=${u.user}`]);
    if (r.code !== 0 && !/AlreadyExists/.test(r.stderr)) throw new Error(r.stderr);
    const p = await cluster.controlPlane.kubeconfigFor(`bench-${name}`, u.token);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(p);
    out[name] = { path: p, kc };
  }
  return out as Record<BenchIdentity, { path: string; kc: k8s.KubeConfig }>;
}

/** The API server's /metrics as admin. */
export async function scrapeMetrics(cp: ControlPlane): Promise<string> {
  const [code, body] = await cp.request('/metrics');
  if (code !== 200) throw new Error(`/metrics: ${code}`);
  return body;
}

/** Sum of every sample of `name` in a Prometheus exposition, by the value of label `by`. */
export function metricSumBy(body: string, name: string, by: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of body.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    const key = new RegExp(`(?:^|,)${by}="([^"]*)"`).exec(labels)?.[1] ?? '';
    out[key] = (out[key] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return out;
}

function diffBy(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d > 0) out[k] = r3(d);
  }
  return out;
}

/** APF's work between two scrapes, by priority level: requests dispatched, rejected, and seconds queued. */
export function apfDiff(before: string, after: string): Record<string, Record<string, number>> {
  const d = (name: string): Record<string, number> =>
    diffBy(metricSumBy(before, name, 'priority_level'), metricSumBy(after, name, 'priority_level'));
  return {
    dispatched: d('apiserver_flowcontrol_dispatched_requests_total'),
    rejected: d('apiserver_flowcontrol_rejected_requests_total'),
    queuedSeconds: d('apiserver_flowcontrol_request_wait_duration_seconds_sum'),
    queuedRequests: d('apiserver_flowcontrol_request_wait_duration_seconds_count'),
  };
}

/**
 * Whether APF is on in this API server, from the API server itself: its debug endpoint
 * (/debug/api_priority_and_fairness/dump_priority_levels answers only when APF is on) and the
 * seats of each priority level (apiserver_flowcontrol_nominal_limit_seats).
 */
export async function apfState(
  cp: ControlPlane,
): Promise<{ enabled: boolean; debugEndpointStatus: number; nominalSeats: Record<string, number> }> {
  const [code] = await cp.request('/debug/api_priority_and_fairness/dump_priority_levels');
  const nominalSeats = metricSumBy(await scrapeMetrics(cp), 'apiserver_flowcontrol_nominal_limit_seats', 'priority_level');
  return { enabled: code === 200 && Object.keys(nominalSeats).length > 0, debugEndpointStatus: code, nominalSeats };
}

function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3]! - (f[4] ?? 0), total };
}

/**
 * CPU seconds and peak RSS of some processes over an interval: CPU from /proc (utime+stime) at
 * start and stop, RSS (VmRSS) sampled every periodMs, its maximum; and the machine's busy share
 * of all its cores (/proc/stat) over the interval.
 */
export class ProcSampler {
  private readonly cpu0 = new Map<string, number>();
  private readonly peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private ticks0 = machineTicks();
  private t0 = performance.now();

  constructor(
    private readonly pids: Record<string, number | undefined>,
    private readonly periodMs = 250,
  ) {}

  start(): this {
    for (const [k, pid] of Object.entries(this.pids)) if (pid) this.cpu0.set(k, procStats(pid).cpuSeconds);
    this.ticks0 = machineTicks();
    this.t0 = performance.now();
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
    return this;
  }

  private sample(): void {
    for (const [k, pid] of Object.entries(this.pids)) {
      if (!pid) continue;
      try {
        this.peak.set(k, Math.max(this.peak.get(k) ?? 0, procStats(pid).rssMiB));
      } catch {
        /* exited */
      }
    }
  }

  stop(): {
    seconds: number;
    machineBusyPercent: number;
    procs: Record<string, { cpuSeconds: number; cores: number; peakRssMiB: number }>;
  } {
    clearInterval(this.timer);
    this.sample();
    const seconds = (performance.now() - this.t0) / 1000;
    const t = machineTicks();
    const procs: Record<string, { cpuSeconds: number; cores: number; peakRssMiB: number }> = {};
    for (const [k, pid] of Object.entries(this.pids)) {
      if (!pid || !this.cpu0.has(k)) continue;
      let cpu = NaN;
      try {
        cpu = procStats(pid).cpuSeconds - this.cpu0.get(k)!;
      } catch {
        /* exited */
      }
      procs[k] = { cpuSeconds: r3(cpu), cores: r3(cpu / seconds), peakRssMiB: this.peak.get(k) ?? NaN };
    }
    return {
      seconds: r3(seconds),
      machineBusyPercent: r3(((t.busy - this.ticks0.busy) / Math.max(1, t.total - this.ticks0.total)) * 100),
      procs,
    };
  }
}
