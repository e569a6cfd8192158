// Benchmark (issue 8 #5, issue 18 #1): footprint, from /proc/<pid>/status VmRSS and
// /proc/<pid>/stat utime+stime.
//  agent: a real sandbox node, the real agent at its production cadences (usage 30 s,
//    heartbeat 10 s, resync 60 s), with Node's flags as the DaemonSet runs it (the
//    `command:` of config/manager/agent.yaml), and our controller; FOOTPRINT_UNITS
//    units in workloads of 25 units. FOOTPRINT_SAMPLES samples, each a fresh agent
//    process on the same node:
//    Idle: the agent started, every workload updated and ready, FOOTPRINT_SETTLE_S
//      more seconds, then FOOTPRINT_IDLE_S seconds with nothing changing: the
//      median of per-second RSS readings.
//    Churn at FOOTPRINT_RESTARTS_PER_MIN unit restarts a minute: every
//      (60 * 25 / rate) seconds one workload (round robin) gets a new command (new
//      hash: the agent rewrites its 25 files, reloads, restarts the 25 units), for
//      FOOTPRINT_CHURN_S seconds, then waited for until all are updated and ready:
//      the max of per-second RSS readings (a memory limit must hold the peak).
//    Reported: the median over samples of each (and every sample).
//  controller: FOOTPRINT_WORKLOADS x FOOTPRINT_NODES children (simulated agents, see
//    test/harness/simAgents.ts), RSS after all are ready and FOOTPRINT_SETTLE_S.
//
// Usage: node dist/bench/footprint.js
//   (env: FOOTPRINT_UNITS=50 FOOTPRINT_SAMPLES=3 FOOTPRINT_IDLE_S=60 FOOTPRINT_CHURN_S=60
//    FOOTPRINT_RESTARTS_PER_MIN=300 FOOTPRINT_WORKLOADS=10 FOOTPRINT_NODES=0 FOOTPRINT_SETTLE_S=30;
//    FOOTPRINT_NODE_FLAGS='--flag ...' replaces the DaemonSet's Node flags and then writes no results)
import * as k8s from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
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
const SAMPLES = env('FOOTPRINT_SAMPLES', 3);
const RESTARTS_PER_MIN = env('FOOTPRINT_RESTARTS_PER_MIN', 300);
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

/** Node's flags as the DaemonSet runs the agent: `command: ["node", <flags>..., "dist/src/agent/main.js"]`. */
function daemonSetNodeFlags(): string[] {
  if (process.env.FOOTPRINT_NODE_FLAGS !== undefined) return process.env.FOOTPRINT_NODE_FLAGS.split(/\s+/).filter(Boolean);
  const yaml = readFileSync(new URL('../../config/manager/agent.yaml', import.meta.url), 'utf8');
  const command = /command: \[(.*)\]/.exec(yaml)?.[1];
  if (!command) throw new Error('config/manager/agent.yaml: no `command: [...]` line for the agent');
  const words = command.split(',').map((w) => w.trim().replace(/^"|"$/g, ''));
  return words.slice(1, -1);
}

/** The agent's V8 heap from its own /metrics (prom-client's default metrics), MiB: what of RSS is JS heap. */
async function heapMiB(agent: OperatorProcess): Promise<{ heapUsedMiB: number; heapTotalMiB: number }> {
  const MiB = 1024 * 1024;
  return {
    heapUsedMiB: r3(((await agent.metric('nodejs_heap_size_used_bytes')) ?? NaN) / MiB),
    heapTotalMiB: r3(((await agent.metric('nodejs_heap_size_total_bytes')) ?? NaN) / MiB),
  };
}

interface AgentSample {
  idle: Window & { heapUsedMiB: number; heapTotalMiB: number };
  churn: Window & { updates: number; unitRestarts: number; restartsPerMinute: number };
}

async function agentPart(nodeFlags: string[]): Promise<{ samples: AgentSample[]; systemd: string }> {
  ensureNodeScript();
  const cluster = await Cluster.start({ nodes: [{ name: NODE }] });
  let controller: OperatorProcess | undefined;
  let agent: OperatorProcess | undefined;
  try {
    const node = cluster.node(NODE);
    const systemd = await systemdVersionOf((...a) => node.busctl(...a));
    controller = await startController(cluster, { extraArgs: PRODUCTION_LEASE });
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
    const mp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
    let round = 0;
    const update = async (name: string): Promise<number> => {
      const w = await getWorkload(cluster, name);
      round++;
      await api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          namespace: NS,
          plural: WORKLOAD_PLURAL,
          name,
          body: { spec: { units: w.spec.units.map((u) => ({ ...u, command: ['/bin/sleep', String(1_000_000 + round)] })) } },
        },
        mp,
      );
      return w.spec.units.length;
    };
    const samples: AgentSample[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      agent = await startAgent(cluster, NODE, {
        usagePeriodSeconds: 30,
        heartbeatPeriodSeconds: 10,
        resyncPeriodSeconds: 60,
        nodeArgs: nodeFlags,
      });
      await settled();
      await sleep(SETTLE_S * 1000);
      const idle = { ...(await sampleWhile(agent.pid!, () => sleep(IDLE_S * 1000))), ...(await heapMiB(agent)) };
      // One workload of PER_WORKLOAD units every `everyMs`: RESTARTS_PER_MIN unit restarts a minute.
      const everyMs = (60_000 * PER_WORKLOAD) / RESTARTS_PER_MIN;
      let updates = 0;
      let unitRestarts = 0;
      const churn = await sampleWhile(agent.pid!, async () => {
        const start = Date.now();
        while (Date.now() - start < CHURN_S * 1000) {
          unitRestarts += await update(names[updates % names.length]!);
          updates++;
          await sleep(Math.max(0, start + updates * everyMs - Date.now()));
        }
        await settled();
      });
      samples.push({ idle, churn: { ...churn, updates, unitRestarts, restartsPerMinute: r3((unitRestarts / churn.seconds) * 60) } });
      console.log(`sample ${i + 1}/${SAMPLES}`, JSON.stringify(samples.at(-1)));
      await agent.stop();
      agent = undefined;
    }
    return { samples, systemd };
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
  const nodeFlags = daemonSetNodeFlags();
  // A run with other flags than the DaemonSet's is an experiment: printed, not written as the result.
  const experiment = process.env.FOOTPRINT_NODE_FLAGS !== undefined;
  console.log(
    `footprint: agent ${UNITS} units x ${SAMPLES} samples (node ${nodeFlags.join(' ') || '(no flags)'}), controller ${WORKLOADS}x${NODES} children, load ${String(m.loadavgAtStart)}`,
  );
  const agent = await agentPart(nodeFlags);
  console.log('agent', JSON.stringify(agent));
  // FOOTPRINT_NODES=0 skips the controller part (idle.ts reports the controller at 10,010 children too).
  const controller =
    NODES > 0
      ? await controllerPart()
      : { children: 0, rssMiB: NaN, idle: { seconds: 0, rssMedianMiB: NaN, rssMaxMiB: NaN, cpuPercent: NaN }, setupSeconds: 0 };
  console.log('controller', JSON.stringify(controller));
  const mm = { ...m, systemd: agent.systemd };
  const med = (f: (s: AgentSample) => number): number => r3(median(agent.samples.map(f)));
  const summary = {
    agentNodeFlags: nodeFlags.join(' '),
    agentUnits: UNITS,
    agentSamples: agent.samples.length,
    agentRssMiB: med((s) => s.idle.rssMedianMiB),
    agentHeapUsedMiB: med((s) => s.idle.heapUsedMiB),
    agentHeapTotalMiB: med((s) => s.idle.heapTotalMiB),
    agentIdleCpuPercent: med((s) => s.idle.cpuPercent),
    agentRssChurnMiB: med((s) => s.churn.rssMaxMiB),
    agentRssChurnMaxOfSamplesMiB: r3(Math.max(...agent.samples.map((s) => s.churn.rssMaxMiB))),
    agentChurnRestartsPerMinute: med((s) => s.churn.restartsPerMinute),
    agentChurnCpuPercent: med((s) => s.churn.cpuPercent),
    controllerRssMiB: controller.rssMiB,
    controllerChildren: controller.children,
    controllerIdleCpuPercent: controller.idle.cpuPercent,
  };
  const env = `FOOTPRINT_UNITS=${UNITS} FOOTPRINT_SAMPLES=${SAMPLES} FOOTPRINT_SETTLE_S=${SETTLE_S} FOOTPRINT_IDLE_S=${IDLE_S} FOOTPRINT_CHURN_S=${CHURN_S} FOOTPRINT_RESTARTS_PER_MIN=${RESTARTS_PER_MIN} FOOTPRINT_WORKLOADS=${WORKLOADS} FOOTPRINT_NODES=${NODES}`;
  const md = [
    '# footprint: agent and controller',
    '',
    `Produced by \`node dist/bench/footprint.js\` (\`make bench-footprint\`; env ${env}). Method in the header of bench/footprint.ts.`,
    experiment
      ? `The agent ran as \`node ${nodeFlags.join(' ')} dist/src/agent/main.js\` (FOOTPRINT_NODE_FLAGS: an experiment, not the DaemonSet's flags).`
      : `The agent ran as the DaemonSet runs it: \`node ${nodeFlags.join(' ')} dist/src/agent/main.js\`.`,
    "RSS = VmRSS from /proc/<pid>/status sampled every second; heap = the agent's nodejs_heap_size_* metrics at the end of the idle window; CPU = utime+stime over the window, % of one core.",
    '',
    '## Summary (median of the samples)',
    '',
    ...mdTable(
      ['figure', 'value', 'target'],
      [
        [`agent RSS idle, ${UNITS} units, MiB (median of per-second readings)`, summary.agentRssMiB, '<= 80'],
        [
          `agent RSS peak under ${RESTARTS_PER_MIN} unit restarts a minute, MiB (max of per-second readings)`,
          summary.agentRssChurnMiB,
          '<= 120',
        ],
        ['agent RSS peak under churn, worst sample, MiB', summary.agentRssChurnMaxOfSamplesMiB, '-'],
        ['agent V8 heap idle, used / total, MiB', `${summary.agentHeapUsedMiB} / ${summary.agentHeapTotalMiB}`, '-'],
        ['agent CPU idle / churn, % of one core', `${summary.agentIdleCpuPercent} / ${summary.agentChurnCpuPercent}`, '-'],
        ['unit restarts a minute achieved', summary.agentChurnRestartsPerMinute, String(RESTARTS_PER_MIN)],
      ],
    ),
    '',
    '## Samples',
    '',
    ...mdTable(
      ['process, state', 'window (s)', 'RSS median (MiB)', 'RSS max (MiB)', 'CPU %'],
      [
        ...agent.samples.flatMap((s, i) => [
          [`agent #${i + 1}, idle, ${UNITS} units`, s.idle.seconds, s.idle.rssMedianMiB, s.idle.rssMaxMiB, s.idle.cpuPercent],
          [
            `agent #${i + 1}, churn: ${s.churn.updates} workload updates, ${s.churn.unitRestarts} unit restarts (${s.churn.restartsPerMinute}/min)`,
            s.churn.seconds,
            s.churn.rssMedianMiB,
            s.churn.rssMaxMiB,
            s.churn.cpuPercent,
          ],
        ]),
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
  if (experiment) console.log(md);
  else await writeResults('footprint', { machine: mm, method: 'see the header of bench/footprint.ts', summary, agent, controller }, md);
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
