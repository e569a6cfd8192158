// Benchmark (issue 8 #6, issue 18 #6): lateness of TIMER_UNITS same-minute timers on ONE real
// sandbox node, against the floor time for that systemd to start as many units at once, in the
// same run, on the same node.
//
// Timers: created through the agent (the agent process, production cadences): SystemdUnitSets
// created through the API, at most 32 units per child (LIMITS.units), so ceil(N/32) children,
// each unit the renderer's own files for {type: oneshot, command /bin/true, schedule "* * * * *"}:
// a .service plus a .timer with OnCalendar=*-*-* *:*:00 (a bounded form: no open-ended
// repetition, which systemd 252 would skip across the day's rollover), Persistent=true,
// AccuracySec=1s (src/render/unit.ts; the workload API has no field for it). The controller is
// not in the loop (it only renders). Then, in the same run, every child is replaced with its
// timers at AccuracySec=1us and TIMER_ACCURACY_MINUTES more minutes are measured the same way:
// what the rendered accuracy costs (timers.json fineAccuracy; not a summary figure).
//
// Floor: bench/timers-floor.py (python3-dbus, no code shared with the agent) starts N oneshot
// services with the timers' own .service content (floor-t<i>.service, without the agent's
// ownership lines, so the agent leaves them alone), StartUnit pipelined (up to 256 jobs
// outstanding: the script's header says why not all at once), and reports the time
// from just before its first call to the latest ExecMainStartTimestamp among them. The floor's
// services are kept loaded by a started floor-timers.target that Wants= them (as each timer
// keeps its service loaded), so no unit file is parsed inside its clock (the script counts the
// services not in memory before its first call: notLoaded, expected 0).
//
// Each measured minute M (from the first full minute after every timer is active):
//   M+0 s   the timers fire (systemd's own timers; the agent only sees the state changes);
//   M+25 s  the floor runs (checked to start after the timers' last start of that minute);
//   M+42 s  every timer's service is read once, ExecMainStartTimestamp (a oneshot never becomes
//           "active"); lateness = that - M, counted for M when it falls in [M, M+60 s);
//           a service without a start in M is a missed trigger.
// Nothing is read during the timers' starts (the previous version polled every 15 s, during them).
// Per minute: latest = the largest lateness (when the last timer's service started), ratio =
// latest / that minute's floor lastStartSeconds; ratioToFloor = the median of those ratios (a
// minute's pair, 25 s apart, shares that minute's load on the shared cores); ratioOfMedians beside it.
//
// Usage: node dist/bench/timers.js   (env: TIMER_UNITS=1000 TIMER_MINUTES=7 TIMER_ACCURACY_MINUTES=2)
import { execFile, execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  LABEL_NODE,
  LABEL_WORKLOAD,
  UNITSET_KIND,
  UNITSET_PLURAL,
  VERSION,
  type SystemdUnitSet,
} from '../src/api/types.js';
import { LIMITS } from '../src/api/schema.js';
import { forEachLimited } from '../src/kube/concurrency.js';
import { specHash } from '../src/render/hash.js';
import { renderUnitFiles } from '../src/render/unit.js';
import { SystemdBus } from '../src/systemd/bus.js';
import { unwrap } from '../src/systemd/properties.js';
import { repoRoot } from '../test/harness/binaries.js';
import { Cluster } from '../test/harness/cluster.js';
import { startAgent, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import {
  ensureNodeScript,
  env,
  machine,
  mdMachine,
  mdTable,
  median,
  percentile,
  r3,
  resultsDir,
  sleep,
  systemdVersionOf,
  writeResults,
} from './common.js';

const N = env('TIMER_UNITS', 1000);
// Seven: one minute's pair varies by a third on these shared cores (ratios 0.78 to 1.31 in one
// afternoon's runs of the same code), and a median of three moved by 0.1 from run to run.
const MINUTES = env('TIMER_MINUTES', 7);
// Then, in the same run: every timer rewritten to AccuracySec=1us, measured as many minutes again.
const ACCURACY_MINUTES = env('TIMER_ACCURACY_MINUTES', 2);
// TIMER_AGENT_STOPPED=1: the agent is stopped once the timers are active, so the measured minutes
// show the agent's share (its CPU on the shared cores while systemd starts the services); the
// result goes to bench/results/timers-agent-stopped.{json,md}, beside timers.json.
const AGENT_STOPPED = process.env.TIMER_AGENT_STOPPED === '1';
// TIMER_AGENT_ARGS='...': extra agent flags for an experiment (e.g. --status-qps=0.01 all but stops
// status writes); the result goes to bench/results/timers-agent-args.{json,md}, never timers.json.
const AGENT_ARGS = (process.env.TIMER_AGENT_ARGS ?? '').split(' ').filter(Boolean);
/** The second of a minute the agent starts at (see main). */
const AGENT_START_SECOND = 45;
const FINE_ACCURACY = '1us';
const NODE = 'tm-1';
const NS = 'default';
const FLOOR_SCRIPT = path.join(repoRoot, 'bench', 'timers-floor.py');
const FLOOR_PREFIX = 'floor-t';
const FLOOR_TARGET = 'floor-timers.target';
// The floor's jobs outstanding (StartUnit to JobRemoved): below the 512 match rules dbus-daemon
// allows systemd's connection, one per job asked for over D-Bus (see bench/timers-floor.py; with
// no bound, systemd dropped off the bus: history/timers.floor-failure-*.txt). TIMER_FLOOR_WINDOW overrides.
const FLOOR_WINDOW = env('TIMER_FLOOR_WINDOW', 256);
const FLOOR_AT_MS = 25_000;
const READ_AT_MS = 42_000;
const execFileP = promisify(execFile);

function timerUnit(g: number, i: number, accuracy?: string) {
  const workload = `tmr-${g}`;
  const u = { name: `t${i}`, type: 'oneshot' as const, command: ['/bin/true'], schedule: '* * * * *' };
  const files = renderUnitFiles(NS, workload, u).map((f) =>
    accuracy && f.name.endsWith('.timer') ? { ...f, content: f.content.replace(/^AccuracySec=.*$/m, `AccuracySec=${accuracy}`) } : f,
  );
  return { name: u.name, type: u.type, scheduled: true, files };
}

function children(accuracy?: string): SystemdUnitSet[] {
  const out: SystemdUnitSet[] = [];
  for (let g = 0; g * LIMITS.units < N; g++) {
    const workload = `tmr-${g}`;
    const units = [];
    for (let i = g * LIMITS.units; i < Math.min(N, (g + 1) * LIMITS.units); i++) units.push(timerUnit(g, i, accuracy));
    const hash = specHash(units.flatMap((u) => u.files));
    out.push({
      apiVersion: API_VERSION,
      kind: UNITSET_KIND,
      metadata: { name: `${workload}-${NODE}`, namespace: NS, labels: { [LABEL_NODE]: NODE, [LABEL_WORKLOAD]: workload } },
      spec: { nodeName: NODE, units, hash, shortHash: hash.slice(0, 12) },
    });
  }
  return out;
}

/** The floor's services: the timers' .service content without the agent's ownership lines (else the agent would remove them). */
async function writeFloorUnits(unitDir: string, serviceContent: string): Promise<void> {
  const content = serviceContent.replace(/^X-SDW-(Owner|Hash)=.*\n/gm, '');
  const names = Array.from({ length: N }, (_, i) => `${FLOOR_PREFIX}${i}.service`);
  await forEachLimited(names, 16, (n) => fs.writeFile(path.join(unitDir, n), content));
  const target = ['[Unit]', 'Description=Keeps the timers floor services loaded', ...names.map((n) => `Wants=${n}`), ''].join('\n');
  await fs.writeFile(path.join(unitDir, FLOOR_TARGET), target);
}

interface FloorRun {
  units: number;
  window: number;
  notLoaded: number;
  t0Us: number;
  firstStartSeconds: number;
  lastStartSeconds: number;
  jobsSeconds: number;
}

async function runFloor(busAddress: string): Promise<FloorRun> {
  const { stdout } = await execFileP('/usr/bin/python3', [FLOOR_SCRIPT, busAddress, FLOOR_PREFIX, String(N), String(FLOOR_WINDOW)], {
    timeout: 120_000,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout) as FloorRun;
}

/** The node's journal around a failed floor (systemd and dbus-daemon lines), kept beside the results. */
async function keepJournal(journalDir: string, minute: number): Promise<string> {
  const file = path.join(
    resultsDir,
    'history',
    `timers.floor-failure-${new Date(minute).toISOString().slice(11, 16).replace(':', '')}.txt`,
  );
  try {
    const { stdout } = await execFileP(
      'journalctl',
      ['-D', journalDir, '--no-pager', '-o', 'short-precise', '--since', `@${Math.floor(minute / 1000)}`],
      { maxBuffer: 64 << 20 },
    );
    const lines = stdout.split('\n').filter((l) => !/ floor-t\d+\.service| sdw-default_tmr-/.test(l) || /[Ff]ail|rror/.test(l));
    await fs.writeFile(file, lines.slice(-400).join('\n') + '\n');
  } catch (err) {
    await fs.writeFile(file, `journalctl failed: ${String(err)}\n`);
  }
  return path.relative(repoRoot, file);
}

const sleepUntil = (t: number): Promise<void> => sleep(Math.max(0, t - Date.now()));

interface MinuteRun {
  minute: string;
  starts: number;
  missed: number;
  /** systemd's wakeup for this minute's timers (the first LastTriggerUSec): where AccuracySec put it. */
  firstTriggerSeconds: number;
  /** The last timer dispatched (its start job queued). */
  lastTriggerSeconds: number;
  firstSeconds: number;
  latestSeconds: number;
  p50Seconds: number;
  p99Seconds: number;
  /** null: this minute's floor failed (floorFailures). */
  floor: FloorRun | null;
  floorAfterLatestSeconds: number | null;
  readSeconds: number;
  readErrors: number;
  ratio: number | null;
}

interface Read {
  starts: number[];
  triggers: number[];
  readErrors: number;
  readSeconds: number;
}

/** A unit's realtime timestamp property (microseconds) as seconds after `minute`, if it falls in that minute. */
async function secondsInMinute(bus: SystemdBus, unit: string, iface: string, prop: string, minute: number): Promise<number | undefined> {
  const props = await bus.getUnitProperties(unit, [iface]);
  const ms = Number(unwrap((Object.values(props)[0] ?? {})[prop]) ?? 0) / 1000;
  return ms >= minute && ms < minute + 60_000 ? (ms - minute) / 1000 : undefined;
}

/**
 * Every timer and its service read once: the service's start (ExecMainStartTimestamp) and the
 * timer's elapse (LastTriggerUSec: when systemd dispatched it and queued the start job) in
 * [minute, minute + 60 s), in seconds after the minute.
 */
async function readStarts(bus: SystemdBus, services: string[], minute: number): Promise<Read> {
  // Few calls in flight: the node's dbus-daemon limits pending replies per connection.
  const tRead = Date.now();
  const out: Read = { starts: [], triggers: [], readErrors: 0, readSeconds: 0 };
  await forEachLimited(services, 4, async (s) => {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const start = await secondsInMinute(bus, s, 'org.freedesktop.systemd1.Service', 'ExecMainStartTimestamp', minute);
        const trigger = await secondsInMinute(
          bus,
          s.replace(/\.service$/, '.timer'),
          'org.freedesktop.systemd1.Timer',
          'LastTriggerUSec',
          minute,
        );
        if (start !== undefined) out.starts.push(start);
        if (trigger !== undefined) out.triggers.push(trigger);
        return;
      } catch {
        out.readErrors++;
      }
    }
  });
  out.readSeconds = r3((Date.now() - tRead) / 1000);
  if (Date.now() >= minute + 60_000)
    throw new Error(`reading minute ${new Date(minute).toISOString()} outlasted it (${out.readSeconds} s)`);
  return out;
}

function minuteRun(minute: number, read: Read, floor: FloorRun | null): MinuteRun {
  const { starts, triggers } = read;
  const latest = starts.length ? Math.max(...starts) : NaN;
  return {
    minute: new Date(minute).toISOString(),
    starts: starts.length,
    missed: N - starts.length,
    firstTriggerSeconds: r3(Math.min(...triggers)),
    lastTriggerSeconds: r3(Math.max(...triggers)),
    firstSeconds: r3(Math.min(...starts)),
    latestSeconds: r3(latest),
    p50Seconds: r3(percentile(starts, 50)),
    p99Seconds: r3(percentile(starts, 99)),
    floor: floor
      ? {
          ...floor,
          firstStartSeconds: r3(floor.firstStartSeconds),
          lastStartSeconds: r3(floor.lastStartSeconds),
          jobsSeconds: r3(floor.jobsSeconds),
        }
      : null,
    // > 0: the floor ran on an idle systemd, after this minute's last timer start.
    floorAfterLatestSeconds: floor ? r3(floor.t0Us / 1e6 - minute / 1000 - latest) : null,
    readSeconds: read.readSeconds,
    readErrors: read.readErrors,
    ratio: floor ? r3(latest / floor.lastStartSeconds) : null,
  };
}

type FloorFailure = { minute: string; error: string; journal: string };

/** COUNT minutes from firstMinute: the timers' starts and the floor beside them, each minute. */
async function measure(
  bus: SystemdBus,
  node: { busAddress: string; journalDir: string },
  services: string[],
  firstMinute: number,
  count: number,
): Promise<{ runs: MinuteRun[]; lateness: number[]; floorFailures: FloorFailure[] }> {
  const out = { runs: [] as MinuteRun[], lateness: [] as number[], floorFailures: [] as FloorFailure[] };
  for (let k = 0; k < count; k++) {
    const minute = firstMinute + k * 60_000;
    await sleepUntil(minute + FLOOR_AT_MS);
    let floor: FloorRun | null = null;
    try {
      floor = await runFloor(node.busAddress);
    } catch (err) {
      const journal = await keepJournal(node.journalDir, minute);
      const error = String((err as { stderr?: string }).stderr ?? err).trim();
      out.floorFailures.push({ minute: new Date(minute).toISOString(), error, journal });
      console.warn(`floor failed (journal in ${journal}): ${error}`);
    }
    await sleepUntil(minute + READ_AT_MS);
    const read = await readStarts(bus, services, minute);
    out.lateness.push(...read.starts);
    const run = minuteRun(minute, read, floor);
    out.runs.push(run);
    console.log(JSON.stringify(run));
  }
  return out;
}

/** The figures of one phase (one AccuracySec). */
function summarizePhase(accuracySec: string, m: { runs: MinuteRun[]; lateness: number[]; floorFailures: FloorFailure[] }) {
  const { runs, lateness, floorFailures } = m;
  const floors = runs.flatMap((r) => (r.floor ? [r.floor] : []));
  const latestMedian = median(runs.map((r) => r.latestSeconds));
  const floorMedian = median(floors.map((f) => f.lastStartSeconds));
  const expected = N * runs.length;
  return {
    units: N,
    minutes: runs.length,
    accuracySec,
    triggers: lateness.length,
    expectedTriggers: expected,
    missed: expected - lateness.length,
    // Median of the minutes' own ratios: each pair shares its minute's load on the shared cores.
    ratioToFloor: r3(median(runs.flatMap((r) => (r.ratio === null ? [] : [r.ratio])))),
    ratioOfMedians: r3(latestMedian / floorMedian),
    latestMedianSeconds: r3(latestMedian),
    floorMedianSeconds: r3(floorMedian),
    samples: runs.length,
    floorSamples: floors.length,
    floorFailures: floorFailures.length,
    firstTriggerMedianSeconds: r3(median(runs.map((r) => r.firstTriggerSeconds))),
    lastTriggerMedianSeconds: r3(median(runs.map((r) => r.lastTriggerSeconds))),
    firstMedianSeconds: r3(median(runs.map((r) => r.firstSeconds))),
    spreadMedianSeconds: r3(median(runs.map((r) => r.latestSeconds - r.firstSeconds))),
    floorFirstStartMedianSeconds: r3(median(floors.map((f) => f.firstStartSeconds))),
    floorJobsMedianSeconds: r3(median(floors.map((f) => f.jobsSeconds))),
    floorWindow: FLOOR_WINDOW,
    floorNotLoadedMax: Math.max(...floors.map((f) => f.notLoaded)),
    p50Seconds: r3(percentile(lateness, 50)),
    p90Seconds: r3(percentile(lateness, 90)),
    p99Seconds: r3(percentile(lateness, 99)),
    p9999Seconds: r3(percentile(lateness, 99.99)),
    maxSeconds: r3(Math.max(...lateness)),
    minSeconds: r3(Math.min(...lateness)),
  };
}
type Phase = ReturnType<typeof summarizePhase>;

/** One phase's tables in timers.md. */
function phaseMd(p: Phase, runs: MinuteRun[], floorFailures: FloorFailure[]): string[] {
  return [
    ...mdTable(
      [
        'latest/floor, median',
        'median latest / median floor',
        'latest, median (s)',
        'floor, median (s)',
        'samples (minutes)',
        'starts (expected)',
        'p50 (s)',
        'p99 (s)',
        'max (s)',
      ],
      [
        [
          p.ratioToFloor,
          p.ratioOfMedians,
          p.latestMedianSeconds,
          p.floorMedianSeconds,
          p.samples,
          `${p.triggers} (${p.expectedTriggers})`,
          p.p50Seconds,
          p.p99Seconds,
          p.maxSeconds,
        ],
      ],
    ),
    '',
    `Where the latest start goes (medians over minutes): systemd woke for the minute's timers at ${p.firstTriggerMedianSeconds} s ` +
      `(the first LastTriggerUSec; AccuracySec=${p.accuracySec} lets it pick a point in that window), dispatched the last timer at ` +
      `${p.lastTriggerMedianSeconds} s (each queues its service's start job), started the first service at ${p.firstMedianSeconds} s ` +
      `and the last at ${p.latestMedianSeconds} s (first to last start: ${p.spreadMedianSeconds} s). ` +
      `The floor's first start comes ${p.floorFirstStartMedianSeconds} s after its first call, its last JobRemoved at ${p.floorJobsMedianSeconds} s; ` +
      `${p.floorSamples} floor samples, ${p.floorFailures} failed, at most ${p.floorNotLoadedMax} of its services not loaded before its clock.`,
    '',
    ...mdTable(
      [
        'minute',
        'starts',
        'woke (s)',
        'last timer dispatched (s)',
        'first (s)',
        'latest (s)',
        'p99 (s)',
        'floor first (s)',
        'floor last (s)',
        'floor jobs (s)',
        'latest/floor',
        'floor began after latest (s)',
      ],
      runs.map((r) => [
        r.minute,
        r.starts,
        r.firstTriggerSeconds,
        r.lastTriggerSeconds,
        r.firstSeconds,
        r.latestSeconds,
        r.p99Seconds,
        r.floor?.firstStartSeconds ?? 'failed',
        r.floor?.lastStartSeconds ?? 'failed',
        r.floor?.jobsSeconds ?? 'failed',
        r.ratio ?? '-',
        r.floorAfterLatestSeconds ?? '-',
      ]),
    ),
    '',
    ...(floorFailures.length
      ? [
          `Floor failures (no floor sample that minute): ${floorFailures.map((f) => `${f.minute}: ${f.error} (journal: ${f.journal})`).join('; ')}`,
          '',
        ]
      : []),
  ];
}

/** Every child replaced with its timers at `accuracy`; resolves once systemd has every timer at it. */
async function setAccuracy(api: k8s.CustomObjectsApi, bus: SystemdBus, accuracy: string, timers: string[]): Promise<void> {
  await forEachLimited(children(accuracy), 8, async (body) => {
    const cur = (await api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: UNITSET_PLURAL,
      name: body.metadata.name!,
    })) as SystemdUnitSet;
    await api.replaceNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: UNITSET_PLURAL,
      name: body.metadata.name!,
      body: { ...cur, spec: body.spec },
    });
  });
  const want = 1; // microseconds: 1us
  await waitFor(
    `${timers.length} timers at AccuracySec=${accuracy}`,
    async () => {
      let n = 0;
      await forEachLimited(timers, 4, async (t) => {
        const props = await bus.getUnitProperties(t, ['org.freedesktop.systemd1.Timer']).catch(() => ({}));
        const v = Number(unwrap((Object.values(props)[0] ?? {}).AccuracyUSec) ?? -1);
        if (v === want) n++;
      });
      const active = (await bus.listUnitsByPatterns(['active'], ['sdw-default_tmr-*.timer'])).length;
      return n === timers.length && active === timers.length ? true : undefined;
    },
    120_000,
    1000,
  );
}

async function main(): Promise<void> {
  ensureNodeScript();
  // The floor needs Debian's python3-dbus and python3-gi (hack/install-deps.sh): say so before starting anything.
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import dbus, dbus.mainloop.glib, gi.repository.GLib'], { stdio: 'pipe' });
  } catch (e) {
    throw new Error(`the floor (bench/timers-floor.py) needs python3-dbus and python3-gi: run hack/install-deps.sh (${String(e)})`);
  }
  const cluster = await Cluster.start({ nodes: [{ name: NODE }] });
  let agent: OperatorProcess | undefined;
  let bus: SystemdBus | undefined;
  try {
    const node = cluster.node(NODE);
    const m = machine(await systemdVersionOf((...a) => node.busctl(...a)));
    console.log(
      `timers: ${N} units, ${MINUTES} + ${ACCURACY_MINUTES} (AccuracySec=${FINE_ACCURACY}) min, load ${String(m.loadavgAtStart)}`,
    );
    // The agent's periodic work (a resync every 60 s reads all its 2,000 units' state from
    // PID 1 for 2-5 s; a usage sample every 30 s) runs at fixed offsets from its start. Started
    // at second AGENT_START_SECOND, both fall between the minute's starts (M+0..~8 s), the floor
    // (M+25..~32 s) and the read (M+42 s), in every run: otherwise a run's figures depend on where
    // its start happened to put them (a resync under the starts keeps systemd awake, so it
    // dispatches the timers earlier than its AccuracySec wake, and adds its calls to theirs).
    await sleep((AGENT_START_SECOND * 1000 - (Date.now() % 60_000) + 60_000) % 60_000);
    // TIMER_AGENT_CPU_PROF=DIR: the agent writes a V8 CPU profile there when it exits (to see where its time goes).
    const prof = process.env.TIMER_AGENT_CPU_PROF;
    agent = await startAgent(cluster, NODE, {
      usagePeriodSeconds: 30,
      heartbeatPeriodSeconds: 10,
      resyncPeriodSeconds: 60,
      ...(prof ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.resolve(prof)}`] } : {}),
      ...(AGENT_ARGS.length ? { extraArgs: AGENT_ARGS } : {}),
    });
    bus = await SystemdBus.connect(node.busAddress);
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const kids = children();
    const services = kids.flatMap((c) => c.spec.units.map((u) => u.files[0]!.name));
    const timers = services.map((s) => s.replace(/\.service$/, '.timer'));
    const timerFile = kids[0]!.spec.units[0]!.files.find((f) => f.name.endsWith('.timer'))!;
    const rendered = /^AccuracySec=(.*)$/m.exec(timerFile.content)?.[1] ?? 'unset';

    // The floor's services, loaded and started once (untimed), before the timers exist.
    await writeFloorUnits(node.unitDir, kids[0]!.spec.units[0]!.files[0]!.content);
    await bus.reload();
    await bus.startUnit(FLOOR_TARGET);
    await waitFor(
      `${N} floor services started once`,
      async () => ((await bus!.listUnitsByPatterns(['activating'], [`${FLOOR_PREFIX}*`])).length === 0 ? true : undefined),
      120_000,
      500,
    );

    const tCreate = Date.now();
    await forEachLimited(kids, 8, async (body) => {
      await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: UNITSET_PLURAL, body });
    });
    await waitFor(
      `${N} timers active`,
      async () => ((await bus!.listUnitsByPatterns(['active'], ['sdw-default_tmr-*.timer'])).length === N ? true : undefined),
      600_000,
      1000,
    );
    const setupS = r3((Date.now() - tCreate) / 1000);
    if (AGENT_STOPPED) {
      await agent.stop();
      console.log('agent stopped: its units stay as they are (fail static)');
    }
    const nextMinute = (): number => Math.ceil((Date.now() + 1000) / 60_000) * 60_000;
    // At least 30 s after the setup: its last work (the first statuses of 32 children, paced) must
    // not meet the first minute's starts (a run whose setup ended at :58 measured a minute whose
    // timers systemd, still awake, dispatched 0.86 s early).
    const firstMinute = Math.ceil((Date.now() + 30_000) / 60_000) * 60_000;
    console.log(`timers active after ${setupS} s; measuring ${MINUTES} minutes from ${new Date(firstMinute).toISOString()}`);
    // The agent's own work over the measured minutes: node syncs and CPU seconds (its metrics).
    const agentWork = async (): Promise<{ syncs: number; cpu: number } | undefined> =>
      AGENT_STOPPED
        ? undefined
        : {
            syncs:
              ((await agent!.metric('sdw_agent_syncs_total', { result: 'success' })) ?? 0) +
              ((await agent!.metric('sdw_agent_syncs_total', { result: 'error' })) ?? 0),
            cpu: (await agent!.metric('process_cpu_seconds_total')) ?? NaN,
          };
    const workBefore = await agentWork();
    const tWork = Date.now();
    const base = await measure(bus, node, services, firstMinute, MINUTES);
    const workAfter = await agentWork();
    const workMinutes = (Date.now() - tWork) / 60_000;
    const summary = {
      ...summarizePhase(rendered, base),
      setupSeconds: setupS,
      ...(workBefore && workAfter
        ? {
            agentSyncsPerMinute: r3((workAfter.syncs - workBefore.syncs) / workMinutes),
            agentCpuSecondsPerMinute: r3((workAfter.cpu - workBefore.cpu) / workMinutes),
          }
        : {}),
    };

    let fine: { phase: Phase; runs: MinuteRun[]; floorFailures: FloorFailure[] } | undefined;
    if (ACCURACY_MINUTES > 0) {
      await setAccuracy(api, bus, FINE_ACCURACY, timers);
      const from = nextMinute();
      console.log(`timers at AccuracySec=${FINE_ACCURACY}; measuring ${ACCURACY_MINUTES} minutes from ${new Date(from).toISOString()}`);
      const r = await measure(bus, node, services, from, ACCURACY_MINUTES);
      fine = { phase: summarizePhase(FINE_ACCURACY, r), runs: r.runs, floorFailures: r.floorFailures };
    }

    const md = [
      `# timers: ${N} same-minute timers on one node against the floor${AGENT_STOPPED ? ', the agent stopped once they were active' : ''}${AGENT_ARGS.length ? `, the agent run with ${AGENT_ARGS.join(' ')}` : ''}`,
      '',
      `Produced by \`node dist/bench/timers.js\` (\`make bench-timers\`; env TIMER_UNITS=${N} TIMER_MINUTES=${MINUTES} TIMER_ACCURACY_MINUTES=${ACCURACY_MINUTES}${AGENT_STOPPED ? ' TIMER_AGENT_STOPPED=1' : ''}${AGENT_ARGS.length ? ` TIMER_AGENT_ARGS='${AGENT_ARGS.join(' ')}'` : ''}). Method in the header of bench/timers.ts.`,
      `Timers created through the agent (SystemdUnitSets of 32 units), every minute at :00, Persistent=true, AccuracySec=${rendered} as rendered (the workload API has no field for it).`,
      "Lateness = the service's ExecMainStartTimestamp minus the scheduled minute; latest = the largest of a minute.",
      `Floor = bench/timers-floor.py (python3-dbus, no code shared with the agent), in the same run on the same node at M+25 s: StartUnit of ${N} loaded oneshot services with the timers' .service content, pipelined (up to ${FLOOR_WINDOW} jobs outstanding: systemd tracks each D-Bus-requested job with a match rule, and dbus-daemon allows its connection 512), from just before the first call to the latest ExecMainStartTimestamp.`,
      "Ratio = the median over minutes of latest / that minute's floor (both measured from the request, systemd's own timer or the first call, to the last main process forked; a minute's pair shares that minute's load on the shared cores). The ratio of the medians is beside it.",
      '',
      `## AccuracySec=${rendered} (as rendered; the figures of summary.json)`,
      '',
      ...phaseMd(summary, base.runs, base.floorFailures),
      ...(summary.agentSyncsPerMinute !== undefined
        ? [
            `The agent over these minutes (its own metrics): ${summary.agentSyncsPerMinute} node syncs and ${summary.agentCpuSecondsPerMinute} CPU seconds per minute.`,
            '',
          ]
        : []),
      ...(fine
        ? [
            `## AccuracySec=${FINE_ACCURACY} (the same run, after: every child replaced with its timers rewritten, what the accuracy costs)`,
            '',
            ...phaseMd(fine.phase, fine.runs, fine.floorFailures),
          ]
        : []),
      ...mdMachine(m),
    ].join('\n');
    await writeResults(
      AGENT_STOPPED ? 'timers-agent-stopped' : AGENT_ARGS.length ? 'timers-agent-args' : 'timers',
      {
        machine: m,
        method: 'see the header of bench/timers.ts',
        summary,
        runs: base.runs,
        floorFailures: base.floorFailures,
        fineAccuracy: fine ?? null,
      },
      md,
    );
    console.log(JSON.stringify({ summary, fineAccuracy: fine?.phase }, null, 2));
    // A profiled agent is stopped before the cleanup below keeps it busy: it writes its profile on exit.
    if (prof) await agent.stop(120_000);
    // Best effort: the node and its units go with the cluster below anyway. Deleting 1,000
    // timers' objects can outlast the API server's request timeout on a busy machine.
    await api
      .deleteCollectionNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: UNITSET_PLURAL,
        labelSelector: LABEL_NODE,
      })
      .catch((err: unknown) => console.warn(`cleanup: ${(err as Error).message}`));
  } finally {
    await bus?.close();
    await agent?.stop();
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
