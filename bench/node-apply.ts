// Benchmark (issue 4/8/18): applying N units to ONE sandbox node, the agent against a floor.
//   floor: bench/node-apply-floor.py, an implementation that shares no code with the agent
//          (python3-dbus, its own connection to the node's bus), doing the same durable work
//          the agent does for new units: every file written atomically (temp file, fsync,
//          rename; 16 at a time) and one directory fsync, one Reload, StartUnit for every
//          service awaited to its JobRemoved 'done', one EnableUnitFiles of them all
//          (force, as the agent). The clock runs from the first write to the enable reply.
//   agent: the agent process (as in production) watching the API server; the clock runs
//          from the API create of the SystemdUnitSets carrying the N units (a child holds
//          at most LIMITS.units = 32 units, so N/32 children, created concurrently; the
//          controller is not in the loop: this measures the node's part) until systemd
//          reports all N units active (JobRemoved 'done' for each, confirmed by
//          ListUnitsByPatterns) AND all N are enabled (their multi-user.target.wants links,
//          which the agent makes after the starts, are all there).
// Floor and agent alternate within each repetition (a noisy neighbour hits both alike).
// Every repetition uses fresh unit names and cleans up after itself. Files are the
// renderer's own (sleep infinity, Restart=always, [Install]): the same for both, except
// that the floor's lack the two X-SDW-Owner/X-SDW-Hash lines (the agent beside it would
// otherwise garbage-collect them). The naive variant (a Reload per unit, 29.5x the old
// floor at 200 units) is no longer run: it went through the agent's own D-Bus adapter and
// cost about a minute per sample.
//
// Usage: node dist/bench/node-apply.js   (env: BENCH_N=200 BENCH_REPS=5 BENCH_LARGE=1000 BENCH_LARGE_REPS=5)
import * as k8s from '@kubernetes/client-node';
import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
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
const LARGE = Number(process.env.BENCH_LARGE ?? 1000);
// 5, not 1: a single 1,000-unit sample read 1.21x, 1.26x and 1.43x of the floor on three runs of one day.
const LARGE_REPS = Number(process.env.BENCH_LARGE_REPS ?? 5);
const FLOOR_SCRIPT = path.join(repoRoot, 'bench', 'node-apply-floor.py');
const execFileP = promisify(execFile);
const NODE = 'bench-1';
const NS = 'default';

interface Unit {
  workload: string;
  name: string;
  files: RenderedUnit[];
}

/** The floor writes files WITHOUT the ownership marker: else the agent running beside them would (rightly) garbage-collect them. */
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

/** Stops, disables and removes what the floor created (not the agent's: it cleans its own). */
async function cleanRaw(bus: SystemdBus, node: SystemdNode, names: string[]): Promise<void> {
  await Promise.all(names.map((n) => bus.stopUnit(n).catch(() => undefined)));
  await bus.disableUnitFiles(names);
  await Promise.all(names.map((n) => fs.rm(path.join(node.unitDir, n), { force: true })));
  await bus.reload();
  await Promise.all(names.map((n) => bus.resetFailedUnit(n).catch(() => undefined)));
}

/** The multi-user.target.wants links of this prefix's units: the enablement both sides make. */
async function enabledCount(node: SystemdNode, prefix: string): Promise<number> {
  const wants = await fs.readdir(path.join(node.unitDir, 'multi-user.target.wants')).catch(() => [] as string[]);
  return wants.filter((f) => f.startsWith(`sdw-default_${prefix}-`)).length;
}

async function floor(bus: SystemdBus, node: SystemdNode, prefix: string, n: number): Promise<Record<string, number>> {
  const files = units(prefix, n)
    .flat()
    .flatMap((u) => u.files);
  const source = await fs.mkdtemp(path.join(os.tmpdir(), 'sdw-floor-'));
  try {
    await Promise.all(files.map((f) => fs.writeFile(path.join(source, f.name), unowned(f.content))));
    const { stdout } = await execFileP('/usr/bin/python3', [FLOOR_SCRIPT, node.busAddress, node.unitDir, source], {
      timeout: 600_000,
      maxBuffer: 1 << 20,
    });
    const phases = JSON.parse(stdout) as Record<string, number>;
    const active = await activeCount(bus, prefix);
    if (active !== n) throw new Error(`floor: ${active} of ${n} active`);
    const enabled = await enabledCount(node, prefix);
    if (enabled !== n) throw new Error(`floor: ${enabled} of ${n} enabled`);
    await cleanRaw(
      bus,
      node,
      files.map((f) => f.name),
    );
    return phases;
  } finally {
    await fs.rm(source, { recursive: true, force: true });
  }
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
  // The agent enables after the starts: the clock stops when every link is there.
  const enableDeadline = Date.now() + 300_000;
  while ((await enabledCount(node, prefix)) < n) {
    if (Date.now() > enableDeadline) throw new Error(`agent: ${await enabledCount(node, prefix)} of ${n} enabled`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const t3 = now();
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
  return { total: (t3 - t0) / 1000, create: (t1 - t0) / 1000, active: (t2 - t0) / 1000, enable: (t3 - t2) / 1000 };
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
  // The floor needs Debian's python3-dbus and python3-gi (hack/install-deps.sh): say so before starting anything.
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import dbus, dbus.mainloop.glib, gi.repository.GLib'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`the floor (bench/node-apply-floor.py) needs python3-dbus and python3-gi: run hack/install-deps.sh (${String(e)})`);
  }
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
      const r: Runs = { floor: [], agent: [] };
      runs[n] = r;
      for (let i = 0; i < reps; i++) {
        // Interleaved, so a noisy neighbour on the shared machine hits both alike.
        r.floor!.push(await floor(bus, node, `bf${n}r${i}`, n));
        r.agent!.push(await agentRun(bus, node, api, `ba${n}r${i}`, n));
        console.log(`n=${n} rep ${i}: floor ${r3(r.floor!.at(-1)!.total!)} s, agent ${r3(r.agent!.at(-1)!.total!)} s`);
      }
    }
    const summary: Record<string, Record<string, number>> = {};
    for (const [n, r] of Object.entries(runs)) {
      const med = (side: string, k: string): number => r3(median(r[side]!.map((x) => x[k]!)));
      const f = med('floor', 'total');
      const a = med('agent', 'total');
      summary[n] = {
        floorMedianS: f,
        agentMedianS: a,
        agentOverFloor: r3(a / f),
        floorSamples: r.floor!.length,
        agentSamples: r.agent!.length,
        floorUnitsPerS: Math.round(Number(n) / f),
        agentUnitsPerS: Math.round(Number(n) / a),
        floorWriteMedianS: med('floor', 'write'),
        floorReloadMedianS: med('floor', 'reload'),
        floorStartMedianS: med('floor', 'start'),
        floorEnableMedianS: med('floor', 'enable'),
        agentCreateMedianS: med('agent', 'create'),
        agentActiveMedianS: med('agent', 'active'),
        agentEnableMedianS: med('agent', 'enable'),
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

function markdown(machine: Record<string, unknown>, summary: Record<string, Record<string, number>>, runs: Record<number, Runs>): string {
  const lines = [
    '# node-apply: N units onto one sandbox node',
    '',
    'Produced by `make bench-node-apply` (`node dist/bench/node-apply.js`); method in the header of bench/node-apply.ts.',
    'floor = bench/node-apply-floor.py (python3-dbus, no code shared with the agent): every file written atomically',
    '(temp file, fsync, rename; one directory fsync), one Reload, StartUnit for each to its JobRemoved, one EnableUnitFiles.',
    'agent = API create of the SystemdUnitSets (32 units each) to every unit active and enabled, the agent running as its own process.',
    "What still differs: the floor's files lack the two X-SDW-Owner/X-SDW-Hash lines; the floor makes its StartUnit calls one",
    'at a time (each reply awaited, the jobs run side by side), the agent keeps up to 64 calls in flight; the agent also lists',
    "and reads the unit directory, reads each unit's state after the starts and writes statuses (not durable work on the node).",
    'The machine is shared (2 cores, other test runs beside it: see loadavgAtStart); floor and agent alternate per repetition, so the ratio is the figure to read.',
    '',
    '| units | floor median (s) | agent median (s) | agent/floor | samples (floor/agent) |',
    '| --- | --- | --- | --- | --- |',
  ];
  for (const [n, s] of Object.entries(summary)) {
    lines.push(`| ${n} | ${s.floorMedianS} | ${s.agentMedianS} | ${s.agentOverFloor} | ${s.floorSamples}/${s.agentSamples} |`);
  }
  lines.push(
    '',
    '## Phases (medians, s)',
    '',
    '| units | floor write | floor reload | floor start | floor enable | agent create | agent to active | agent enable after active |',
  );
  lines.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const [n, s] of Object.entries(summary)) {
    lines.push(
      `| ${n} | ${s.floorWriteMedianS} | ${s.floorReloadMedianS} | ${s.floorStartMedianS} | ${s.floorEnableMedianS} | ${s.agentCreateMedianS} | ${s.agentActiveMedianS} | ${s.agentEnableMedianS} |`,
    );
  }
  lines.push('', '## All samples (total s, in run order)', '', '| units | floor | agent |', '| --- | --- | --- |');
  for (const [n, r] of Object.entries(runs)) {
    const list = (side: string): string => r[side]!.map((x) => r3(x.total!)).join(', ');
    lines.push(`| ${n} | ${list('floor')} | ${list('agent')} |`);
  }
  lines.push('', '## Machine', '', ...Object.entries(machine).map(([k, v]) => `- ${k}: ${Array.isArray(v) ? v.join(' ') : String(v)}`), '');
  return lines.join('\n');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
