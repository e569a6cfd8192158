// Benchmark (issue 8, #2): fan-out of one workload to N nodes, against
// kube-controller-manager's DaemonSet controller on the same API server, same run.
//
// Cluster: a real etcd + kube-apiserver + kube-controller-manager (stock flags of the
// harness: GC/namespace/serviceaccount), N Node objects (no systemd), a second
// kube-controller-manager with only the 'daemonset' controller started for each DaemonSet
// measurement, twice: with its default client rate limit (--kube-api-qps=20
// --kube-api-burst=30: what a stock cluster runs) and raised (--kube-api-qps=1000
// --kube-api-burst=1000: the controller's own speed; ours has no client-side limit),
// our controller as its own process (dist/src/controller/main.js, 4 workers), and the
// simulated agents of test/harness/simAgents.ts (one process, one watch on all
// children, acknowledges each child with a status patch appliedHash/phase Running/
// readySince, <= 32 in flight; renews N heartbeat Leases every 10 s throughout BOTH
// measurements, so both run under the same background load).
//
// ours: from the API create of the SystemdWorkload until status.readyNodes == N
//       (also: until the N-th child is created, as the simulated agents' watch sees it).
// daemonset: from the API create of a DaemonSet (trivial pod template) until
//       status.numberReady == currentNumberScheduled == N (also: until the N-th pod is
//       created, by a watch). There is no kubelet or scheduler: simulated kubelets in
//       this process report each pod Running and Ready with a status patch (<= 32 in
//       flight, keep-alive connections), as the simulated agents do for children. Both
//       sides therefore stop at "every node reported ready", with one status write per node.
// Repetitions alternate the order (ours first, then the DaemonSet first, ...).
//
// Usage: node dist/bench/fanout.js   (env: FANOUT_NODES=1000 FANOUT_REPS=2 FANOUT_HEARTBEAT_S=10)
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, WORKLOAD_KIND, WORKLOAD_PLURAL, type SystemdWorkload } from '../src/api/types.js';
import { mergePatch, reuseConnections } from '../src/kube/client.js';
import { Informer } from '../src/kube/informer.js';
import { createLogger } from '../src/observability/log.js';
import { Cluster } from '../test/harness/cluster.js';
import { DEFAULT_CONTROLLERS } from '../test/harness/controlPlane.js';
import { startController, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import { SimAgents } from '../test/harness/simAgents.js';
import {
  WRITE_VERBS,
  apiRequests,
  diffRequests,
  env,
  machine,
  mdMachine,
  mdTable,
  median,
  procStats,
  r3,
  registerNodes,
  sleep,
  writeResults,
  type RequestCounts,
  PRODUCTION_LEASE,
} from './common.js';

const N = env('FANOUT_NODES', 1000);
const REPS = env('FANOUT_REPS', 2);
const HB_S = env('FANOUT_HEARTBEAT_S', 10);
const NS = 'default';
const LABEL = { bench: 'fanout' };
const now = (): number => performance.now();

type Kind = 'ours' | 'daemonset' | 'daemonset-qps1000';
const DS_ARGS: Record<Exclude<Kind, 'ours'>, string[]> = {
  daemonset: [],
  'daemonset-qps1000': ['--kube-api-qps=1000', '--kube-api-burst=1000'],
};

interface Run {
  kind: Kind;
  rep: number;
  createdS: number;
  doneS: number;
  requests: Record<string, number>;
  /** When the last node's status report was answered (the simulated agents or kubelets). */
  ackedS?: number;
  controllerCpuS?: number;
  reconcilePasses?: number;
  reconcileSeconds?: number;
}

function writesOf(d: RequestCounts): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of [...d].sort()) if (WRITE_VERBS.has(k.split('|')[0]!)) o[k] = v;
  return o;
}

/** The controller's own account of its reconcile passes (controller-runtime's histogram). */
async function reconcileStats(controller: OperatorProcess): Promise<{ count: number; sum: number }> {
  return {
    count: (await controller.metric('controller_runtime_reconcile_time_seconds_count')) ?? 0,
    sum: (await controller.metric('controller_runtime_reconcile_time_seconds_sum')) ?? 0,
  };
}

async function ours(cluster: Cluster, sim: SimAgents, controller: OperatorProcess, rep: number): Promise<Run> {
  const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
  const name = `fan-${rep}`;
  const body: SystemdWorkload = {
    apiVersion: API_VERSION,
    kind: WORKLOAD_KIND,
    metadata: { name, namespace: NS },
    spec: { nodeSelector: LABEL, units: [{ name: 'main', command: ['/bin/sleep', 'infinity'] }] },
  };
  let seen = 0;
  let tCreated = 0;
  sim.onChildSeen = (c) => {
    if (c.metadata.labels?.[`${GROUP}/workload`] === name && ++seen === N) tCreated = now();
  };
  const before = await apiRequests(cluster.controlPlane);
  const cpu0 = procStats(controller.pid!).cpuSeconds;
  const passes0 = await reconcileStats(controller);
  const t0 = now();
  await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, body });
  await waitFor(
    `${name} readyNodes == ${N}`,
    async () => {
      const w = (await api.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: WORKLOAD_PLURAL,
        name,
      })) as SystemdWorkload;
      return w.status?.readyNodes === N ? true : undefined;
    },
    900_000,
    100,
  );
  const t1 = now();
  const cpu1 = procStats(controller.pid!).cpuSeconds;
  const passes1 = await reconcileStats(controller);
  const after = await apiRequests(cluster.controlPlane);
  sim.onChildSeen = undefined;
  await api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, name });
  await waitFor('children garbage-collected', async () => (sim.informer.list().length === 0 ? true : undefined), 900_000, 500);
  return {
    kind: 'ours',
    rep,
    createdS: r3((tCreated - t0) / 1000),
    ackedS: r3((sim.lastAckAt - t0) / 1000),
    doneS: r3((t1 - t0) / 1000),
    requests: writesOf(diffRequests(before, after)),
    controllerCpuS: r3(cpu1 - cpu0),
    reconcilePasses: passes1.count - passes0.count,
    reconcileSeconds: r3(passes1.sum - passes0.sum),
  };
}

async function daemonset(cluster: Cluster, pods: Informer<k8s.V1Pod>, kind: Exclude<Kind, 'ours'>, rep: number): Promise<Run> {
  const name = `fan-${kind}-${rep}`;
  const kcm = await cluster.controlPlane.startControllerManager(['daemonset'], DS_ARGS[kind], `kcm-${kind}-${rep}`);
  try {
    // Its informers list Nodes, Pods and DaemonSets before the controller acts.
    await sleep(5000);
    return await daemonsetRun(cluster, pods, kind, rep, name);
  } finally {
    await kcm.stop();
  }
}

async function daemonsetRun(
  cluster: Cluster,
  pods: Informer<k8s.V1Pod>,
  kind: Exclude<Kind, 'ours'>,
  rep: number,
  name: string,
): Promise<Run> {
  const kubeletKc = new k8s.KubeConfig();
  kubeletKc.loadFromString(cluster.kc.exportConfig());
  reuseConnections(kubeletKc);
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const labels = { app: name };
  let seen = 0;
  let tCreated = 0;
  // Simulated kubelets, the DaemonSet's counterpart of the simulated agents: each pod seen is
  // reported Running and Ready by a status patch, <= 32 in flight, on keep-alive connections.
  const core = kubeletKc.makeApiClient(k8s.CoreV1Api);
  const queue: k8s.V1Pod[] = [];
  let inFlight = 0;
  let lastAck = 0;
  const pump = (): void => {
    while (inFlight < 32 && queue.length > 0) {
      const p = queue.shift()!;
      inFlight++;
      const at = new Date();
      void core
        .patchNamespacedPodStatus(
          {
            name: p.metadata!.name!,
            namespace: NS,
            body: { status: { phase: 'Running', startTime: at, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: at }] } },
          },
          mergePatch,
        )
        .then(
          () => (lastAck = now()),
          () => undefined,
        )
        .finally(() => {
          inFlight--;
          pump();
        });
    }
  };
  const onPod = (type: string, p: k8s.V1Pod): void => {
    if (type !== 'add' || p.metadata?.labels?.app !== name) return;
    if (++seen === N) tCreated = now();
    queue.push(p);
    pump();
  };
  pods.on(onPod);
  const before = await apiRequests(cluster.controlPlane);
  const t0 = now();
  await apps.createNamespacedDaemonSet({
    namespace: NS,
    body: {
      metadata: { name, namespace: NS },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            nodeSelector: LABEL,
            automountServiceAccountToken: false,
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'main', image: 'registry.invalid/sleep:never-pulled', command: ['/bin/sleep', 'infinity'] }],
          },
        },
      },
    },
  });
  await waitFor(
    `${name} ${N} pods ready`,
    async () => {
      const ds = await apps.readNamespacedDaemonSetStatus({ name, namespace: NS });
      const s = ds.status;
      return s?.desiredNumberScheduled === N && s.currentNumberScheduled === N && s.numberReady === N ? true : undefined;
    },
    900_000,
    100,
  );
  const t1 = now();
  const after = await apiRequests(cluster.controlPlane);
  if (seen < N) await waitFor('all pods seen', async () => (seen >= N ? true : undefined), 60_000, 50);
  await apps.deleteNamespacedDaemonSet({ name, namespace: NS, propagationPolicy: 'Background' });
  await waitFor('pods garbage-collected', async () => (pods.list().length === 0 ? true : undefined), 900_000, 500);
  return {
    kind,
    rep,
    createdS: r3((tCreated - t0) / 1000),
    ackedS: r3((lastAck - t0) / 1000),
    doneS: r3((t1 - t0) / 1000),
    requests: writesOf(diffRequests(before, after)),
  };
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`fanout: ${N} nodes, ${REPS} reps, load ${String(m.loadavgAtStart)}`);
  const cluster = await Cluster.start({ controllers: DEFAULT_CONTROLLERS });
  let controller: OperatorProcess | undefined;
  let sim: SimAgents | undefined;
  let pods: Informer<k8s.V1Pod> | undefined;
  try {
    const names = await registerNodes(cluster.kc, 'fan', N, LABEL);
    // Pods need the namespace's default ServiceAccount (the serviceaccount controller makes it).
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      'default ServiceAccount',
      async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: NS })) ? true : undefined),
      60_000,
      200,
    );
    // Unthrottled, as these figures were measured before the controller had --kube-api-qps (default 20 now).
    controller = await startController(cluster, { extraArgs: [...PRODUCTION_LEASE, '--kube-api-qps=0'] });
    sim = await new SimAgents(cluster.kc, names, { heartbeatPeriodMs: HB_S * 1000 }).start();
    pods = new Informer<k8s.V1Pod>(cluster.kc, {
      path: `/api/v1/namespaces/${NS}/pods`,
      apiVersion: 'v1',
      kind: 'Pod',
      log: createLogger({ component: 'bench' }, 'warn'),
    });
    await pods.start();
    await sleep(2000);
    const runs: Run[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const kinds: Kind[] = ['ours', 'daemonset', 'daemonset-qps1000'];
      const order = rep % 2 === 0 ? kinds : [...kinds].reverse();
      for (const k of order) {
        const r = k === 'ours' ? await ours(cluster, sim, controller, rep) : await daemonset(cluster, pods, k, rep);
        runs.push(r);
        console.log(`rep ${rep} ${r.kind}: created ${r.createdS} s, done ${r.doneS} s`);
        await sleep(2000);
      }
    }
    const med = (kind: string, f: 'createdS' | 'doneS'): number => r3(median(runs.filter((r) => r.kind === kind).map((r) => r[f])));
    const summary = {
      nodes: N,
      oursReadySeconds: med('ours', 'doneS'),
      oursChildrenCreatedSeconds: med('ours', 'createdS'),
      daemonSetReadySeconds: med('daemonset', 'doneS'),
      daemonSetPodsCreatedSeconds: med('daemonset', 'createdS'),
      ratioToDaemonSet: r3(med('ours', 'doneS') / med('daemonset', 'doneS')),
      createdRatioToDaemonSet: r3(med('ours', 'createdS') / med('daemonset', 'createdS')),
      daemonSetQps1000ReadySeconds: med('daemonset-qps1000', 'doneS'),
      daemonSetQps1000PodsCreatedSeconds: med('daemonset-qps1000', 'createdS'),
      ratioToDaemonSetQps1000: r3(med('ours', 'doneS') / med('daemonset-qps1000', 'doneS')),
      createdRatioToDaemonSetQps1000: r3(med('ours', 'createdS') / med('daemonset-qps1000', 'createdS')),
      controllerRssMiBAfter: procStats(controller.pid!).rssMiB,
      simAgentStats: sim.stats,
    };
    const json = { machine: m, method: 'see the header of bench/fanout.ts', summary, runs };
    const md = [
      `# fanout: one workload to ${N} nodes vs the DaemonSet controller`,
      '',
      `Produced by \`node dist/bench/fanout.js\` (\`make bench-fanout\`; env FANOUT_NODES=${N} FANOUT_REPS=${REPS} FANOUT_HEARTBEAT_S=${HB_S}). Method in the header of bench/fanout.ts.`,
      'Simulated agents (one process, one watch, status patch per child, heartbeat Leases) and, for the DaemonSet, simulated kubelets (status patch Running+Ready per pod); no scheduler. Both stop when every node has reported ready.',
      'DaemonSet: kube-controller-manager with its default client rate limit (--kube-api-qps=20, burst 30: a stock cluster); DaemonSet qps1000: the same with --kube-api-qps=1000 --kube-api-burst=1000. Our controller runs with --kube-api-qps=0 (no client-side limit).',
      '',
      ...mdTable(
        ['', 'ours (s)', 'DaemonSet (s)', 'ours/DaemonSet', 'DaemonSet qps1000 (s)', 'ours/DaemonSet qps1000'],
        [
          [
            `to ${N} children / pods created`,
            summary.oursChildrenCreatedSeconds,
            summary.daemonSetPodsCreatedSeconds,
            summary.createdRatioToDaemonSet,
            summary.daemonSetQps1000PodsCreatedSeconds,
            summary.createdRatioToDaemonSetQps1000,
          ],
          [
            `to ready (ours: readyNodes=${N}; DS: numberReady=${N})`,
            summary.oursReadySeconds,
            summary.daemonSetReadySeconds,
            summary.ratioToDaemonSet,
            summary.daemonSetQps1000ReadySeconds,
            summary.ratioToDaemonSetQps1000,
          ],
        ],
      ),
      '',
      '## Runs',
      '',
      ...mdTable(
        [
          'rep',
          'kind',
          'created (s)',
          'last ready report answered (s)',
          'ready (s)',
          'controller CPU (s)',
          'reconcile passes',
          'reconcile time (s)',
        ],
        runs.map((r) => [r.rep, r.kind, r.createdS, r.ackedS, r.doneS, r.controllerCpuS, r.reconcilePasses, r.reconcileSeconds]),
      ),
      '',
      'Write requests counted at the API server per run are in fanout.json (runs[].requests).',
      '',
      ...mdMachine(m),
    ].join('\n');
    await writeResults('fanout', json, md);
    console.log(JSON.stringify(summary, null, 2));
  } finally {
    pods?.stop();
    sim?.stop();
    await controller?.stop();
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
