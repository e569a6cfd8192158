// Benchmark (issue 8, #5): footprint, from /proc/<pid>/status VmRSS and
// /proc/<pid>/stat utime+stime.
//  agent: a real sandbox node, the real agent at its production cadences (usage 30 s,
//    heartbeat 10 s, resync 60 s) and our controller; FOOTPRINT_UNITS units in
//    workloads of 25 units. Idle: FOOTPRINT_IDLE_S seconds with nothing changing.
//    Churn: for FOOTPRINT_CHURN_S seconds, every workload's command is changed (new
//    hash: the agent rewrites the files, reloads and restarts all units), waited for
//    until every workload reports the new generation updated and ready, again and again.
//    RSS sampled every second (median and max), CPU as % of one core.
//  controller: FOOTPRINT_WORKLOADS x FOOTPRINT_NODES children (simulated agents, see
//    test/harness/simAgents.ts), RSS after all are ready and FOOTPRINT_SETTLE_S.
//
// Usage: node dist/bench/footprint.js
//   (env: FOOTPRINT_UNITS=50 FOOTPRINT_IDLE_S=60 FOOTPRINT_CHURN_S=60 FOOTPRINT_WORKLOADS=10 FOOTPRINT_NODES=0 FOOTPRINT_SETTLE_S=30)
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION, WORKLOAD_PLURAL } from '../src/api/types.js';
import { Cluster } from '../test/harness/cluster.js';
import { startAgent, startController, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import {
  ensureNodeScript,
  env,
  machine,
  mdMachine,
  mdTable,
  median,
  procStats,
  r3,
  sleep,
  systemdVersionOf,
  writeResults,
  PRODUCTION_LEASE,
} from './common.js';
import { NS, getWorkload, startFleet, workloadBody } from './fleet.js';

const UNITS = env('FOOTPRINT_UNITS', 50);
const IDLE_S = env('FOOTPRINT_IDLE_S', 60);
const CHURN_S = env('FOOTPRINT_CHURN_S', 60);
const WORKLOADS = env('FOOTPRINT_WORKLOADS', 10);
// 0 by default: idle.ts measures the controller at the same 10,010 children, and building
// that fleet twice costs `make bench` minutes for one figure.
const NODES = env('FOOTPRINT_NODES', 0);
const SETTLE_S = env('FOOTPRINT_SETTLE_S', 30);
const PER_WORKLOAD = 25;
const NODE = 'fp-1';

interface Window {
  seconds: number;
  rssMedianMiB: number;
  rssMaxMiB: number;
  cpuPercent: number;
}

async function sampleWhile(pid: number, body: () => Promise<void>): Promise<Window> {
  const rss: number[] = [];
  let on = true;
  const sampler = (async () => {
    while (on) {
      rss.push(procStats(pid).rssMiB);
      await sleep(1000);
    }
  })();
  const c0 = procStats(pid).cpuSeconds;
  const t0 = performance.now();
  await body();
  const seconds = (performance.now() - t0) / 1000;
  const c1 = procStats(pid).cpuSeconds;
  on = false;
  await sampler;
  return {
    seconds: r3(seconds),
    rssMedianMiB: r3(median(rss)),
    rssMaxMiB: r3(Math.max(...rss)),
    cpuPercent: r3(((c1 - c0) / seconds) * 100),
  };
}

async function agentPart(): Promise<{ idle: Window; churn: Window & { updates: number; unitRestarts: number }; systemd: string }> {
  ensureNodeScript();
  const cluster = await Cluster.start({ nodes: [{ name: NODE }] });
  let controller: OperatorProcess | undefined;
  let agent: OperatorProcess | undefined;
  try {
    const node = cluster.node(NODE);
    const systemd = await systemdVersionOf((...a) => node.busctl(...a));
    controller = await startController(cluster, { extraArgs: PRODUCTION_LEASE });
    agent = await startAgent(cluster, NODE, { usagePeriodSeconds: 30, heartbeatPeriodSeconds: 10, resyncPeriodSeconds: 60 });
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const names: string[] = [];
    for (let left = UNITS, i = 0; left > 0; left -= PER_WORKLOAD, i++) {
      const name = `fp-${i}`;
      names.push(name);
      await api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: WORKLOAD_PLURAL,
        body: workloadBody(name, { 'kubernetes.io/hostname': NODE }, Math.min(PER_WORKLOAD, left)),
      });
    }
    const settled = async (): Promise<void> => {
      await waitFor(
        'workloads updated and ready',
        async () => {
          for (const n of names) {
            const w = await getWorkload(cluster, n);
            const s = w.status;
            if (s?.observedGeneration !== w.metadata.generation || s?.updatedNodes !== 1 || s?.readyNodes !== 1) return undefined;
          }
          return true;
        },
        300_000,
        100,
      );
    };
    await settled();
    await sleep(5000);
    const idle = await sampleWhile(agent.pid!, () => sleep(IDLE_S * 1000));
    let updates = 0;
    const mp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    const churn = await sampleWhile(agent.pid!, async () => {
      const end = Date.now() + CHURN_S * 1000;
      while (Date.now() < end) {
        updates++;
        for (const n of names) {
          const w = await getWorkload(cluster, n);
          await api.patchNamespacedCustomObject(
            {
              group: GROUP,
              version: VERSION,
              namespace: NS,
              plural: WORKLOAD_PLURAL,
              name: n,
              body: { spec: { units: w.spec.units.map((u) => ({ ...u, command: ['/bin/sleep', String(1_000_000 + updates)] })) } },
            },
            mp,
          );
        }
        await settled();
      }
    });
    return { idle, churn: { ...churn, updates, unitRestarts: updates * UNITS }, systemd };
  } finally {
    await agent?.stop();
    await controller?.stop();
    await cluster.stop();
  }
}

async function controllerPart(): Promise<{ children: number; rssMiB: number; idle: Window; setupSeconds: number }> {
  const t0 = Date.now();
  const fleet = await startFleet({ nodes: NODES, workloads: WORKLOADS, realNode: false, heartbeatPeriodMs: 10_000 });
  try {
    const setupSeconds = r3((Date.now() - t0) / 1000);
    await sleep(SETTLE_S * 1000);
    const idle = await sampleWhile(fleet.controller.pid!, () => sleep(30_000));
    return { children: NODES * WORKLOADS, rssMiB: procStats(fleet.controller.pid!).rssMiB, idle, setupSeconds };
  } finally {
    await fleet.stop();
  }
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`footprint: agent ${UNITS} units, controller ${WORKLOADS}x${NODES} children, load ${String(m.loadavgAtStart)}`);
  const agent = await agentPart();
  console.log('agent', JSON.stringify(agent));
  // FOOTPRINT_NODES=0 skips the controller part (idle.ts reports the controller at 10,010 children too).
  const controller =
    NODES > 0
      ? await controllerPart()
      : { children: 0, rssMiB: NaN, idle: { seconds: 0, rssMedianMiB: NaN, rssMaxMiB: NaN, cpuPercent: NaN }, setupSeconds: 0 };
  console.log('controller', JSON.stringify(controller));
  const mm = { ...m, systemd: agent.systemd };
  const summary = {
    agentRssMiB: agent.idle.rssMedianMiB,
    agentIdleCpuPercent: agent.idle.cpuPercent,
    agentChurnRssMaxMiB: agent.churn.rssMaxMiB,
    agentChurnCpuPercent: agent.churn.cpuPercent,
    agentChurnUpdates: agent.churn.updates,
    controllerRssMiB: controller.rssMiB,
    controllerChildren: controller.children,
    controllerIdleCpuPercent: controller.idle.cpuPercent,
  };
  const md = [
    '# footprint: agent and controller',
    '',
    `Produced by \`node dist/bench/footprint.js\` (\`make bench-footprint\`; env FOOTPRINT_UNITS=${UNITS} FOOTPRINT_IDLE_S=${IDLE_S} FOOTPRINT_CHURN_S=${CHURN_S} FOOTPRINT_WORKLOADS=${WORKLOADS} FOOTPRINT_NODES=${NODES}). Method in the header of bench/footprint.ts.`,
    'RSS = VmRSS from /proc/<pid>/status sampled every second; CPU = utime+stime over the window, % of one core.',
    '',
    ...mdTable(
      ['process, state', 'window (s)', 'RSS median (MiB)', 'RSS max (MiB)', 'CPU %'],
      [
        [`agent, idle, ${UNITS} units`, agent.idle.seconds, agent.idle.rssMedianMiB, agent.idle.rssMaxMiB, agent.idle.cpuPercent],
        [
          `agent, churn: ${agent.churn.updates} updates of all ${UNITS} units (${agent.churn.unitRestarts} unit restarts)`,
          agent.churn.seconds,
          agent.churn.rssMedianMiB,
          agent.churn.rssMaxMiB,
          agent.churn.cpuPercent,
        ],
        NODES > 0
          ? [
              `controller, ${controller.children} children, idle`,
              controller.idle.seconds,
              controller.idle.rssMedianMiB,
              controller.idle.rssMaxMiB,
              controller.idle.cpuPercent,
            ]
          : ['controller: not run (FOOTPRINT_NODES=0); idle.md has the controller at 10,010 children', '-', '-', '-', '-'],
      ],
    ),
    '',
    ...mdMachine(mm),
  ].join('\n');
  await writeResults('footprint', { machine: mm, method: 'see the header of bench/footprint.ts', summary, agent, controller }, md);
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
