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
// Usage: node dist/bench/idle.js   (env: IDLE_NODES=1000 IDLE_WORKLOADS=10 IDLE_MINUTES=10 IDLE_SETTLE_S=60)
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, WORKLOAD_PLURAL } from '../src/api/types.js';
import { metricValue, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import {
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

async function main(): Promise<void> {
  const m0 = machine();
  console.log(`idle: ${NODES}+1 nodes x ${WORKLOADS} workloads, ${MINUTES} min, load ${String(m0.loadavgAtStart)}`);
  const t0 = Date.now();
  const fleet = await startFleet({
    nodes: NODES,
    workloads: WORKLOADS,
    realNode: true,
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
    const cBefore = procStats(fleet.controller.pid!);
    const aBefore = procStats(fleet.agent!.pid!);
    const hb0 = fleet.sim.stats.renewals;
    const tA = Date.now();
    await sleep(MINUTES * 60_000);
    const after = await apiRequests(cp);
    const minutes = (Date.now() - tA) / 60_000;
    // A process that exited during the window (e.g. the controller losing its lease) shows as null.
    const controllerExited = !fleet.controller.running;
    const agentExited = !fleet.agent!.running;
    const cAfter = controllerExited ? { rssMiB: NaN, cpuSeconds: NaN } : procStats(fleet.controller.pid!);
    const aAfter = agentExited ? { rssMiB: NaN, cpuSeconds: NaN } : procStats(fleet.agent!.pid!);
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
    sizes[String(NODES + 1)] = JSON.stringify(await getWorkload(fleet.cluster, fleet.workloadNames[0]!)).length;
    const wl = await getWorkload(fleet.cluster, fleet.workloadNames[0]!);

    const summary = {
      nodes: NODES + 1,
      workloads: WORKLOADS,
      children: (NODES + 1) * WORKLOADS,
      idleMinutes: r3(minutes),
      setupSeconds: setupS,
      writesPerMinute: { total, workloadStatus, childStatus, leases, events, other },
      expected: {
        workloadStatusAtMost: r3(WORKLOADS * (60 / USAGE_S)),
        childStatusAtMost: r3(WORKLOADS * (60 / USAGE_S)),
        heartbeatLeaseRenewals: r3(hbRenewals / minutes),
      },
      statusNodesLength: wl.status?.nodes?.length,
      controllerExited,
      agentExited,
      workloadObjectBytes: sizes,
      controllerNodeFlags: controllerNodeFlags().join(' '),
      controllerRssMiB: cAfter.rssMiB,
      controllerPeakRssMiB,
      controllerHeap,
      fanOutSeconds: fleet.fanOut.seconds,
      controllerFanOutCpuSeconds: fleet.fanOut.controllerCpuSeconds,
      controllerReconcileCpuMsPerChild: r3((fleet.fanOut.controllerCpuSeconds * 1000) / ((NODES + 1) * WORKLOADS)),
      controllerCpuPercentIdle: r3(((cAfter.cpuSeconds - cBefore.cpuSeconds) / (minutes * 60)) * 100),
      agentRssMiB: aAfter.rssMiB,
      agentCpuPercentIdle: r3(((aAfter.cpuSeconds - aBefore.cpuSeconds) / (minutes * 60)) * 100),
    };
    const json = {
      machine: m,
      method: 'see the header of bench/idle.ts',
      summary,
      writesPerMinuteByVerbResource: perMin,
      requestsPerMinuteAll: allPerMin,
    };
    const md = [
      `# idle: ${NODES + 1} nodes x ${WORKLOADS} workloads, ${r3(minutes)} minutes idle`,
      '',
      `Produced by \`node dist/bench/idle.js\` (\`make bench-idle\`; env IDLE_NODES=${NODES} IDLE_WORKLOADS=${WORKLOADS} IDLE_MINUTES=${MINUTES} IDLE_SETTLE_S=${SETTLE_S}). Method in the header of bench/idle.ts.`,
      `${NODES} simulated nodes (ack once, then heartbeat Leases every ${HB_S} s) + 1 real node with the real agent (usage every ${USAGE_S} s). Counted at the API server (apiserver_request_total).`,
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
          ['agent (real node, its children)', summary.agentRssMiB, summary.agentCpuPercentIdle],
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
      'All write counts by verb|resource|subresource per minute are in idle.json.',
      '',
      ...mdMachine(m),
    ].join('\n');
    await writeResults('idle', json, md);
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    await fleet.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
