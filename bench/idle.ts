// Benchmark (issue 8, #3): what an idle fleet writes to the API server, and how
// big the workload object gets with the node count.
//
// Fleet (bench/fleet.ts): IDLE_NODES Node objects served by the simulated agents
// (they ack each child once and then only renew heartbeat Leases every 10 s, the
// agent's default), plus ONE real sandbox node with the real agent at its
// production cadences (usage 30 s, heartbeat 10 s, resync 60 s), our controller;
// IDLE_WORKLOADS workloads selecting every node. After everything is ready and a
// settle period, apiserver_request_total is scraped (admin, /metrics) before and
// after IDLE_MINUTES of idleness; the difference, split by verb/resource, is the
// write rate. Expected: systemdworkloads/status writes only where usage figures of
// the real node changed (at most workloads x 60/usage-period per minute), 0 for the
// simulated nodes' unchanged state; systemdunitsets/status writes only from the real
// agent's usage cadence (at most its children x 60/usage-period); leases: the
// heartbeats (nodes/10 s x 60) plus the controller's leader-election renewals.
// Then: the byte size of a workload object (GET, JSON) selecting 10, 100 and all nodes.
//
// The controller runs with its Deployment's Node flags (bench/fleet.ts). Memory: its RSS at
// the end of the idle window, its peak (VmHWM), and its heap by space from its /metrics.
// Reconcile CPU: the controller's CPU seconds from the first workload created to every node
// ready (the fan-out), per child.
//
// API Priority and Fairness is on, the controller and the simulated agents have their cluster
// identities (bench/fleet.ts). The controller runs with --kube-api-qps=IDLE_KUBE_API_QPS (default
// 0: unthrottled, so that the children are created fast; idle, it has nothing to send).
//
// What changed (issue 18, #5): a snapshot of every workload's and child's resourceVersion and
// status before the window and after it names each object written in the window and the status
// fields that differ (a write that changed no field is a no-op write). Heartbeat cost: the lease
// renewals per minute, and the API server's CPU they cost: its CPU rate over HB_PROBE_S seconds
// with the simulated agents' renewals paused, against HB_PROBE_S seconds just before with them on
// (the pause is shorter than the controller's heartbeat grace, so no node goes Unknown); the
// API server's CPU and peak RSS over the whole window (/proc, VmRSS sampled every 250 ms).
//
// Usage: node dist/bench/idle.js   (env: IDLE_NODES=1000 IDLE_WORKLOADS=10 IDLE_MINUTES=10 IDLE_SETTLE_S=60
//        IDLE_REAL_NODE=1 IDLE_RESULT=idle IDLE_KUBE_API_QPS=0 IDLE_HB_PROBE_S=20)
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, WORKLOAD_PLURAL } from '../src/api/types.js';
import { metricValue, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import type { SystemdWorkload } from '../src/api/types.js';
import {
  ProcSampler,
  WRITE_VERBS,
  apiRequests,
  diffRequests,
  env,
  machine,
  mdMachine,
  mdTable,
  peakRssMiB,
  procStats,
  r3,
  sleep,
  writeResults,
} from './common.js';
import { NS, controllerNodeFlags, getWorkload, startFleet, workloadBody } from './fleet.js';

const NODES = env('IDLE_NODES', 1000);
const WORKLOADS = env('IDLE_WORKLOADS', 10);
const MINUTES = env('IDLE_MINUTES', 10);
const SETTLE_S = env('IDLE_SETTLE_S', 60);
const REAL_NODE = env('IDLE_REAL_NODE', 1) > 0;
const RESULT = process.env.IDLE_RESULT ?? 'idle';
const KUBE_API_QPS = env('IDLE_KUBE_API_QPS', 0);
const HB_PROBE_S = env('IDLE_HB_PROBE_S', 20);
const REAL_NODES = REAL_NODE ? 1 : 0;
const HB_S = 10;
const USAGE_S = 30;
const MIB = 1024 * 1024;

/** Where the controller's memory is: its V8 heap (used, by space) and external memory, from its /metrics (prom-client). */
async function heapBreakdown(p: OperatorProcess): Promise<Record<string, number | undefined>> {
  const body = (await p.get('/metrics')).body;
  const mib = (name: string, labels: Record<string, string> = {}): number | undefined => {
    const v = metricValue(body, name, labels);
    return v === undefined ? undefined : r3(v / MIB);
  };
  return {
    heapUsedMiB: mib('nodejs_heap_size_used_bytes'),
    heapTotalMiB: mib('nodejs_heap_size_total_bytes'),
    externalMiB: mib('nodejs_external_memory_bytes'),
    ...Object.fromEntries(
      ['new', 'old', 'code', 'large_object'].map((space) => [`${space}SpaceUsedMiB`, mib('nodejs_heap_space_size_used_bytes', { space })]),
    ),
  };
}

type Snapshot = Map<string, { rv: string; status: string }>;
const key = (o: { metadata?: { namespace?: string; name?: string } }): string => `${o.metadata?.namespace}/${o.metadata?.name}`;

/** Every workload and child: resourceVersion and status (JSON), by kind/namespace/name. */
async function snapshot(fleet: Awaited<ReturnType<typeof startFleet>>): Promise<Snapshot> {
  const out: Snapshot = new Map();
  const api = fleet.cluster.kc.makeApiClient(k8s.CustomObjectsApi);
  const wl = (await api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL })) as {
    items: SystemdWorkload[];
  };
  for (const w of wl.items) out.set(`workload ${key(w)}`, { rv: w.metadata.resourceVersion!, status: JSON.stringify(w.status ?? {}) });
  // The simulated agents' informer holds every child as the API server last sent it.
  for (const c of fleet.sim.informer.list())
    out.set(`child ${key(c)}`, { rv: c.metadata.resourceVersion!, status: JSON.stringify(c.status ?? {}) });
  return out;
}

/** Top-level and one-deeper paths where two JSON values differ (units[0].memoryBytes, nodes[3].cpuSeconds, ...). */
function changedPaths(a: unknown, b: unknown, at = '', depth = 0): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (depth >= 3 || a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return [at || '(root)'];
  const ka = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...ka].flatMap((k) =>
    changedPaths(
      (a as Record<string, unknown>)[k],
      (b as Record<string, unknown>)[k],
      Array.isArray(a) ? `${at}[${k}]` : at ? `${at}.${k}` : k,
      depth + 1,
    ),
  );
}

/** What was written in the window: each object whose resourceVersion moved, and the status paths that differ. */
function whatChanged(before: Snapshot, after: Snapshot): Array<{ object: string; statusPaths: string[] }> {
  const out: Array<{ object: string; statusPaths: string[] }> = [];
  for (const [k, a] of after) {
    const b = before.get(k);
    if (!b) out.push({ object: k, statusPaths: ['(created)'] });
    else if (b.rv !== a.rv) out.push({ object: k, statusPaths: changedPaths(JSON.parse(b.status), JSON.parse(a.status)) });
  }
  for (const k of before.keys()) if (!after.has(k)) out.push({ object: k, statusPaths: ['(deleted)'] });
  return out;
}

/**
 * Heartbeat cost: the API server's (and etcd's) CPU rate for HB_PROBE_S with the simulated
 * agents' renewals on, then as long with them paused (shorter than the controller's grace).
 */
async function heartbeatCost(fleet: Awaited<ReturnType<typeof startFleet>>, procs: Record<string, number | undefined>) {
  const hbOn0 = fleet.sim.stats.renewals;
  const on = new ProcSampler(procs).start();
  await sleep(HB_PROBE_S * 1000);
  const onUsage = on.stop();
  const hbOnRenewals = fleet.sim.stats.renewals - hbOn0;
  fleet.sim.heartbeatsPaused = true;
  const off = new ProcSampler(procs).start();
  await sleep(HB_PROBE_S * 1000);
  const offUsage = off.stop();
  fleet.sim.heartbeatsPaused = false;
  const rate = (u: ReturnType<ProcSampler['stop']>, p: string): number => (u.procs[p]?.cpuSeconds ?? NaN) / u.seconds;
  const renewalsPerSecondOn = hbOnRenewals / onUsage.seconds;
  return {
    probeSeconds: HB_PROBE_S,
    renewalsPerSecondOn: r3(renewalsPerSecondOn),
    apiserverCoresOn: r3(rate(onUsage, 'apiserver')),
    apiserverCoresPaused: r3(rate(offUsage, 'apiserver')),
    etcdCoresOn: r3(rate(onUsage, 'etcd')),
    etcdCoresPaused: r3(rate(offUsage, 'etcd')),
    apiserverCpuMsPerRenewal: r3(((rate(onUsage, 'apiserver') - rate(offUsage, 'apiserver')) * 1000) / renewalsPerSecondOn),
    etcdCpuMsPerRenewal: r3(((rate(onUsage, 'etcd') - rate(offUsage, 'etcd')) * 1000) / renewalsPerSecondOn),
  };
}

/** The real node's agent over the window: RSS at its end, CPU % over it; NaN if it exited, null without a real node. */
function agentFootprint(agent: OperatorProcess | undefined, before: { cpuSeconds: number } | undefined, minutes: number) {
  if (!agent || !before) return { exited: null, rssMiB: null, cpuPercentIdle: null };
  if (!agent.running) return { exited: true, rssMiB: NaN, cpuPercentIdle: NaN };
  const after = procStats(agent.pid!);
  return { exited: false, rssMiB: after.rssMiB, cpuPercentIdle: r3(((after.cpuSeconds - before.cpuSeconds) / (minutes * 60)) * 100) };
}

/** The API server's and etcd's use of the idle window. */
function windowFigures(usage: ReturnType<ProcSampler['stop']>) {
  const { apiserver, etcd } = usage.procs;
  return {
    apiserverCpuSecondsIdle: apiserver?.cpuSeconds,
    apiserverCoresIdle: apiserver?.cores,
    apiserverPeakRssMiBIdle: apiserver?.peakRssMiB,
    etcdCoresIdle: etcd?.cores,
  };
}

function agentRows(rssMiB: number | null, cpuPercent: number | null): Array<Array<string | number>> {
  return rssMiB === null ? [] : [['agent (real node, its children)', rssMiB, cpuPercent ?? '-']];
}

function writtenText(changed: Array<{ object: string; statusPaths: string[] }>): string {
  const list = changed
    .slice(0, 10)
    .map((c) => `${c.object} (${c.statusPaths.slice(0, 6).join(', ') || 'no status field'})`)
    .join('; ');
  const noop = changed.filter((c) => c.statusPaths.length === 0).length;
  return `Objects written in the window (a snapshot of every workload's and child's resourceVersion and status before and after it): ${changed.length}, of which ${noop} with no status field changed${changed.length ? `: ${list}` : ''}.`;
}

async function main(): Promise<void> {
  const m0 = machine();
  const allNodes = NODES + REAL_NODES;
  console.log(`idle: ${NODES}+${REAL_NODES} nodes x ${WORKLOADS} workloads, ${MINUTES} min, load ${String(m0.loadavgAtStart)}`);
  const t0 = Date.now();
  const fleet = await startFleet({
    nodes: NODES,
    workloads: WORKLOADS,
    realNode: REAL_NODE,
    controllerArgs: [`--kube-api-qps=${KUBE_API_QPS}`],
    heartbeatPeriodMs: HB_S * 1000,
    extraNodeLabels: (i) => ({ ...(i < 10 ? { size10: 'yes' } : {}), ...(i < 100 ? { size100: 'yes' } : {}) }),
  });
  try {
    const m = { ...m0, systemd: fleet.systemdVersion };
    const setupS = r3((Date.now() - t0) / 1000);
    console.log(`fleet ready in ${setupS} s; settling ${SETTLE_S} s`);
    await sleep(SETTLE_S * 1000);
    const cp = fleet.cluster.controlPlane;
    const before = await apiRequests(cp);
    const snap0 = await snapshot(fleet);
    const cBefore = procStats(fleet.controller.pid!);
    const aBefore = fleet.agent && procStats(fleet.agent.pid!);
    const hb0 = fleet.sim.stats.renewals;
    const procs = { apiserver: cp.apiserver.pid, etcd: cp.etcd.pid, controller: fleet.controller.pid, bench: process.pid };
    const windowUsage = new ProcSampler(procs).start();
    const tA = Date.now();
    await sleep(MINUTES * 60_000);
    const after = await apiRequests(cp);
    const minutes = (Date.now() - tA) / 60_000;
    const usage = windowUsage.stop();
    const snap1 = await snapshot(fleet);
    const changed = whatChanged(snap0, snap1);
    const heartbeat = await heartbeatCost(fleet, procs);
    // A process that exited during the window (e.g. the controller losing its lease) shows as null.
    const controllerExited = !fleet.controller.running;
    const cAfter = controllerExited ? { rssMiB: NaN, cpuSeconds: NaN } : procStats(fleet.controller.pid!);
    const agent = agentFootprint(fleet.agent, aBefore, minutes);
    if (controllerExited) console.log(`controller exited during the idle window:\n${fleet.controller.logTail(2000)}`);
    const controllerHeap = controllerExited ? {} : await heapBreakdown(fleet.controller);
    const controllerPeakRssMiB = controllerExited ? NaN : peakRssMiB(fleet.controller.pid!);
    const hbRenewals = fleet.sim.stats.renewals - hb0;
    const d = diffRequests(before, after);
    const perMin: Record<string, number> = {};
    const allPerMin: Record<string, number> = {};
    for (const [k, v] of [...d].sort()) {
      allPerMin[k] = r3(v / minutes);
      if (WRITE_VERBS.has(k.split('|')[0]!)) perMin[k] = r3(v / minutes);
    }
    const sum = (pred: (verb: string, res: string, sub: string) => boolean): number =>
      r3(
        Object.entries(perMin)
          .filter(([k]) => pred(...(k.split('|') as [string, string, string])))
          .reduce((n, [, v]) => n + v, 0),
      );
    const workloadStatus = sum((_v, r, s) => r === 'systemdworkloads' && s === 'status');
    const childStatus = sum((_v, r, s) => r === 'systemdunitsets' && s === 'status');
    const leases = sum((_v, r) => r === 'leases');
    const events = sum((_v, r) => r === 'events');
    const other = r3(Object.values(perMin).reduce((a, b) => a + b, 0) - workloadStatus - childStatus - leases - events);
    const total = r3(Object.values(perMin).reduce((a, b) => a + b, 0));

    // Object sizes: a workload selecting 10, 100, and every node.
    const api = fleet.cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const sizes: Record<string, number> = {};
    for (const [label, sel, n] of [
      ['10', { size10: 'yes' }, 10],
      ['100', { size100: 'yes' }, 100],
    ] as const) {
      if (n > NODES) continue; // a smaller fleet (a trial run) has no such selection
      const name = `size-${label}`;
      await api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: WORKLOAD_PLURAL,
        body: workloadBody(name, sel),
      });
      await waitFor(
        `${name} ready`,
        async () => ((await getWorkload(fleet.cluster, name)).status?.readyNodes === n ? true : undefined),
        600_000,
        500,
      );
      sizes[label] = JSON.stringify(await getWorkload(fleet.cluster, name)).length;
    }
    sizes[String(allNodes)] = JSON.stringify(await getWorkload(fleet.cluster, fleet.workloadNames[0]!)).length;
    const wl = await getWorkload(fleet.cluster, fleet.workloadNames[0]!);

    const summary = {
      nodes: allNodes,
      simulatedNodes: NODES,
      realNodes: REAL_NODES,
      workloads: WORKLOADS,
      children: allNodes * WORKLOADS,
      idleMinutes: r3(minutes),
      setupSeconds: setupS,
      apfEnabled: fleet.apf.enabled,
      controllerKubeApiQps: KUBE_API_QPS,
      writesPerMinute: { total, workloadStatus, childStatus, leases, events, other },
      // Workload and child status writes together (issue 18: 0 when nothing changes).
      statusWritesPerMinute: r3(workloadStatus + childStatus),
      // Objects written in the window (resourceVersion moved) and the status paths that differ; none: nothing written.
      written: changed.slice(0, 50),
      writtenObjects: changed.length,
      writtenWithoutStatusChange: changed.filter((c) => c.statusPaths.length === 0).length,
      leaseRenewalsPerMinute: r3(hbRenewals / minutes),
      heartbeat,
      ...windowFigures(usage),
      machineBusyPercentIdle: usage.machineBusyPercent,
      expected: {
        workloadStatusAtMost: r3(WORKLOADS * (60 / USAGE_S)),
        childStatusAtMost: r3(WORKLOADS * (60 / USAGE_S)),
        heartbeatLeaseRenewals: r3(hbRenewals / minutes),
      },
      statusNodesLength: wl.status?.nodes?.length,
      controllerExited,
      agentExited: agent.exited,
      workloadObjectBytes: sizes,
      controllerNodeFlags: controllerNodeFlags().join(' '),
      controllerRssMiB: cAfter.rssMiB,
      controllerPeakRssMiB,
      controllerHeap,
      fanOutSeconds: fleet.fanOut.seconds,
      controllerFanOutCpuSeconds: fleet.fanOut.controllerCpuSeconds,
      controllerReconcileCpuMsPerChild: r3((fleet.fanOut.controllerCpuSeconds * 1000) / (allNodes * WORKLOADS)),
      controllerCpuPercentIdle: r3(((cAfter.cpuSeconds - cBefore.cpuSeconds) / (minutes * 60)) * 100),
      agentRssMiB: agent.rssMiB,
      agentCpuPercentIdle: agent.cpuPercentIdle,
    };
    const json = {
      machine: m,
      method: 'see the header of bench/idle.ts',
      summary,
      writesPerMinuteByVerbResource: perMin,
      requestsPerMinuteAll: allPerMin,
    };
    const md = [
      `# idle: ${allNodes} nodes x ${WORKLOADS} workloads, ${r3(minutes)} minutes idle`,
      '',
      `Produced by \`node dist/bench/idle.js\` (\`make bench-${RESULT}\`; env IDLE_NODES=${NODES} IDLE_WORKLOADS=${WORKLOADS} IDLE_MINUTES=${MINUTES} IDLE_SETTLE_S=${SETTLE_S} IDLE_REAL_NODE=${REAL_NODES} IDLE_RESULT=${RESULT} IDLE_KUBE_API_QPS=${KUBE_API_QPS} IDLE_HB_PROBE_S=${HB_PROBE_S}). Method in the header of bench/idle.ts.`,
      `${NODES} simulated nodes (ack once, then heartbeat Leases every ${HB_S} s)${REAL_NODE ? ` + 1 real node with the real agent (usage every ${USAGE_S} s)` : ', no real node'}. API Priority and Fairness on: ${String(fleet.apf.enabled)}. Counted at the API server (apiserver_request_total).`,
      '',
      ...mdTable(
        ['writes per minute', 'measured', 'expected'],
        [
          [
            'SystemdWorkload status (target 0 for unchanged state; usage of the real node may change it)',
            workloadStatus,
            `<= ${summary.expected.workloadStatusAtMost}`,
          ],
          ['SystemdUnitSet status (the real agent, usage cadence)', childStatus, `<= ${summary.expected.childStatusAtMost}`],
          [
            'Leases (heartbeats + leader election)',
            leases,
            `~${summary.expected.heartbeatLeaseRenewals} heartbeats + leader election off: 0`,
          ],
          ['Events', events, '0'],
          ['other', other, '-'],
          ['total', total, '-'],
        ],
      ),
      '',
      `Workload and child status writes: **${summary.statusWritesPerMinute}/min**. ${writtenText(changed)}`,
      '',
      '## Heartbeats and the API server',
      '',
      ...mdTable(
        ['', 'value'],
        [
          ['lease renewals per minute (counted at the simulated agents)', summary.leaseRenewalsPerMinute],
          [`kube-apiserver cores, ${HB_PROBE_S} s with renewals on`, heartbeat.apiserverCoresOn],
          [`kube-apiserver cores, ${HB_PROBE_S} s with renewals paused`, heartbeat.apiserverCoresPaused],
          ['kube-apiserver CPU ms per renewal (difference / renewals)', heartbeat.apiserverCpuMsPerRenewal],
          ['etcd CPU ms per renewal', heartbeat.etcdCpuMsPerRenewal],
          ['kube-apiserver cores over the idle window', summary.apiserverCoresIdle],
          ['kube-apiserver peak RSS over the idle window (MiB)', summary.apiserverPeakRssMiBIdle],
          ['etcd cores over the idle window', summary.etcdCoresIdle],
          ['machine busy over the idle window, % of all cores', summary.machineBusyPercentIdle],
        ],
      ),
      '',
      '## Workload object size (bytes of the JSON from GET)',
      '',
      ...mdTable(
        ['nodes selected', 'bytes'],
        Object.entries(sizes).map(([k, v]) => [k, v]),
      ),
      `status.nodes is capped at 20 entries (here ${String(summary.statusNodesLength)}).`,
      '',
      '## Footprint during the idle window',
      '',
      ...mdTable(
        ['process', 'RSS (MiB)', 'CPU %'],
        [
          [`controller (${summary.children} children)`, summary.controllerRssMiB, summary.controllerCpuPercentIdle],
          ...agentRows(summary.agentRssMiB, summary.agentCpuPercentIdle),
        ],
      ),
      '',
      `The controller ran as its Deployment runs it: \`node ${summary.controllerNodeFlags} dist/src/controller/main.js\` (env FLEET_CONTROLLER_NODE_FLAGS replaces the flags).`,
      `Controller RSS sampled once, at the end of the idle window; its peak (VmHWM) over the whole run, fan-out included: ${summary.controllerPeakRssMiB} MiB.`,
      `Controller heap then (its /metrics): ${Object.entries(summary.controllerHeap)
        .map(([k, v]) => `${k} ${String(v)}`)
        .join(', ')}.`,
      '',
      '## Fan-out: reconcile CPU per child',
      '',
      `From the first workload created to all ${summary.children} children ready: ${summary.fanOutSeconds} s, the controller process used ${summary.controllerFanOutCpuSeconds} CPU seconds (utime+stime): ${summary.controllerReconcileCpuMsPerChild} ms per child (creating it, and folding the status its agent reports, with the watch decoding that feeds both).`,
      '',
      `All write counts by verb|resource|subresource per minute are in ${RESULT}.json.`,
      '',
      ...mdMachine(m),
    ].join('\n');
    await writeResults(RESULT, json, md);
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await fleet.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
