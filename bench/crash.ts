// Benchmark (issue 8, #4): crash-to-status latency, on a real sandbox node.
// A real control plane, our controller and a real agent (own processes, the agent
// with its production cadences: usage 30 s, heartbeat 10 s, resync 60 s), one
// workload with one service (sleep infinity, restart Always: systemd's RestartSec
// 100ms). Each of KILLS times: SIGKILL the unit's main process over D-Bus
// (Manager.KillUnit(name, "main", 9), the clock starts just before the call), then
// time until the WORKLOAD's status.restarts exceeds its value before the kill, as
// seen by a watch (src/kube/informer.ts) on SystemdWorkloads. Between kills the unit
// is back active and at least 2.5 s passed (systemd's default start limit is 5
// starts in 10 s; faster kills would put the unit in "failed", which is correct
// behaviour but not what this measures).
//
// CRASH_AGENT_DIST=<dir> runs the agent from <dir>/src/agent/main.js instead of dist/
// (to measure a proposed agent change without touching the shared build); the
// result files then get the suffix CRASH_RESULT_SUFFIX (default "-alt-agent").
//
// Usage: node dist/bench/crash.js   (env: CRASH_KILLS=100 CRASH_AGENT_DIST= CRASH_RESULT_SUFFIX=)
import * as k8s from '@kubernetes/client-node';
import {
  API_VERSION,
  GROUP,
  VERSION,
  WORKLOAD_KIND,
  WORKLOAD_PLURAL,
  type SystemdUnitSet,
  type SystemdWorkload,
} from '../src/api/types.js';
import { Informer } from '../src/kube/informer.js';
import { createLogger } from '../src/observability/log.js';
import { SystemdBus } from '../src/systemd/bus.js';
import { Cluster } from '../test/harness/cluster.js';
import { listChildren } from '../test/harness/controllerHelpers.js';
import path from 'node:path';
import { OPERATOR_NAMESPACE, OperatorProcess, ensureOperatorNamespace, startAgent, startController } from '../test/harness/operator.js';
import { freePort, waitFor } from '../test/harness/process.js';
import {
  ensureNodeScript,
  env,
  machine,
  mdMachine,
  mdTable,
  median,
  percentile,
  r3,
  sleep,
  systemdVersionOf,
  writeResults,
  PRODUCTION_LEASE,
} from './common.js';

const KILLS = env('CRASH_KILLS', 100);
const NODE = 'crash-1';
const NS = 'default';
const NAME = 'crashy';
const now = (): number => performance.now();
const ALT_DIST = process.env.CRASH_AGENT_DIST ?? '';
const SUFFIX = ALT_DIST ? (process.env.CRASH_RESULT_SUFFIX ?? '-alt-agent') : '';

/** startAgent's flags, from another dist tree. */
async function startAltAgent(cluster: Cluster): Promise<OperatorProcess> {
  await ensureOperatorNamespace(cluster);
  const node = cluster.node(NODE);
  const port = await freePort();
  const p = new OperatorProcess(
    `agent ${NODE} (${ALT_DIST})`,
    [
      path.join(ALT_DIST, 'src', 'agent', 'main.js'),
      `--node-name=${NODE}`,
      `--unit-dir=${node.unitDir}`,
      `--bus-address=${node.busAddress}`,
      `--probe-port=${port}`,
      `--heartbeat-namespace=${OPERATOR_NAMESPACE}`,
      '--usage-period=30',
      '--heartbeat-period=10',
      '--resync-period=60',
      `--advertise-url=http://127.0.0.1:${port}`,
    ],
    path.join(cluster.dir, `agent-${NODE}.log`),
    cluster.kubeconfigPath,
    port,
  );
  p.start();
  await p.waitReady();
  return p;
}

async function main(): Promise<void> {
  ensureNodeScript();
  const cluster = await Cluster.start({ nodes: [{ name: NODE }] });
  let controller: OperatorProcess | undefined;
  let agent: OperatorProcess | undefined;
  let bus: SystemdBus | undefined;
  let informer: Informer<SystemdWorkload> | undefined;
  try {
    const node = cluster.node(NODE);
    const m = machine(await systemdVersionOf((...a) => node.busctl(...a)));
    console.log(`crash: ${KILLS} kills, load ${String(m.loadavgAtStart)}`);
    controller = await startController(cluster, { extraArgs: PRODUCTION_LEASE });
    agent = ALT_DIST
      ? await startAltAgent(cluster)
      : await startAgent(cluster, NODE, { usagePeriodSeconds: 30, heartbeatPeriodSeconds: 10, resyncPeriodSeconds: 60 });
    bus = await SystemdBus.connect(node.busAddress);
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const body = {
      apiVersion: API_VERSION,
      kind: WORKLOAD_KIND,
      metadata: { name: NAME, namespace: NS },
      spec: { nodeSelector: { 'kubernetes.io/hostname': NODE }, units: [{ name: 'main', command: ['/bin/sleep', 'infinity'] }] },
    };
    let latest: SystemdWorkload | undefined;
    let waiter: { above: number; resolve: () => void } | undefined;
    informer = new Informer<SystemdWorkload>(cluster.kc, {
      path: `/apis/${GROUP}/${VERSION}/namespaces/${NS}/${WORKLOAD_PLURAL}`,
      apiVersion: API_VERSION,
      kind: WORKLOAD_KIND,
      namespace: NS,
      log: createLogger({ component: 'bench' }, 'warn'),
    });
    informer.on((type, w) => {
      if (type === 'delete' || w.metadata.name !== NAME) return;
      latest = w;
      if (waiter && (w.status?.restarts ?? 0) > waiter.above) waiter.resolve();
    });
    await informer.start();
    await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, body });
    await waitFor('workload ready', async () => (latest?.status?.readyNodes === 1 ? true : undefined), 120_000, 100);
    const child = (await listChildren(cluster, NS)).find((c: SystemdUnitSet) => c.metadata.labels?.[`${GROUP}/workload`] === NAME)!;
    const unit = child.spec.units[0]!.files[0]!.name;

    const latencies: number[] = [];
    let lastKill = 0;
    let timeouts = 0;
    for (let i = 0; i < KILLS; i++) {
      await waitFor(
        `${unit} active`,
        async () => ((await bus!.getUnitState(unit)).activeState === 'active' ? true : undefined),
        30_000,
        50,
      );
      const gap = 2500 - (Date.now() - lastKill);
      if (gap > 0) await sleep(gap);
      const before = latest?.status?.restarts ?? 0;
      const seen = new Promise<void>((resolve) => (waiter = { above: before, resolve }));
      const timeout = sleep(60_000).then(() => 'timeout' as const);
      lastKill = Date.now();
      const t0 = now();
      await bus.killUnit(unit, 'main', 9);
      const r = await Promise.race([seen.then(() => 'seen' as const), timeout]);
      const t1 = now();
      waiter = undefined;
      // A kill whose restart never showed within 60 s counts as 60 s (and is counted apart).
      if (r === 'timeout') {
        timeouts++;
        console.log(`kill ${i}: restarts stayed at ${before} for 60 s`);
      }
      latencies.push((t1 - t0) / 1000);
      if (i % 10 === 9) console.log(`${i + 1} kills: last ${r3(latencies.at(-1)!)} s, median so far ${r3(median(latencies))} s`);
    }
    const summary = {
      kills: latencies.length,
      p50Seconds: r3(percentile(latencies, 50)),
      p90Seconds: r3(percentile(latencies, 90)),
      p99Seconds: r3(percentile(latencies, 99)),
      maxSeconds: r3(Math.max(...latencies)),
      minSeconds: r3(Math.min(...latencies)),
      finalRestarts: latest?.status?.restarts,
      timeoutsAt60s: timeouts,
    };
    const json = {
      machine: m,
      agentDist: ALT_DIST || 'dist',
      method: 'see the header of bench/crash.ts',
      summary,
      latenciesSeconds: latencies.map(r3),
    };
    const md = [
      '# crash-to-status: a unit SIGKILLed on a real node until the workload status shows the restart',
      '',
      `Produced by \`${ALT_DIST ? `CRASH_AGENT_DIST=${ALT_DIST} ` : ''}node dist/bench/crash.js\` (\`make bench-crash\`; env CRASH_KILLS=${KILLS}). Method in the header of bench/crash.ts.`,
      'Clock: from just before D-Bus KillUnit(main, SIGKILL) to the watch event of the SystemdWorkload whose status.restarts grew.',
      'The path: systemd restarts the unit (RestartSec=100ms) -> agent sees NRestarts change -> child status patch -> controller reconcile -> workload status patch -> watch.',
      '',
      ...mdTable(
        ['kills', 'p50 (s)', 'p90 (s)', 'p99 (s)', 'max (s)', 'target p99'],
        [[summary.kills, summary.p50Seconds, summary.p90Seconds, summary.p99Seconds, summary.maxSeconds, '< 2 s']],
      ),
      '',
      ...mdMachine(m),
    ].join('\n');
    await writeResults(`crash${SUFFIX}`, json, md);
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    informer?.stop();
    await bus?.close();
    await agent?.stop();
    await controller?.stop();
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
