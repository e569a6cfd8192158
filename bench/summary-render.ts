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
  'idle5000',
  'crash',
  'footprint',
  'agent-imports',
  'timers',
  'client-reuse',
  'create-cost',
  'make-test',
] as const;
export type Results = Partial<Record<(typeof BENCHMARKS)[number], J>>;

export function pick(o: J | undefined, ...keys: string[]): unknown {
  let v: unknown = o;
  for (const k of keys) v = v && typeof v === 'object' ? (v as J)[k] : undefined;
  return v ?? null;
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const len = (v: unknown): number => (Array.isArray(v) ? v.length : 0);

const FANOUT_KINDS = ['ours-qps20', 'daemonset-qps20', 'ours-unthrottled', 'daemonset-unthrottled'] as const;

/** One size of fanout.json (sizes.<n>), as summary.json gives it. */
function fanoutSize(fanout: J | undefined, n: string) {
  const s = (...k: string[]): unknown => pick(fanout, 'sizes', n, ...k);
  return {
    nodes: s('nodes'),
    apfEnabled: s('apfEnabled'),
    ratioEqualQps: s('ratioEqualQps'),
    readyRatioEqualQps: s('readyRatioEqualQps'),
    ratioUnthrottled: s('ratioUnthrottled'),
    readyRatioUnthrottled: s('readyRatioUnthrottled'),
    ...Object.fromEntries(
      FANOUT_KINDS.map((k) => [
        k,
        {
          createdSeconds: s(k, 'createdSeconds'),
          readySeconds: s(k, 'readySeconds'),
          apiserverCpuSeconds: s(k, 'apiserverCpuSeconds'),
          apiserverPeakRssMiB: s(k, 'apiserverPeakRssMiB'),
          samples: s(k, 'samples'),
        },
      ]),
    ),
  };
}

/** summary.json without its `machine` (the machine summary.ts runs on, given by the caller). */
export function summarize(r: Results, machine: unknown) {
  const {
    'node-apply': nodeApply,
    fanout,
    idle,
    idle5000,
    crash,
    footprint,
    timers,
    'client-reuse': clientReuse,
    'create-cost': createCost,
    'make-test': makeTest,
  } = r;
  const mt = (...k: string[]): unknown => pick(makeTest, 'summary', ...k);
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
    // Issue 18: APF on; ratio = ours / DaemonSet of the median seconds from the create to the N-th child (pod) seen,
    // at equal client limits (both 20 QPS, burst 30) and both unthrottled (bench/fanout.ts).
    fanout1000: fanoutSize(fanout, '1000'),
    fanout5000: fanoutSize(fanout, '5000'),
    idleWritesPerMinute: pick(idle, 'summary', 'writesPerMinute', 'workloadStatus'),
    idle: {
      nodes: pick(idle, 'summary', 'nodes'),
      workloads: pick(idle, 'summary', 'workloads'),
      minutes: pick(idle, 'summary', 'idleMinutes'),
      writesPerMinute: pick(idle, 'summary', 'writesPerMinute'),
      expected: pick(idle, 'summary', 'expected'),
      workloadObjectBytes: pick(idle, 'summary', 'workloadObjectBytes'),
    },
    idle5000: {
      nodes: pick(idle5000, 'summary', 'nodes'),
      simulatedNodes: pick(idle5000, 'summary', 'simulatedNodes'),
      workloads: pick(idle5000, 'summary', 'workloads'),
      children: pick(idle5000, 'summary', 'children'),
      minutes: pick(idle5000, 'summary', 'idleMinutes'),
      apfEnabled: pick(idle5000, 'summary', 'apfEnabled'),
      statusWritesPerMinute: pick(idle5000, 'summary', 'statusWritesPerMinute'),
      writesPerMinute: pick(idle5000, 'summary', 'writesPerMinute'),
      writtenObjects: pick(idle5000, 'summary', 'writtenObjects'),
      // Lease writes counted at the API server, and the renewals the simulated agents sent (nominal: nodes x 6).
      leaseWritesPerMinute: pick(idle5000, 'summary', 'writesPerMinute', 'leases'),
      leaseRenewalsPerMinute: pick(idle5000, 'summary', 'leaseRenewalsPerMinute'),
      heartbeatApiserverCpuMsPerRenewal: pick(idle5000, 'summary', 'heartbeat', 'apiserverCpuMsPerRenewal'),
      heartbeatApiserverCoresOn: pick(idle5000, 'summary', 'heartbeat', 'apiserverCoresOn'),
      heartbeatApiserverCoresPaused: pick(idle5000, 'summary', 'heartbeat', 'apiserverCoresPaused'),
      apiserverCoresIdle: pick(idle5000, 'summary', 'apiserverCoresIdle'),
      apiserverPeakRssMiBIdle: pick(idle5000, 'summary', 'apiserverPeakRssMiBIdle'),
      controllerRssMiB: pick(idle5000, 'summary', 'controllerRssMiB'),
      controllerPeakRssMiB: pick(idle5000, 'summary', 'controllerPeakRssMiB'),
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
    // `make test` warm (make-test.ts): its wall time only from a run of `make test` that passed.
    makeTestWallSeconds: mt('target') === 'test' && mt('exitCode') === 0 ? mt('wallSeconds') : null,
    makeTest: {
      target: mt('target'),
      jestWorkers: mt('jestWorkers'),
      wallSeconds: mt('wallSeconds'),
      exitCode: mt('exitCode'),
      tests: mt('tests'),
      failedTests: mt('failedTests'),
      heavyWallSeconds: mt('heavyWallSeconds'),
      heavyExitCode: mt('heavyExitCode'),
      heavyTests: mt('heavyTests'),
      heavyFailedTests: mt('heavyFailedTests'),
    },
    machine,
    machinePerBenchmark: Object.fromEntries(
      Object.entries({ nodeApply, fanout, createCost, idle, idle5000, crash, footprint, timers, clientReuse, makeTest }).map(([k, v]) => [
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

const KIND_TEXT: Record<(typeof FANOUT_KINDS)[number], string> = {
  'ours-qps20': 'ours at 20 QPS',
  'daemonset-qps20': 'DaemonSet at 20 QPS',
  'ours-unthrottled': 'ours unthrottled',
  'daemonset-unthrottled': 'DaemonSet unthrottled',
};

function fanoutFigures(f: J | undefined): Row[] {
  return Object.keys((pick(f, 'sizes') as J | null) ?? {}).flatMap((n) => {
    const s = (...k: string[]): number | null => num(pick(f, 'sizes', n, ...k));
    const samples = (k: string): number => s(k, 'samples') ?? 0;
    const at = `fanout.json sizes.${n}`;
    return [
      row(`fan-out: nodes`, s('nodes'), (x) => `${quote.count(x)} nodes`, `${at}.nodes`),
      ...FANOUT_KINDS.flatMap((k) => [
        row(
          `fan-out ${n}: ${KIND_TEXT[k]}, every child/pod created`,
          s(k, 'createdSeconds'),
          quote.seconds,
          `${at}.${k}.createdSeconds`,
          medianSamples([samples(k)]),
        ),
        row(
          `fan-out ${n}: ${KIND_TEXT[k]}, kube-apiserver CPU`,
          s(k, 'apiserverCpuSeconds'),
          (x) => `${quote.seconds(x).replace(' s', '')} CPU`,
          `${at}.${k}.apiserverCpuSeconds`,
          medianSamples([samples(k)]),
        ),
        row(
          `fan-out ${n}: ${KIND_TEXT[k]}, kube-apiserver peak RSS`,
          s(k, 'apiserverPeakRssMiB'),
          (x) => `${quote.whole(x)} MiB`,
          `${at}.${k}.apiserverPeakRssMiB`,
          medianSamples([samples(k)]),
        ),
      ]),
      row(
        `fan-out ${n}: ours/DaemonSet created, both 20 QPS`,
        s('ratioEqualQps'),
        quote.ratio,
        `${at}.ratioEqualQps`,
        medianSamples([samples('ours-qps20'), samples('daemonset-qps20')]),
      ),
      row(
        `fan-out ${n}: ours/DaemonSet created, both unthrottled`,
        s('ratioUnthrottled'),
        quote.ratio,
        `${at}.ratioUnthrottled`,
        medianSamples([samples('ours-unthrottled'), samples('daemonset-unthrottled')]),
      ),
    ];
  });
}

function idle5000Figures(i: J | undefined): Row[] {
  const s = (...k: string[]): number | null => num(pick(i, 'summary', ...k));
  const at = (k: string): string => `idle5000.json summary.${k}`;
  return [
    row('idle5000: simulated nodes', s('simulatedNodes'), (x) => `${quote.count(x)} simulated`, at('simulatedNodes')),
    row('idle5000: children', s('children'), (x) => `${quote.count(x)} children`, at('children')),
    row('idle5000: minutes idle', s('idleMinutes'), (x) => `${quote.whole(x)} minutes`, at('idleMinutes')),
    row(
      'idle5000: workload and child status writes a minute',
      s('statusWritesPerMinute'),
      (x) => `${x === 0 ? '0' : roundText(x, x < 10 ? 1 : 0)} writes`,
      at('statusWritesPerMinute'),
    ),
    row(
      'idle5000: lease writes a minute at the API server (heartbeats)',
      s('writesPerMinute', 'leases'),
      (x) => `${quote.count(Math.round(x))} lease`,
      at('writesPerMinute.leases'),
    ),
    row(
      'idle5000: heartbeat renewals a minute sent by the simulated agents',
      s('leaseRenewalsPerMinute'),
      (x) => `${quote.count(Math.round(x))} renewals`,
      at('leaseRenewalsPerMinute'),
    ),
    row(
      'idle5000: kube-apiserver cores, 20 s with the renewals on',
      s('heartbeat', 'apiserverCoresOn'),
      (x) => `${roundText(x, 2)} cores`,
      at('heartbeat.apiserverCoresOn'),
    ),
    row(
      'idle5000: kube-apiserver cores, 20 s with the renewals paused',
      s('heartbeat', 'apiserverCoresPaused'),
      (x) => `${roundText(x, 2)} cores`,
      at('heartbeat.apiserverCoresPaused'),
    ),
    row(
      'idle5000: controller peak RSS (VmHWM, fan-out included)',
      s('controllerPeakRssMiB'),
      (x) => `${quote.whole(x)} MiB`,
      at('controllerPeakRssMiB'),
    ),
    row(
      'idle5000: kube-apiserver CPU per renewal',
      s('heartbeat', 'apiserverCpuMsPerRenewal'),
      quote.ms,
      at('heartbeat.apiserverCpuMsPerRenewal'),
    ),
    row(
      'idle5000: kube-apiserver cores over the idle window',
      s('apiserverCoresIdle'),
      (x) => `${roundText(x, 2)} cores`,
      at('apiserverCoresIdle'),
    ),
    row('idle5000: controller RSS (one reading)', s('controllerRssMiB'), (x) => `${quote.whole(x)} MiB`, at('controllerRssMiB')),
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

/** `make test` (and `make test-heavy`) warm, from runs of them that passed (make-test.ts: one run each). */
function makeTestFigures(m: J | undefined): Row[] {
  const s = (k: string): unknown => pick(m, 'summary', k);
  const runs = [
    ['make test', 'exitCode', 'wallSeconds', 'tests'],
    ['make test-heavy', 'heavyExitCode', 'heavyWallSeconds', 'heavyTests'],
  ] as const;
  return runs.flatMap(([what, exitCode, wall, tests]) => {
    const passed = s('target') === 'test' && s(exitCode) === 0;
    return [
      row(`${what}, warm: wall time`, passed ? num(s(wall)) : null, quote.seconds, `make-test.json summary.${wall}`),
      row(`${what}, warm: tests`, passed ? num(s(tests)) : null, (x) => `${quote.count(x)} tests`, `make-test.json summary.${tests}`),
    ];
  });
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
    ...idle5000Figures(r.idle5000),
    ...footprintFigures(r.footprint),
    ...agentImportFigures(r['agent-imports']),
    ...timerFigures(r.timers),
    ...makeTestFigures(r['make-test']),
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
        ...(['fanout1000', 'fanout5000'] as const).flatMap((k) => [
          [
            `fan-out to ${String(s[k].nodes)} nodes (APF on: ${String(s[k].apfEnabled)}), ours/DaemonSet created, both 20 QPS burst 30`,
            String(s[k].ratioEqualQps),
            '<= 1.0',
          ],
          [`fan-out to ${String(s[k].nodes)} nodes, ours/DaemonSet ready, both 20 QPS burst 30`, String(s[k].readyRatioEqualQps), '-'],
          [
            `fan-out to ${String(s[k].nodes)} nodes, ours/DaemonSet created, both unthrottled`,
            String(s[k].ratioUnthrottled),
            '- (what bounds each: NOTES.md)',
          ],
        ]),
        [
          'kube-apiserver CPU per create, SystemdUnitSet/Pod',
          String(pick(r['create-cost'], 'summary', 'apiserverCpuRatio')),
          '- (what bounds the line above)',
        ],
        ['idle workload status writes/min', String(s.idleWritesPerMinute), '0 for unchanged state'],
        [
          `idle at ${String(s.idle5000.simulatedNodes)} simulated nodes x ${String(s.idle5000.workloads)} workloads: workload + child status writes/min`,
          String(s.idle5000.statusWritesPerMinute),
          '0 for unchanged state',
        ],
        ['crash-to-status p50 / p99, s', `${String(s.crashToStatus.p50Seconds)} / ${String(s.crashToStatus.p99Seconds)}`, 'p99 < 2'],
        ['agent RSS idle, 50 units, MiB', String(s.agentRssMiB), '<= 80'],
        ['agent RSS peak under 300 unit restarts a minute, MiB', String(s.agentRssChurnMiB), '<= 120'],
        [`controller RSS at ${String(s.controllerRssChildren)} children (target size 10,000), MiB`, String(s.controllerRssMiB), '<= 150'],
        ['controller CPU per child in the fan-out of idle.ts, ms', String(s.controllerReconcileCpuMsPerChild), '-'],
        ['timers: latest start of a minute / floor (starting as many units at once)', String(s.timerLateness.ratioToFloor), '<= 1.1'],
        ['timer lateness p50 / p99, s', `${String(s.timerLateness.p50Seconds)} / ${String(s.timerLateness.p99Seconds)}`, '-'],
        [
          `make test, warm, JEST_WORKERS=${String(s.makeTest.jestWorkers)}: wall time, s (a run that passed)`,
          String(s.makeTestWallSeconds),
          '<= 600',
        ],
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
