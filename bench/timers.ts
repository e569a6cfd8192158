// Benchmark (issue 8, #6): TIMER_UNITS timer units firing every minute on ONE real
// sandbox node for TIMER_MINUTES minutes: how late each start was.
// Units are created through the agent (the agent process, production cadences):
// SystemdUnitSets created through the API, at most 32 units per child (LIMITS.units),
// so ceil(N/32) children, each unit the renderer's own files for
// {type: oneshot, command /bin/true, schedule "* * * * *"}: a .service plus a .timer
// with OnCalendar=*-*-* *:*:00, Persistent=true, AccuracySec=1s (rendered by
// src/render/unit.ts; systemd's default AccuracySec is 1min, which would allow up to
// a minute of coalescing). The controller is not in the loop (it only renders).
// Once every timer is active, from the next full minute on, every service's
// ExecMainStartTimestamp (a oneshot never becomes "active", so ActiveEnterTimestamp
// is not set) is read over D-Bus every 15 s; each distinct value is one trigger,
// lateness = ExecMainStartTimestamp - the scheduled minute (the timestamp floored
// to the minute: valid while every lateness < 60 s, checked: a minute with fewer
// triggers than units shows up as missed).
//
// Usage: node dist/bench/timers.js   (env: TIMER_UNITS=1000 TIMER_MINUTES=5)
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
import { Cluster } from '../test/harness/cluster.js';
import { startAgent, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import { ensureNodeScript, env, machine, mdMachine, mdTable, percentile, r3, sleep, systemdVersionOf, writeResults } from './common.js';

const N = env('TIMER_UNITS', 1000);
const MINUTES = env('TIMER_MINUTES', 5);
const NODE = 'tm-1';
const NS = 'default';

function children(): SystemdUnitSet[] {
  const out: SystemdUnitSet[] = [];
  for (let g = 0; g * LIMITS.units < N; g++) {
    const workload = `tmr-${g}`;
    const units = [];
    for (let i = g * LIMITS.units; i < Math.min(N, (g + 1) * LIMITS.units); i++) {
      const u = { name: `t${i}`, type: 'oneshot' as const, command: ['/bin/true'], schedule: '* * * * *' };
      units.push({ name: u.name, type: u.type, scheduled: true, files: renderUnitFiles(NS, workload, u) });
    }
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

async function main(): Promise<void> {
  ensureNodeScript();
  const cluster = await Cluster.start({ nodes: [{ name: NODE }] });
  let agent: OperatorProcess | undefined;
  let bus: SystemdBus | undefined;
  try {
    const node = cluster.node(NODE);
    const m = machine(await systemdVersionOf((...a) => node.busctl(...a)));
    console.log(`timers: ${N} units, ${MINUTES} min, load ${String(m.loadavgAtStart)}`);
    agent = await startAgent(cluster, NODE, { usagePeriodSeconds: 30, heartbeatPeriodSeconds: 10, resyncPeriodSeconds: 60 });
    bus = await SystemdBus.connect(node.busAddress);
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const kids = children();
    const services = kids.flatMap((c) => c.spec.units.map((u) => u.files[0]!.name));
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
    // Measure from the next full minute (+1 s) for MINUTES minutes.
    const firstMinute = Math.ceil((Date.now() + 1000) / 60_000) * 60_000;
    const endMinute = firstMinute + MINUTES * 60_000;
    console.log(
      `timers active after ${setupS} s; measuring minutes ${new Date(firstMinute).toISOString()} .. ${new Date(endMinute).toISOString()}`,
    );
    const seen = new Map<string, Set<number>>(services.map((s) => [s, new Set()]));
    // Few calls in flight: the node's dbus-daemon limits pending replies per connection,
    // and a busy systemd answers slowly; a failed read is retried at the next poll
    // (a trigger's timestamp stays readable for a minute, polls are 15 s apart).
    let readErrors = 0;
    const poll = async (): Promise<void> => {
      await forEachLimited(services, 4, async (s) => {
        try {
          const props = await bus!.getUnitProperties(s, ['org.freedesktop.systemd1.Service']);
          const p = Object.values(props)[0] ?? {};
          const us = Number(unwrap(p.ExecMainStartTimestamp) ?? 0);
          if (us > 0) seen.get(s)!.add(us);
        } catch {
          readErrors++;
        }
      });
    };
    while (Date.now() < endMinute + 45_000) {
      const t = Date.now();
      await poll();
      await sleep(Math.max(0, 15_000 - (Date.now() - t)));
    }
    await poll();
    const lateness: number[] = [];
    const perMinute = new Map<number, number>();
    for (const stamps of seen.values()) {
      for (const us of stamps) {
        const ms = us / 1000;
        const minute = Math.floor(ms / 60_000) * 60_000;
        if (minute < firstMinute || minute >= endMinute) continue;
        lateness.push((ms - minute) / 1000);
        perMinute.set(minute, (perMinute.get(minute) ?? 0) + 1);
      }
    }
    const expected = N * MINUTES;
    const summary = {
      units: N,
      minutes: MINUTES,
      triggers: lateness.length,
      expectedTriggers: expected,
      missed: expected - lateness.length,
      p50Seconds: r3(percentile(lateness, 50)),
      p90Seconds: r3(percentile(lateness, 90)),
      p99Seconds: r3(percentile(lateness, 99)),
      p9999Seconds: r3(percentile(lateness, 99.99)),
      maxSeconds: r3(Math.max(...lateness)),
      minSeconds: r3(Math.min(...lateness)),
      setupSeconds: setupS,
      readErrors,
      triggersPerMinute: [...perMinute].sort((a, b) => a[0] - b[0]).map(([k, v]) => ({ minute: new Date(k).toISOString(), triggers: v })),
    };
    const md = [
      `# timers: ${N} timer units every minute on one node, ${MINUTES} minutes`,
      '',
      `Produced by \`node dist/bench/timers.js\` (\`make bench-timers\`; env TIMER_UNITS=${N} TIMER_MINUTES=${MINUTES}). Method in the header of bench/timers.ts.`,
      'Units created through the agent (SystemdUnitSets of 32 units); rendered timers carry OnCalendar (every minute at :00), Persistent=true and AccuracySec=1s.',
      "Lateness = the service's ExecMainStartTimestamp minus the scheduled minute.",
      '',
      ...mdTable(
        ['triggers (expected)', 'missed', 'p50 (s)', 'p90 (s)', 'p99 (s)', 'p99.99 (s)', 'max (s)'],
        [
          [
            `${summary.triggers} (${expected})`,
            summary.missed,
            summary.p50Seconds,
            summary.p90Seconds,
            summary.p99Seconds,
            summary.p9999Seconds,
            summary.maxSeconds,
          ],
        ],
      ),
      '',
      ...mdMachine(m),
    ].join('\n');
    await writeResults('timers', { machine: m, method: 'see the header of bench/timers.ts', summary }, md);
    console.log(JSON.stringify({ ...summary, triggersPerMinute: undefined }, null, 2));
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
