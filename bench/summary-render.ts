// The pure part of bench/summary.ts: from every benchmark's bench/results/<name>.json to the
// figures of summary.json and the text of summary.md. summary.md ends with the figures as
// README.md's Performance section quotes them, rounded here and nowhere else;
// test/unit/bench/readme-figures.test.ts renders summary.md again from the committed json files
// and holds the README to that table.
import { mdTable } from './md.js';

export type J = Record<string, unknown>;

/** The benchmarks summary.ts reads, by the name of their result file. */
export const BENCHMARKS = [
  'node-apply',
  'fanout',
  'idle',
  'crash',
  'footprint',
  'agent-imports',
  'timers',
  'client-reuse',
  'create-cost',
] as const;
export type Results = Partial<Record<(typeof BENCHMARKS)[number], J>>;

export function pick(o: J | undefined, ...keys: string[]): unknown {
  let v: unknown = o;
  for (const k of keys) v = v && typeof v === 'object' ? (v as J)[k] : undefined;
  return v ?? null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

/** summary.json without its `machine` (the machine summary.ts runs on, given by the caller). */
export function summarize(r: Results, machine: unknown) {
  const { 'node-apply': nodeApply, fanout, idle, crash, footprint, timers, 'client-reuse': clientReuse, 'create-cost': createCost } = r;
  return {
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
    // The peak RSS under 300 unit restarts a minute (median over samples; footprint.ts).
    agentRssChurnMiB: pick(footprint, 'summary', 'agentRssChurnMiB'),
    // footprint.ts's controller part when run (FOOTPRINT_NODES > 0), else the controller of idle.ts
    // (10 workloads x 1000 simulated nodes + 1 real: 10,010 children), so `make bench` builds that fleet once.
    controllerRssMiB: pick(footprint, 'summary', 'controllerRssMiB') ?? pick(idle, 'summary', 'controllerRssMiB'),
    controllerRssSource: pick(footprint, 'summary', 'controllerRssMiB') !== null ? 'footprint' : 'idle',
    controllerRssChildren:
      pick(footprint, 'summary', 'controllerRssMiB') !== null
        ? pick(footprint, 'summary', 'controllerChildren')
        : pick(idle, 'summary', 'children'),
    // idle.ts's fan-out (10 workloads to 1,001 nodes): the controller's CPU from the first workload created to all ready, per child.
    controllerReconcileCpuMsPerChild: pick(idle, 'summary', 'controllerReconcileCpuMsPerChild'),
    footprint: pick(footprint, 'summary'),
    // The latest start of a minute against the floor for starting as many units at once (timers.ts): the median of the minutes' ratios.
    timerLateness: {
      ratioToFloor: pick(timers, 'summary', 'ratioToFloor'),
      latestSeconds: pick(timers, 'summary', 'latestMedianSeconds'),
      floorSeconds: pick(timers, 'summary', 'floorMedianSeconds'),
      samples: pick(timers, 'summary', 'samples'),
      maxSeconds: pick(timers, 'summary', 'maxSeconds'),
      p50Seconds: pick(timers, 'summary', 'p50Seconds'),
      p99Seconds: pick(timers, 'summary', 'p99Seconds'),
      triggers: pick(timers, 'summary', 'triggers'),
      missed: pick(timers, 'summary', 'missed'),
    },
    machine,
    machinePerBenchmark: Object.fromEntries(
      Object.entries({ nodeApply, fanout, createCost, idle, crash, footprint, timers, clientReuse }).map(([k, v]) => [
        k,
        pick(v, 'machine'),
      ]),
    ),
  };
}

// ---- Figures as README.md quotes them ----

/** x rounded half up on its decimal digits (1.075 -> 1.08, as read), as text with d decimals. */
export function roundText(x: number, d: number): string {
  return (Math.round(Number(`${x}e${d}`)) / 10 ** d).toFixed(d);
}

/** The rounding of every quoted figure (said in summary.md above the table). */
export const quote = {
  ratio: (x: number): string => `${roundText(x, x < 10 ? 2 : 1)}x`,
  seconds: (x: number): string => `${roundText(x, x < 1 ? 2 : 1)} s`,
  ms: (x: number): string => `${roundText(x, x < 1 ? 2 : 1)} ms`,
  whole: (x: number): string => roundText(x, 0),
  count: (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ','),
  kb: (bytes: number): string => `${roundText(bytes / 1000, 1)} KB`,
};

/**
 * The samples behind a median (or a ratio of medians, one count per side): "median of 2",
 * "medians of 5", "medians of 3 and 5", "one sample each".
 */
export function medianSamples(counts: number[]): string {
  if (counts.every((c) => c === 1)) return counts.length > 1 ? 'one sample each' : 'one sample';
  if (counts.length === 1) return `median of ${counts[0]!}`;
  return `medians of ${[...new Set(counts)].sort((a, b) => a - b).join(' and ')}`;
}

export interface QuotedFigure {
  /** What it measures. */
  figure: string;
  /** The figure as README.md writes it: number with its unit or suffix, rounded as `quote` does. */
  quoted: string;
  /** Where it comes from: file, field, the value there. */
  exact: string;
  /** The samples behind it, as README.md says them beside the figure; '-' where it is not a median. */
  samples: string;
}

type Row = QuotedFigure | null;
const row = (figure: string, v: number | null, q: (x: number) => string, exact: string, samples = '-'): Row =>
  v === null ? null : { figure, quoted: q(v), exact: `${exact} = ${v}`, samples };

function nodeApplyFigures(na: J | undefined): Row[] {
  const out: Row[] = [];
  for (const [n, s] of Object.entries((pick(na, 'summary') as J | null) ?? {})) {
    const runs = (k: string): number => len(pick(na, 'runs', n, k));
    const at = `node-apply.json summary.${n}`;
    out.push(
      row('node apply: units onto one node', Number(n), (x) => `${quote.count(x)} units`, `${at} (its size)`),
      row(
        `node apply ${n} units: agent/floor`,
        num(pick(s as J, 'agentOverFloor')),
        quote.ratio,
        `${at}.agentOverFloor`,
        medianSamples([runs('floor'), runs('agent')]),
      ),
      ...(['agent', 'floor'] as const).map((side) =>
        row(
          `node apply ${n} units: ${side}`,
          num(pick(s as J, `${side}MedianS`)),
          quote.seconds,
          `${at}.${side}MedianS`,
          medianSamples([runs(side)]),
        ),
      ),
    );
  }
  return out;
}

function fanoutFigures(f: J | undefined): Row[] {
  const runs = (kind: string): number => len((pick(f, 'runs') as J[] | null)?.filter((r) => r.kind === kind));
  const [ours, ds, dsq] = [runs('ours'), runs('daemonset'), runs('daemonset-qps1000')];
  const s = (k: string): number | null => num(pick(f, 'summary', k));
  return [
    row('fan-out: nodes', s('nodes'), (x) => `${quote.count(x)} nodes`, 'fanout.json summary.nodes'),
    row(
      'fan-out: ours, every node ready',
      s('oursReadySeconds'),
      quote.seconds,
      'fanout.json summary.oursReadySeconds',
      medianSamples([ours]),
    ),
    row(
      'fan-out: DaemonSet (--kube-api-qps=20), every node ready',
      s('daemonSetReadySeconds'),
      quote.seconds,
      'fanout.json summary.daemonSetReadySeconds',
      medianSamples([ds]),
    ),
    row(
      'fan-out: DaemonSet at --kube-api-qps=1000, every node ready',
      s('daemonSetQps1000ReadySeconds'),
      quote.seconds,
      'fanout.json summary.daemonSetQps1000ReadySeconds',
      medianSamples([dsq]),
    ),
    row(
      'fan-out: ours/DaemonSet, ready',
      s('ratioToDaemonSet'),
      quote.ratio,
      'fanout.json summary.ratioToDaemonSet',
      medianSamples([ours, ds]),
    ),
    row(
      'fan-out: ours/DaemonSet at --kube-api-qps=1000, ready',
      s('ratioToDaemonSetQps1000'),
      quote.ratio,
      'fanout.json summary.ratioToDaemonSetQps1000',
      medianSamples([ours, dsq]),
    ),
  ];
}

function createCostFigures(c: J | undefined): Row[] {
  const rounds = (kind: string): number => len((pick(c, 'rounds') as J[] | null)?.filter((r) => r.kind === kind));
  return [
    row(
      'kube-apiserver CPU per create, SystemdUnitSet/Pod',
      num(pick(c, 'summary', 'apiserverCpuRatio')),
      quote.ratio,
      'create-cost.json summary.apiserverCpuRatio',
      medianSamples([rounds('unitset'), rounds('pod')]),
    ),
  ];
}

/** p50 and p99 (summary.p50Seconds, summary.p99Seconds of a result file) over their samples. */
function percentiles(what: string, file: string, o: J | undefined, samples: string): Row[] {
  return (['p50', 'p99'] as const).map((p) =>
    row(`${what} ${p}`, num(pick(o, 'summary', `${p}Seconds`)), (x) => `${p} ${quote.seconds(x)}`, `${file} summary.${p}Seconds`, samples),
  );
}

function crashFigures(c: J | undefined): Row[] {
  const kills = num(pick(c, 'summary', 'kills'));
  const samples = kills === null ? '-' : `${quote.count(kills)} kills`;
  return [
    row('crash-to-status: kills', kills, (x) => `${quote.count(x)} kills`, 'crash.json summary.kills'),
    ...percentiles('crash-to-status', 'crash.json', c, samples),
  ];
}

function idleFigures(i: J | undefined, s: ReturnType<typeof summarize>): Row[] {
  const sizes = Object.entries((pick(i, 'summary', 'workloadObjectBytes') as J | null) ?? {});
  const src = `${s.controllerRssSource}.json summary`;
  return [
    row('idle: nodes', num(pick(i, 'summary', 'nodes')), (x) => `${quote.count(x)} nodes`, 'idle.json summary.nodes'),
    row('idle: workloads', num(pick(i, 'summary', 'workloads')), (x) => `${quote.count(x)} workloads`, 'idle.json summary.workloads'),
    row('idle: minutes idle', num(pick(i, 'summary', 'idleMinutes')), (x) => `${quote.whole(x)} minutes`, 'idle.json summary.idleMinutes'),
    ...sizes.flatMap(([nodes, bytes]) => [
      row(
        'idle: nodes a workload selects (object size)',
        Number(nodes),
        (x) => `${quote.count(x)} nodes`,
        `idle.json summary.workloadObjectBytes.${nodes} (its key)`,
      ),
      row(`idle: workload object at ${nodes} nodes`, num(bytes), quote.kb, `idle.json summary.workloadObjectBytes.${nodes}`),
    ]),
    row(
      'controller: children held',
      num(s.controllerRssChildren),
      (x) => `${quote.count(x)} children`,
      `${src}.${s.controllerRssSource === 'idle' ? 'children' : 'controllerChildren'}`,
    ),
    row(
      'controller RSS at those children (one reading)',
      num(s.controllerRssMiB),
      (x) => `${quote.whole(x)} MiB`,
      `${src}.controllerRssMiB`,
    ),
    row(
      'controller CPU per child, fan-out of idle.ts (first workload created to all ready)',
      num(pick(i, 'summary', 'controllerReconcileCpuMsPerChild')),
      quote.ms,
      'idle.json summary.controllerReconcileCpuMsPerChild',
    ),
  ];
}

function footprintFigures(f: J | undefined): Row[] {
  const s = (k: string): number | null => num(pick(f, 'summary', k));
  const n = s('agentSamples');
  const samples = n === null ? '-' : medianSamples([n]);
  const at = (k: string): string => `footprint.json summary.${k}`;
  return [
    row('agent footprint: units', s('agentUnits'), (x) => `${quote.count(x)} units`, at('agentUnits')),
    row('agent RSS idle', s('agentRssMiB'), (x) => `${quote.whole(x)} MiB`, at('agentRssMiB'), samples),
    row('agent CPU idle, % of a core', s('agentIdleCpuPercent'), (x) => `${quote.whole(x)}%`, at('agentIdleCpuPercent'), samples),
    row(
      'agent churn: unit restarts a minute',
      s('agentChurnRestartsPerMinute'),
      (x) => `${quote.whole(x)} restarts`,
      at('agentChurnRestartsPerMinute'),
      samples,
    ),
    row('agent RSS peak under churn', s('agentRssChurnMiB'), (x) => `${quote.whole(x)} MiB`, at('agentRssChurnMiB'), samples),
  ];
}

/** What loading each candidate Kubernetes client costs the agent (bench/agent-imports.ts). */
function agentImportFigures(a: J | undefined): Row[] {
  return ((pick(a, 'rows') as J[] | null) ?? []).map((r) =>
    row(
      `RSS after loading: ${String(r.name)}`,
      num(r.rssMiB),
      (x) => `${quote.whole(x)} MiB`,
      `agent-imports.json rows[name=${String(r.name)}].rssMiB`,
      num(r.samples) === null ? '-' : medianSamples([num(r.samples)!]),
    ),
  );
}

function timerFigures(t: J | undefined): Row[] {
  const s = (k: string): number | null => num(pick(t, 'summary', k));
  const [triggers, expected] = [s('triggers'), s('expectedTriggers')];
  const of = triggers === null || expected === null ? null : `${quote.count(triggers)} of ${quote.count(expected)}`;
  const minutes = len(pick(t, 'runs'));
  const floorSamples = s('floorSamples') ?? 0;
  return [
    row('timers: units, every minute', s('units'), (x) => `${quote.count(x)} timers`, 'timers.json summary.units'),
    of === null
      ? null
      : {
          figure: 'timers: starts of those expected',
          quoted: of,
          exact: `timers.json summary.triggers = ${triggers}, expectedTriggers = ${expected}`,
          samples: '-',
        },
    ...percentiles('timer lateness', 'timers.json', t, of ?? '-'),
    row('timer lateness max', s('maxSeconds'), quote.seconds, 'timers.json summary.maxSeconds', of ?? '-'),
    row(
      'timers: latest start of a minute / floor',
      s('ratioToFloor'),
      quote.ratio,
      'timers.json summary.ratioToFloor',
      medianSamples([floorSamples]),
    ),
    row(
      'timers: latest start of a minute (its lateness)',
      s('latestMedianSeconds'),
      quote.seconds,
      'timers.json summary.latestMedianSeconds',
      medianSamples([minutes]),
    ),
    row(
      'timers floor: as many units started at once, first call to last start',
      s('floorMedianSeconds'),
      quote.seconds,
      'timers.json summary.floorMedianSeconds',
      medianSamples([floorSamples]),
    ),
  ];
}

/** Every figure README.md may quote, rounded, with its source and samples. */
export function quotedFigures(r: Results): QuotedFigure[] {
  const nprocs = new Set(Object.values(r).map((v) => num(pick(v, 'machine', 'nproc'))));
  const [nproc] = [...nprocs];
  return [
    nprocs.size === 1
      ? row('machine: cores (the same for every benchmark)', nproc ?? null, (x) => `${x}-core`, 'every <name>.json machine.nproc')
      : null,
    ...nodeApplyFigures(r['node-apply']),
    ...fanoutFigures(r.fanout),
    ...createCostFigures(r['create-cost']),
    ...crashFigures(r.crash),
    ...idleFigures(r.idle, summarize(r, null)),
    ...footprintFigures(r.footprint),
    ...agentImportFigures(r['agent-imports']),
    ...timerFigures(r.timers),
  ].filter((x): x is QuotedFigure => x !== null);
}

/** summary.md. */
export function renderSummaryMd(r: Results): string {
  const s = summarize(r, null);
  return [
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
          String(pick(r['create-cost'], 'summary', 'apiserverCpuRatio')),
          '- (what bounds the line above)',
        ],
        ['idle workload status writes/min', String(s.idleWritesPerMinute), '0 for unchanged state'],
        ['crash-to-status p50 / p99, s', `${String(s.crashToStatus.p50Seconds)} / ${String(s.crashToStatus.p99Seconds)}`, 'p99 < 2'],
        ['agent RSS idle, 50 units, MiB', String(s.agentRssMiB), '<= 80'],
        ['agent RSS peak under 300 unit restarts a minute, MiB', String(s.agentRssChurnMiB), '<= 120'],
        [`controller RSS at ${String(s.controllerRssChildren)} children (target size 10,000), MiB`, String(s.controllerRssMiB), '<= 150'],
        ['controller CPU per child in the fan-out of idle.ts, ms', String(s.controllerReconcileCpuMsPerChild), '-'],
        ['timers: latest start of a minute / floor (starting as many units at once)', String(s.timerLateness.ratioToFloor), '<= 1.1'],
        ['timer lateness p50 / p99, s', `${String(s.timerLateness.p50Seconds)} / ${String(s.timerLateness.p99Seconds)}`, '-'],
      ],
    ),
    '',
    '## Figures as README.md quotes them',
    '',
    "README.md's Performance section quotes only the `quoted` column, rounded here (bench/summary-render.ts) from the json files: a ratio (x) to 2 decimals below 10, else 1; seconds (and ms) to 2 decimals below 1, else 1; MiB, % and minutes to whole numbers; KB = 1,000 B, to 1 decimal; counts with thousands separators. Where a row names its samples, the README says them beside the figure. test/unit/bench/readme-figures.test.ts checks both, and that this file is what summary.ts renders from the json files.",
    '',
    ...mdTable(
      ['figure', 'quoted', 'exact (file, field)', 'samples'],
      quotedFigures(r).map((q) => [q.figure, q.quoted, q.exact, q.samples]),
    ),
    '',
  ].join('\n');
}
