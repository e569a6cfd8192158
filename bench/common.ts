// Shared pieces of the benchmarks: the machine's facts, statistics, process
// footprint from /proc, API server request counts from its /metrics, fleets of
// Node objects, and writing bench/results/<name>.{json,md}.
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, promises as fs, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../test/harness/binaries.js';
import { registerNode } from '../test/harness/cluster.js';
import type { ControlPlane } from '../test/harness/controlPlane.js';
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
