// Collects the figures of every benchmark's bench/results/<name>.json into
// bench/results/summary.json (and summary.md). A benchmark not run yet gives null.
//
// Usage: node dist/bench/summary.js   (the last step of `make bench`)
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { machine, mdTable, resultsDir } from './common.js';

type J = Record<string, unknown>;

async function load(name: string): Promise<J | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(resultsDir, `${name}.json`), 'utf8')) as J;
  } catch {
    return undefined;
  }
}

function pick(o: J | undefined, ...keys: string[]): unknown {
  let v: unknown = o;
  for (const k of keys) v = v && typeof v === 'object' ? (v as J)[k] : undefined;
  return v ?? null;
}

async function main(): Promise<void> {
  const [nodeApply, fanout, idle, crash, footprint, timers, clientReuse, createCost] = await Promise.all(
    ['node-apply', 'fanout', 'idle', 'crash', 'footprint', 'timers', 'client-reuse', 'create-cost'].map(load),
  );
  const summary = {
    nodeApply200: {
      ratioToFloor: pick(nodeApply, 'summary', '200', 'agentOverFloor'),
      agentSeconds: pick(nodeApply, 'summary', '200', 'agentMedianS'),
      floorSeconds: pick(nodeApply, 'summary', '200', 'floorMedianS'),
    },
    nodeApply1000: {
      ratioToFloor: pick(nodeApply, 'summary', '1000', 'agentOverFloor'),
      agentSeconds: pick(nodeApply, 'summary', '1000', 'agentMedianS'),
      floorSeconds: pick(nodeApply, 'summary', '1000', 'floorMedianS'),
    },
    fanout1000: {
      nodes: pick(fanout, 'summary', 'nodes'),
      seconds: pick(fanout, 'summary', 'oursReadySeconds'),
      ratioToDaemonSet: pick(fanout, 'summary', 'ratioToDaemonSet'),
      daemonSetSeconds: pick(fanout, 'summary', 'daemonSetReadySeconds'),
      childrenCreatedSeconds: pick(fanout, 'summary', 'oursChildrenCreatedSeconds'),
      daemonSetPodsCreatedSeconds: pick(fanout, 'summary', 'daemonSetPodsCreatedSeconds'),
      createdRatioToDaemonSet: pick(fanout, 'summary', 'createdRatioToDaemonSet'),
      // The DaemonSet controller with its client rate limit raised (--kube-api-qps=1000): its own speed.
      daemonSetQps1000Seconds: pick(fanout, 'summary', 'daemonSetQps1000ReadySeconds'),
      ratioToDaemonSetQps1000: pick(fanout, 'summary', 'ratioToDaemonSetQps1000'),
      createdRatioToDaemonSetQps1000: pick(fanout, 'summary', 'createdRatioToDaemonSetQps1000'),
    },
    idleWritesPerMinute: pick(idle, 'summary', 'writesPerMinute', 'workloadStatus'),
    idle: {
      nodes: pick(idle, 'summary', 'nodes'),
      workloads: pick(idle, 'summary', 'workloads'),
      minutes: pick(idle, 'summary', 'idleMinutes'),
      writesPerMinute: pick(idle, 'summary', 'writesPerMinute'),
      expected: pick(idle, 'summary', 'expected'),
      workloadObjectBytes: pick(idle, 'summary', 'workloadObjectBytes'),
    },
    crashToStatus: {
      p50Seconds: pick(crash, 'summary', 'p50Seconds'),
      p99Seconds: pick(crash, 'summary', 'p99Seconds'),
      kills: pick(crash, 'summary', 'kills'),
    },
    clientReuse: pick(clientReuse, 'summary'),
    // What bounds fan-out against the DaemonSet controller: the API server's CPU per create.
    createCost: pick(createCost, 'summary'),
    agentRssMiB: pick(footprint, 'summary', 'agentRssMiB'),
    // footprint.ts's controller part when run (FOOTPRINT_NODES > 0), else the controller of idle.ts
    // (10 workloads x 1000 simulated nodes + 1 real: 10,010 children), so `make bench` builds that fleet once.
    controllerRssMiB: pick(footprint, 'summary', 'controllerRssMiB') ?? pick(idle, 'summary', 'controllerRssMiB'),
    controllerRssSource: pick(footprint, 'summary', 'controllerRssMiB') !== null ? 'footprint' : 'idle',
    controllerRssChildren:
      pick(footprint, 'summary', 'controllerRssMiB') !== null
        ? pick(footprint, 'summary', 'controllerChildren')
        : pick(idle, 'summary', 'children'),
    footprint: pick(footprint, 'summary'),
    timerLateness: {
      p50Seconds: pick(timers, 'summary', 'p50Seconds'),
      p99Seconds: pick(timers, 'summary', 'p99Seconds'),
      triggers: pick(timers, 'summary', 'triggers'),
      missed: pick(timers, 'summary', 'missed'),
    },
    machine: machine(
      (pick(crash, 'machine', 'systemd') as string | undefined) ?? (pick(nodeApply, 'machine', 'systemd') as string | undefined),
    ),
    machinePerBenchmark: Object.fromEntries(
      Object.entries({ nodeApply, fanout, createCost, idle, crash, footprint, timers, clientReuse }).map(([k, v]) => [
        k,
        pick(v, 'machine'),
      ]),
    ),
  };
  await fs.writeFile(path.join(resultsDir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const s = summary;
  const md = [
    '# Benchmark summary (issue 8)',
    '',
    "Produced by `make bench` (last step: `node dist/bench/summary.js`, which reads bench/results/*.json). Each row's own table and command: bench/results/<name>.md; the start time of each benchmark is in summary.json (machinePerBenchmark).",
    '',
    ...mdTable(
      ['figure', 'value', 'target'],
      [
        ['node apply 200 units, agent/floor', String(s.nodeApply200.ratioToFloor), '<= 1.15'],
        ['node apply 1000 units, agent/floor', String(s.nodeApply1000.ratioToFloor), '<= 1.15'],
        [`fan-out to ${String(s.fanout1000.nodes)} nodes, s (ours ready)`, String(s.fanout1000.seconds), '-'],
        ['fan-out ours/DaemonSet (ready vs ready)', String(s.fanout1000.ratioToDaemonSet), '<= 1'],
        ['fan-out ours/DaemonSet (children vs pods created)', String(s.fanout1000.createdRatioToDaemonSet), '<= 1'],
        [
          'fan-out ours/DaemonSet at --kube-api-qps=1000 (ready vs ready)',
          String(s.fanout1000.ratioToDaemonSetQps1000),
          '- (not a stock setting)',
        ],
        [
          'fan-out ours/DaemonSet at --kube-api-qps=1000 (children vs pods created)',
          String(s.fanout1000.createdRatioToDaemonSetQps1000),
          '-',
        ],
        [
          'kube-apiserver CPU per create, SystemdUnitSet/Pod',
          String(pick(createCost, 'summary', 'apiserverCpuRatio')),
          '- (what bounds the line above)',
        ],
        ['idle workload status writes/min', String(s.idleWritesPerMinute), '0 for unchanged state'],
        ['crash-to-status p50 / p99, s', `${String(s.crashToStatus.p50Seconds)} / ${String(s.crashToStatus.p99Seconds)}`, 'p99 < 2'],
        ['agent RSS idle, MiB', String(s.agentRssMiB), '-'],
        [`controller RSS at ${String(s.controllerRssChildren)} children (target size 10,000), MiB`, String(s.controllerRssMiB), '-'],
        ['timer lateness p50 / p99, s', `${String(s.timerLateness.p50Seconds)} / ${String(s.timerLateness.p99Seconds)}`, '-'],
      ],
    ),
    '',
  ].join('\n');
  await fs.writeFile(path.join(resultsDir, 'summary.md'), md);
  console.log(JSON.stringify(summary, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
