// Benchmark (issue 4/8): applying N units to ONE sandbox node, three ways, in one run.
//   floor: every file written, one Reload, StartUnit pipelined through src/systemd/bus.ts
//          (window 64 calls / 128 jobs), every JobRemoved awaited;
//   naive: per unit write + Reload + StartUnit + wait;
//   agent: the agent process (as in production) watching the API server; the clock runs
//          from the API create of the SystemdUnitSets carrying the N units (a child holds
//          at most LIMITS.units = 32 units, so N/32 children, created concurrently; the
//          controller is not in the loop: this measures the node's part) until systemd
//          reports all N units active (JobRemoved 'done' for each, confirmed by
//          ListUnitsByPatterns).
// Every repetition uses fresh unit names and cleans up after itself. Files are the
// renderer's own (sleep infinity, Restart=always, [Install]): the same for all three.
//
// Usage: node dist/bench/node-apply.js   (env: BENCH_N=200 BENCH_REPS=5 BENCH_NAIVE_REPS=3 BENCH_LARGE=1000 BENCH_LARGE_REPS=3)
import * as k8s from '@kubernetes/client-node';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  API_VERSION,
  GROUP,
  LABEL_NODE,
  LABEL_WORKLOAD,
  UNITSET_KIND,
  UNITSET_PLURAL,
  VERSION,
  type RenderedUnit,
  type SystemdUnitSet,
} from '../src/api/types.js';
import { LIMITS } from '../src/api/schema.js';
import { specHash } from '../src/render/hash.js';
import { renderUnitFiles } from '../src/render/unit.js';
import { SystemdBus } from '../src/systemd/bus.js';
import { repoRoot } from '../test/harness/binaries.js';
import { Cluster } from '../test/harness/cluster.js';
import { startAgent, type OperatorProcess } from '../test/harness/operator.js';
import type { SystemdNode } from '../test/harness/systemdNode.js';

// The compiled harness looks for its node script beside itself.
const script = path.join(repoRoot, 'dist', 'test', 'harness', 'node-sandbox.sh');
if (!existsSync(script)) copyFileSync(path.join(repoRoot, 'test', 'harness', 'node-sandbox.sh'), script);

const N = Number(process.env.BENCH_N ?? 200);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const NAIVE_REPS = Number(process.env.BENCH_NAIVE_REPS ?? 3);
const LARGE = Number(process.env.BENCH_LARGE ?? 1000);
// 3, not 1: a single 1,000-unit sample read 1.21x, 1.26x and 1.43x of the floor on three runs of one day.
const LARGE_REPS = Number(process.env.BENCH_LARGE_REPS ?? 3);
const NODE = 'bench-1';
const NS = 'default';

interface Unit {
  workload: string;
  name: string;
  files: RenderedUnit[];
}

/** The floor and naive runs write files WITHOUT the ownership marker: else the agent running beside them would (rightly) garbage-collect them. */
const unowned = (content: string): string => content.replace(/^X-SDW-(Owner|Hash)=.*\n/gm, '');

/** n units named sdw-default_<prefix>-<k>_u<i>.service, grouped 32 per workload (one child each). */
function units(prefix: string, n: number): Unit[][] {
  const groups: Unit[][] = [];
  for (let i = 0; i < n; i++) {
    const g = Math.floor(i / LIMITS.units);
    const workload = `${prefix}-${g}`;
    (groups[g] ??= []).push({
      workload,
      name: `u${i}`,
      files: renderUnitFiles(NS, workload, { name: `u${i}`, command: ['/bin/sleep', 'infinity'] }),
    });
  }
  return groups;
}
const serviceNames = (gs: Unit[][]): string[] => gs.flat().map((u) => u.files[0]!.name);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r3 = (x: number): number => Math.round(x * 1000) / 1000;
const now = (): number => performance.now();

async function activeCount(bus: SystemdBus, prefix: string): Promise<number> {
  return (await bus.listUnitsByPatterns(['active'], [`sdw-default_${prefix}-*`])).length;
}

/** Stops and removes what the floor/naive runs created (not the agent's: it cleans its own). */
async function cleanRaw(bus: SystemdBus, node: SystemdNode, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => bus.stopUnit(n).catch(() => undefined)));
  await Promise.all(names.map((n) => fs.rm(path.join(node.unitDir, n), { force: true })));
  await bus.reload();
  await Promise.all(names.map((n) => bus.resetFailedUnit(n).catch(() => undefined)));
}

async function floor(bus: SystemdBus, node: SystemdNode, prefix: string, n: number): Promise<Record<string, number>> {
  const gs = units(prefix, n);
  const files = gs.flat().flatMap((u) => u.files);
  const t0 = now();
  await Promise.all(files.map((f) => fs.writeFile(path.join(node.unitDir, f.name), unowned(f.content))));
  const t1 = now();
  await bus.reload();
  const t2 = now();
  const results = await Promise.all(serviceNames(gs).map((s) => bus.startUnit(s)));
  const t3 = now();
  if (results.some((r) => r !== 'done')) throw new Error(`floor: jobs not done: ${results.filter((r) => r !== 'done').length}`);
  const active = await activeCount(bus, prefix);
  if (active !== n) throw new Error(`floor: ${active} of ${n} active`);
  await cleanRaw(
    bus,
    node,
    files.map((f) => f.name),
  );
  return { total: (t3 - t0) / 1000, write: (t1 - t0) / 1000, reload: (t2 - t1) / 1000, start: (t3 - t2) / 1000 };
}

async function naive(bus: SystemdBus, node: SystemdNode, prefix: string, n: number): Promise<Record<string, number>> {
  const gs = units(prefix, n);
  const t0 = now();
  for (const u of gs.flat()) {
    const f = u.files[0]!;
    await fs.writeFile(path.join(node.unitDir, f.name), unowned(f.content));
    await bus.reload();
    const r = await bus.startUnit(f.name);
    if (r !== 'done') throw new Error(`naive: ${f.name} ${r}`);
  }
  const t1 = now();
  await cleanRaw(bus, node, serviceNames(gs));
  return { total: (t1 - t0) / 1000 };
}

function child(prefix: string, us: Unit[]): SystemdUnitSet {
  const workload = us[0]!.workload;
  const spec = {
    nodeName: NODE,
    units: us.map((u) => ({ name: u.name, type: 'service' as const, scheduled: false, files: u.files })),
    hash: '',
    shortHash: '',
  };
  spec.hash = specHash(spec.units.flatMap((u) => u.files));
  spec.shortHash = spec.hash.slice(0, 12);
  return {
    apiVersion: API_VERSION,
    kind: UNITSET_KIND,
    metadata: { name: `${workload}-${NODE}`, namespace: NS, labels: { [LABEL_NODE]: NODE, [LABEL_WORKLOAD]: workload, bench: prefix } },
    spec,
  };
}

async function agentRun(
  bus: SystemdBus,
  node: SystemdNode,
  api: k8s.CustomObjectsApi,
  prefix: string,
  n: number,
): Promise<Record<string, number>> {
  const gs = units(prefix, n);
  const names = new Set(serviceNames(gs));
  const bodies = gs.map((g) => child(prefix, g));
  let done = 0;
  let resolveAll!: () => void;
  const all = new Promise<void>((r) => (resolveAll = r));
  const seen = new Set<string>();
  const onJob = (e: { unit: string; result: string }): void => {
    if (e.result === 'done' && names.has(e.unit) && !seen.has(e.unit)) {
      seen.add(e.unit);
      if (++done === n) resolveAll();
    }
  };
  bus.on('jobRemoved', onJob);
  // Safety net if a signal were missed: systemd's own list.
  let polling = true;
  const poll = (async () => {
    while (polling) {
      await new Promise((r) => setTimeout(r, 250));
      if (polling && (await activeCount(bus, prefix).catch(() => 0)) === n) resolveAll();
    }
  })();
  const t0 = now();
  await Promise.all(
    bodies.map((body) => api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: UNITSET_PLURAL, body })),
  );
  const t1 = now();
  await all;
  const t2 = now();
  polling = false;
  await poll;
  bus.off('jobRemoved', onJob);
  const active = await activeCount(bus, prefix);
  if (active !== n) throw new Error(`agent: ${active} of ${n} active`);
  // Clean: the agent removes what is no longer asked for.
  await api.deleteCollectionNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: UNITSET_PLURAL,
    labelSelector: `bench=${prefix}`,
  });
  const deadline = Date.now() + 300_000;
  for (;;) {
    const left = (await fs.readdir(node.unitDir)).filter((f) => f.startsWith(`sdw-default_${prefix}-`)).length;
    const loaded = (await bus.listUnitsByPatterns(['active', 'activating', 'deactivating', 'failed'], [`sdw-default_${prefix}-*`])).length;
    if (left === 0 && loaded === 0) break;
    if (Date.now() > deadline) throw new Error(`agent cleanup: ${left} files, ${loaded} units left`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { total: (t2 - t0) / 1000, create: (t1 - t0) / 1000 };
}

function facts(node: SystemdNode, version: string): Record<string, unknown> {
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
    } catch {
      return 'unknown';
    }
  };
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model,
    memoryGiB: r3(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    os: sh('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"']),
    systemd: version,
    cgroups: existsSync('/sys/fs/cgroup/cgroup.controllers') ? 'v2' : 'hybrid (v1 controllers + unified)',
    loadavgAtStart: os.loadavg().map(r3),
    node: node.name,
    date: new Date().toISOString(),
  };
}

type Runs = Record<string, Array<Record<string, number>>>;

async function main(): Promise<void> {
  const cluster = await Cluster.start({ nodes: [{ name: NODE }] });
  let agent: OperatorProcess | undefined;
  let bus: SystemdBus | undefined;
  try {
    const node = cluster.node(NODE);
    bus = await SystemdBus.connect(node.busAddress);
    const version = (
      await node.busctl(
        'get-property',
        'org.freedesktop.systemd1',
        '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager',
        'Version',
      )
    )
      .trim()
      .replace(/^s "(.*)"$/, '$1');
    agent = await startAgent(cluster, NODE, { usagePeriodSeconds: 30, resyncPeriodSeconds: 60 });
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const runs: Record<number, Runs> = {};
    const sizes = [N, ...(LARGE > 0 ? [LARGE] : [])];
    for (const n of sizes) {
      const reps = n === N ? REPS : LARGE_REPS;
      const r: Runs = { floor: [], naive: [], agent: [] };
      runs[n] = r;
      for (let i = 0; i < reps; i++) {
        // Interleaved, so a noisy neighbour on the shared machine hits all three alike.
        r.floor!.push(await floor(bus, node, `bf${n}r${i}`, n));
        r.agent!.push(await agentRun(bus, node, api, `ba${n}r${i}`, n));
        if (n === N && i < NAIVE_REPS) r.naive!.push(await naive(bus, node, `bn${n}r${i}`, n));
        console.log(
          `n=${n} rep ${i}: floor ${r3(r.floor!.at(-1)!.total!)} s, agent ${r3(r.agent!.at(-1)!.total!)} s${r.naive!.length > i ? `, naive ${r3(r.naive!.at(-1)!.total!)} s` : ''}`,
        );
      }
    }
    const summary: Record<string, Record<string, number | null>> = {};
    for (const [n, r] of Object.entries(runs)) {
      const med = (k: string): number | null => (r[k]!.length ? r3(median(r[k]!.map((x) => x.total!))) : null);
      const f = med('floor')!;
      const a = med('agent')!;
      const nv = med('naive');
      summary[n] = {
        floorMedianS: f,
        agentMedianS: a,
        naiveMedianS: nv,
        agentOverFloor: r3(a / f),
        naiveOverFloor: nv === null ? null : r3(nv / f),
        floorUnitsPerS: Math.round(Number(n) / f),
        agentUnitsPerS: Math.round(Number(n) / a),
        floorReloadMedianS: r3(median(r.floor!.map((x) => x.reload!))),
        floorStartMedianS: r3(median(r.floor!.map((x) => x.start!))),
      };
    }
    const result = { machine: facts(node, version), method: 'see bench/node-apply.ts header', summary, runs };
    const outDir = path.join(repoRoot, 'bench', 'results');
    await fs.mkdir(outDir, { recursive: true });
    await fs.writeFile(path.join(outDir, 'node-apply.json'), JSON.stringify(result, null, 2) + '\n');
    await fs.writeFile(path.join(outDir, 'node-apply.md'), markdown(result.machine, summary, runs));
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await bus?.close();
    await agent?.stop();
    await cluster.stop();
  }
}

function markdown(
  machine: Record<string, unknown>,
  summary: Record<string, Record<string, number | null>>,
  runs: Record<number, Runs>,
): string {
  const lines = [
    '# node-apply: N units onto one sandbox node',
    '',
    'Produced by `make bench` (`node dist/bench/node-apply.js`); method in the header of bench/node-apply.ts.',
    'floor = all files, one Reload, pipelined StartUnit through src/systemd/bus.ts, every JobRemoved;',
    'naive = per unit write + Reload + StartUnit + wait; agent = API create of the SystemdUnitSets (32 units each)',
    'to every unit active in systemd, the agent running as its own process. Medians of the repetitions.',
    'The machine is shared (2 cores, other test runs beside it: see loadavgAtStart), so absolute times are above the quiet-machine floor in shared/node-sandbox.md (0.55 s for 200); the three are interleaved per repetition, so the ratios are the figure to read.',
    '',
    '| units | floor (s) | agent (s) | naive (s) | agent/floor | naive/floor | reps (floor/agent/naive) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const [n, s] of Object.entries(summary)) {
    const r = runs[Number(n)]!;
    lines.push(
      `| ${n} | ${s.floorMedianS} | ${s.agentMedianS} | ${s.naiveMedianS ?? 'not run'} | ${s.agentOverFloor} | ${s.naiveOverFloor ?? '-'} | ${r.floor!.length}/${r.agent!.length}/${r.naive!.length} |`,
    );
  }
  lines.push('', '## Machine', '', ...Object.entries(machine).map(([k, v]) => `- ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`), '');
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
