// Benchmark (issue 8, #2; issue 18, #4): fan-out of one workload to N nodes, against
// kube-controller-manager's DaemonSet controller on the same API server, same run, at N = 1,000
// and 5,000 (FANOUT_SIZES), each size on a fresh control plane.
//
// Cluster: a real etcd + kube-apiserver with API Priority and Fairness ON (kube-apiserver's
// default; the tests' control planes turn it off) + kube-controller-manager (GC, namespace,
// serviceaccount), N Node objects (no systemd). Every client has the identity it has in a
// cluster, so APF classifies it as there (bench/common.ts BENCH_IDENTITIES): our controller and
// the simulated agents are ServiceAccounts of the operator's namespace (priority level
// workload-low), the DaemonSet controller is kube-system's daemon-set-controller (workload-high),
// the simulated kubelets are system:nodes (system). Whether APF is on is read from the API server
// (its /debug/api_priority_and_fairness endpoint and apiserver_flowcontrol_* metrics) into the result.
//
// Four kinds of run, each with its controller process started for it (and stopped after):
//   ours-qps20:             our controller (dist/src/controller/main.js, the Deployment's Node flags)
//                           at its defaults --kube-api-qps=20 --kube-api-burst=30;
//   daemonset-qps20:        a kube-controller-manager running only 'daemonset', at its defaults
//                           (--kube-api-qps=20 --kube-api-burst=30: what a stock cluster runs);
//   ours-unthrottled:       ours with --kube-api-qps=0 (no client-side limit);
//   daemonset-unthrottled:  the DaemonSet controller with --kube-api-qps=100000 --kube-api-burst=100000.
// The simulated agents of test/harness/simAgents.ts (one process, one watch on all children,
// acknowledge each child with a status patch, <= 32 in flight) renew N heartbeat Leases every
// FANOUT_HEARTBEAT_S throughout, so every run has the same background load.
//
// created (the ratio issue 18 targets): from the API create of the SystemdWorkload (DaemonSet)
//       until the N-th child (pod) is seen by a watch.
// ready: ours until status.readyNodes == N; the DaemonSet until status.numberReady ==
//       currentNumberScheduled == N. There is no kubelet or scheduler: simulated kubelets in this
//       process report each pod Running and Ready with a status patch (<= 32 in flight, keep-alive
//       connections), as the simulated agents do for children.
// ratio = ours / DaemonSet, of the medians, at equal client limits (qps20) and both unthrottled.
// Per run: the CPU seconds of kube-apiserver, etcd, the controller and this process (the
// simulated agents and kubelets), the API server's peak RSS (VmRSS sampled every 250 ms), the
// machine's busy share of its cores, and APF's account by priority level (requests dispatched,
// rejected, seconds queued). Between runs the controller is stopped and the children (pods) are
// deleted by one deletecollection, then the workload (DaemonSet).
// Repetitions alternate the order of the four kinds.
//
// Usage: node dist/bench/fanout.js   (env: FANOUT_SIZES=1000,5000 FANOUT_REPS=1 FANOUT_HEARTBEAT_S=10)
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, WORKLOAD_KIND, WORKLOAD_PLURAL, UNITSET_PLURAL, type SystemdWorkload } from '../src/api/types.js';
import { mergePatch, reuseConnections } from '../src/kube/client.js';
import { Informer } from '../src/kube/informer.js';
import { createLogger } from '../src/observability/log.js';
import { Cluster } from '../test/harness/cluster.js';
import { DEFAULT_CONTROLLERS } from '../test/harness/controlPlane.js';
import { ensureOperatorNamespace, startController, type OperatorProcess } from '../test/harness/operator.js';
import { ManagedProcess, waitFor } from '../test/harness/process.js';
import { SimAgents } from '../test/harness/simAgents.js';
import {
  ProcSampler,
  WRITE_VERBS,
  apfDiff,
  apfState,
  apiRequests,
  benchKubeconfigs,
  benchUsers,
  diffRequests,
  env,
  machine,
  mdMachine,
  mdTable,
  median,
  metricSumBy,
  r3,
  registerNodes,
  scrapeMetrics,
  sleep,
  writeResults,
  type RequestCounts,
} from './common.js';
import { controllerNodeFlags } from './fleet.js';

const SIZES = (process.env.FANOUT_SIZES ?? '1000,5000').split(',').map(Number);
const REPS = env('FANOUT_REPS', 1);
const HB_S = env('FANOUT_HEARTBEAT_S', 10);
const NS = 'default';
const LABEL = { bench: 'fanout' };
const now = (): number => performance.now();

export const KINDS = ['ours-qps20', 'daemonset-qps20', 'ours-unthrottled', 'daemonset-unthrottled'] as const;
type Kind = (typeof KINDS)[number];
const OURS_ARGS: Record<string, string[]> = {
  'ours-qps20': ['--kube-api-qps=20', '--kube-api-burst=30'],
  'ours-unthrottled': ['--kube-api-qps=0'],
};
const DS_ARGS: Record<string, string[]> = {
  'daemonset-qps20': [],
  'daemonset-unthrottled': ['--kube-api-qps=100000', '--kube-api-burst=100000'],
};

interface Run {
  kind: Kind;
  rep: number;
  createdS: number;
  doneS: number;
  /** When the last node's status report was answered (the simulated agents or kubelets). */
  ackedS: number;
  requests: Record<string, number>;
  /** From create to ready: CPU seconds, cores and peak RSS of each process; the machine's busy share. */
  usage: ReturnType<ProcSampler['stop']>;
  apf: Record<string, Record<string, number>>;
  /** Ours: seconds its requests waited for its client-side limit (rest_client_rate_limiter_duration_seconds_sum). */
  clientRateLimitWaitS?: number;
}

function writesOf(d: RequestCounts): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of [...d].sort()) if (WRITE_VERBS.has(k.split('|')[0]!)) o[k] = v;
  return o;
}

interface Ctx {
  n: number;
  cluster: Cluster;
  sim: SimAgents;
  pods: Informer<k8s.V1Pod>;
  kubeconfigs: Awaited<ReturnType<typeof benchKubeconfigs>>;
}

function sampler(ctx: Ctx, controllerPid: number | undefined): ProcSampler {
  const cp = ctx.cluster.controlPlane;
  return new ProcSampler({ apiserver: cp.apiserver.pid, etcd: cp.etcd.pid, controller: controllerPid, bench: process.pid });
}

async function ours(ctx: Ctx, kind: Kind, rep: number): Promise<Run> {
  const { cluster, sim } = ctx;
  const controller = await startController(cluster, {
    leaderElect: false,
    identity: `${kind}-${rep}`,
    kubeconfig: ctx.kubeconfigs.controller.path,
    nodeArgs: controllerNodeFlags(),
    extraArgs: OURS_ARGS[kind],
  });
  try {
    await sleep(5000); // its informers list Nodes and children first, as the DaemonSet controller's get 5 s
    return await oursRun(ctx, controller, kind, rep);
  } finally {
    await controller.stop();
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const name = `fan-${kind}-${rep}`;
    await api.deleteCollectionNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: NS,
      plural: UNITSET_PLURAL,
      labelSelector: `${GROUP}/workload=${name}`,
    });
    await api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, name });
    await waitFor('children deleted', async () => (sim.informer.list().length === 0 ? true : undefined), 600_000, 500);
  }
}

/** Seconds the controller's requests waited for its client-side limit, every verb. */
async function rateLimitWait(controller: OperatorProcess): Promise<number> {
  const body = (await controller.get('/metrics')).body;
  return Object.values(metricSumBy(body, 'rest_client_rate_limiter_duration_seconds_sum', 'verb')).reduce((a, b) => a + b, 0);
}

async function oursRun(ctx: Ctx, controller: OperatorProcess, kind: Kind, rep: number): Promise<Run> {
  const { cluster, sim, n: N } = ctx;
  const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
  const name = `fan-${kind}-${rep}`;
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
  const m0 = await scrapeMetrics(cluster.controlPlane);
  const wait0 = await rateLimitWait(controller);
  const s = sampler(ctx, controller.pid).start();
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
    1_800_000,
    100,
  );
  const t1 = now();
  const usage = s.stop();
  const wait1 = await rateLimitWait(controller);
  const m1 = await scrapeMetrics(cluster.controlPlane);
  const after = await apiRequests(cluster.controlPlane);
  sim.onChildSeen = undefined;
  return {
    kind,
    rep,
    createdS: r3((tCreated - t0) / 1000),
    ackedS: r3((sim.lastAckAt - t0) / 1000),
    doneS: r3((t1 - t0) / 1000),
    requests: writesOf(diffRequests(before, after)),
    usage,
    apf: apfDiff(m0, m1),
    clientRateLimitWaitS: r3(wait1 - wait0),
  };
}

async function daemonset(ctx: Ctx, kind: Kind, rep: number): Promise<Run> {
  const { cluster, pods } = ctx;
  const name = `fan-${kind}-${rep}`;
  const kcm: ManagedProcess = await cluster.controlPlane.startControllerManager(
    ['daemonset'],
    [`--kubeconfig=${ctx.kubeconfigs.daemonSetController.path}`, ...DS_ARGS[kind]!],
    `kcm-${kind}-${rep}`,
  );
  try {
    // Its informers list Nodes, Pods and DaemonSets before the controller acts.
    await sleep(5000);
    return await daemonsetRun(ctx, kcm, kind, rep, name);
  } finally {
    await kcm.stop();
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await core.deleteCollectionNamespacedPod({ namespace: NS, labelSelector: `app=${name}`, gracePeriodSeconds: 0 });
    await cluster.kc.makeApiClient(k8s.AppsV1Api).deleteNamespacedDaemonSet({ name, namespace: NS });
    await waitFor('pods deleted', async () => (pods.list().length === 0 ? true : undefined), 600_000, 500);
  }
}

async function daemonsetRun(ctx: Ctx, kcm: ManagedProcess, kind: Kind, rep: number, name: string): Promise<Run> {
  const { cluster, pods, n: N } = ctx;
  const kubeletKc = new k8s.KubeConfig();
  kubeletKc.loadFromString(ctx.kubeconfigs.kubelets.kc.exportConfig());
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
  const m0 = await scrapeMetrics(cluster.controlPlane);
  const s = sampler(ctx, kcm.pid).start();
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
      const st = ds.status;
      return st?.desiredNumberScheduled === N && st.currentNumberScheduled === N && st.numberReady === N ? true : undefined;
    },
    1_800_000,
    100,
  );
  const t1 = now();
  const usage = s.stop();
  const m1 = await scrapeMetrics(cluster.controlPlane);
  const after = await apiRequests(cluster.controlPlane);
  if (seen < N) await waitFor('all pods seen', async () => (seen >= N ? true : undefined), 60_000, 50);
  return {
    kind,
    rep,
    createdS: r3((tCreated - t0) / 1000),
    ackedS: r3((lastAck - t0) / 1000),
    doneS: r3((t1 - t0) / 1000),
    requests: writesOf(diffRequests(before, after)),
    usage,
    apf: apfDiff(m0, m1),
  };
}

/** One size: a fresh control plane with APF on, N nodes, every kind REPS times. */
async function size(N: number): Promise<{ summary: Record<string, unknown>; runs: Run[]; apf: unknown }> {
  const users = benchUsers();
  const cluster = await Cluster.start({ controllers: DEFAULT_CONTROLLERS, priorityAndFairness: true, users: Object.values(users) });
  let sim: SimAgents | undefined;
  let pods: Informer<k8s.V1Pod> | undefined;
  try {
    const apf = await apfState(cluster.controlPlane);
    if (!apf.enabled) throw new Error(`APF is not on in the benchmark's API server: ${JSON.stringify(apf)}`);
    const kubeconfigs = await benchKubeconfigs(cluster, users);
    const names = await registerNodes(cluster.kc, 'fan', N, LABEL);
    // Pods need the namespace's default ServiceAccount (the serviceaccount controller makes it).
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await waitFor(
      'default ServiceAccount',
      async () => ((await core.readNamespacedServiceAccount({ name: 'default', namespace: NS })) ? true : undefined),
      60_000,
      200,
    );
    await ensureOperatorNamespace(cluster); // the heartbeat Leases' namespace
    sim = await new SimAgents(kubeconfigs.agents.kc, names, { heartbeatPeriodMs: HB_S * 1000 }).start();
    pods = new Informer<k8s.V1Pod>(cluster.kc, {
      path: `/api/v1/namespaces/${NS}/pods`,
      apiVersion: 'v1',
      kind: 'Pod',
      log: createLogger({ component: 'bench' }, 'warn'),
    });
    await pods.start();
    await sleep(2000);
    const ctx: Ctx = { n: N, cluster, sim, pods, kubeconfigs };
    const runs: Run[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? [...KINDS] : [...KINDS].reverse();
      for (const k of order) {
        const r = k.startsWith('ours') ? await ours(ctx, k, rep) : await daemonset(ctx, k, rep);
        runs.push(r);
        console.log(
          `${N} nodes, rep ${rep} ${r.kind}: created ${r.createdS} s, ready ${r.doneS} s; apiserver ${r.usage.procs.apiserver?.cpuSeconds} CPU s, peak ${r.usage.procs.apiserver?.peakRssMiB} MiB; machine ${r.usage.machineBusyPercent}% busy`,
        );
        await sleep(2000);
      }
    }
    const med = (kind: Kind, f: (r: Run) => number): number => r3(median(runs.filter((r) => r.kind === kind).map(f)));
    const created = (r: Run): number => r.createdS;
    const ready = (r: Run): number => r.doneS;
    const side = (kind: Kind): Record<string, number> => ({
      createdSeconds: med(kind, created),
      readySeconds: med(kind, ready),
      apiserverCpuSeconds: med(kind, (r) => r.usage.procs.apiserver!.cpuSeconds),
      apiserverCores: med(kind, (r) => r.usage.procs.apiserver!.cores),
      apiserverPeakRssMiB: med(kind, (r) => r.usage.procs.apiserver!.peakRssMiB),
      etcdCpuSeconds: med(kind, (r) => r.usage.procs.etcd!.cpuSeconds),
      controllerCpuSeconds: med(kind, (r) => r.usage.procs.controller!.cpuSeconds),
      controllerCores: med(kind, (r) => r.usage.procs.controller!.cores),
      benchCpuSeconds: med(kind, (r) => r.usage.procs.bench!.cpuSeconds),
      machineBusyPercent: med(kind, (r) => r.usage.machineBusyPercent),
      apfQueuedSeconds: med(kind, (r) => Object.values(r.apf.queuedSeconds ?? {}).reduce((a, b) => a + b, 0)),
      apfRejected: med(kind, (r) => Object.values(r.apf.rejected ?? {}).reduce((a, b) => a + b, 0)),
      samples: runs.filter((r) => r.kind === kind).length,
    });
    const sides = Object.fromEntries(KINDS.map((k) => [k, side(k)])) as Record<Kind, Record<string, number>>;
    const ratio = (a: Kind, b: Kind, f: 'createdSeconds' | 'readySeconds'): number => r3(sides[a][f]! / sides[b][f]!);
    const summary = {
      nodes: N,
      apfEnabled: apf.enabled,
      ratioEqualQps: ratio('ours-qps20', 'daemonset-qps20', 'createdSeconds'),
      readyRatioEqualQps: ratio('ours-qps20', 'daemonset-qps20', 'readySeconds'),
      ratioUnthrottled: ratio('ours-unthrottled', 'daemonset-unthrottled', 'createdSeconds'),
      readyRatioUnthrottled: ratio('ours-unthrottled', 'daemonset-unthrottled', 'readySeconds'),
      ...sides,
      simAgentStats: sim.stats,
    };
    return { summary, runs, apf };
  } finally {
    pods?.stop();
    sim?.stop();
    await cluster.stop();
  }
}

function mdSize(N: number, r: { summary: Record<string, unknown>; runs: Run[]; apf: unknown }): string[] {
  const s = r.summary as Record<string, number> & Record<Kind, Record<string, number>>;
  const row = (label: string, f: string): Array<string | number | undefined> => [label, ...KINDS.map((k) => s[k][f])];
  return [
    `## ${N} nodes`,
    '',
    `APF on: ${String(s.apfEnabled)} (debug endpoint and nominal seats by priority level: ${JSON.stringify((r.apf as { nominalSeats: unknown }).nominalSeats)}).`,
    '',
    ...mdTable(
      ['', 'ours/DaemonSet at 20 QPS, burst 30 (both defaults)', 'ours/DaemonSet both unthrottled'],
      [
        [`to ${N} children / pods created`, s.ratioEqualQps, s.ratioUnthrottled],
        ['to ready', s.readyRatioEqualQps, s.readyRatioUnthrottled],
      ],
    ),
    '',
    ...mdTable(
      ['median', ...KINDS],
      [
        row('samples', 'samples'),
        row('created (s)', 'createdSeconds'),
        row('ready (s)', 'readySeconds'),
        row('kube-apiserver CPU (s)', 'apiserverCpuSeconds'),
        row('kube-apiserver cores (CPU s / wall s)', 'apiserverCores'),
        row('kube-apiserver peak RSS (MiB)', 'apiserverPeakRssMiB'),
        row('etcd CPU (s)', 'etcdCpuSeconds'),
        row('controller CPU (s)', 'controllerCpuSeconds'),
        row('controller cores', 'controllerCores'),
        row('this process: simulated agents/kubelets, CPU (s)', 'benchCpuSeconds'),
        row('machine busy, % of all cores', 'machineBusyPercent'),
        row('APF: seconds queued, all levels', 'apfQueuedSeconds'),
        row('APF: requests rejected', 'apfRejected'),
      ],
    ),
    '',
    '### Runs',
    '',
    ...mdTable(
      [
        'rep',
        'kind',
        'created (s)',
        'last ready report answered (s)',
        'ready (s)',
        'apiserver CPU (s)',
        'apiserver peak RSS (MiB)',
        'client limit wait (s)',
        'APF queued s by level',
      ],
      r.runs.map((x) => [
        x.rep,
        x.kind,
        x.createdS,
        x.ackedS,
        x.doneS,
        x.usage.procs.apiserver?.cpuSeconds,
        x.usage.procs.apiserver?.peakRssMiB,
        x.clientRateLimitWaitS ?? '-',
        JSON.stringify(x.apf.queuedSeconds),
      ]),
    ),
    '',
  ];
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`fanout: ${SIZES.join(', ')} nodes, ${REPS} reps, load ${String(m.loadavgAtStart)}`);
  const bySize: Record<string, { summary: Record<string, unknown>; runs: Run[]; apf: unknown }> = {};
  for (const N of SIZES) bySize[N] = await size(N);
  const json = {
    machine: m,
    method: 'see the header of bench/fanout.ts',
    sizes: Object.fromEntries(Object.entries(bySize).map(([n, r]) => [n, r.summary])),
    apf: Object.fromEntries(Object.entries(bySize).map(([n, r]) => [n, r.apf])),
    runs: Object.fromEntries(Object.entries(bySize).map(([n, r]) => [n, r.runs])),
  };
  const md = [
    `# fanout: one workload to ${SIZES.join(' and ')} nodes vs the DaemonSet controller, APF on`,
    '',
    `Produced by \`node dist/bench/fanout.js\` (\`make bench-fanout\`; env FANOUT_SIZES=${SIZES.join(',')} FANOUT_REPS=${REPS} FANOUT_HEARTBEAT_S=${HB_S}). Method in the header of bench/fanout.ts.`,
    'API Priority and Fairness on; every client with its cluster identity (ours and the agents: ServiceAccounts, priority level workload-low; the DaemonSet controller: kube-system:daemon-set-controller, workload-high; the simulated kubelets: system:nodes, system).',
    'Simulated agents (one process, one watch, status patch per child, heartbeat Leases) and, for the DaemonSet, simulated kubelets (status patch Running+Ready per pod); no scheduler.',
    'ratio = ours / DaemonSet, of the medians: created = create of the workload (DaemonSet) to the N-th child (pod) seen by a watch; ready = to readyNodes (numberReady) = N.',
    '',
    ...Object.entries(bySize).flatMap(([n, r]) => mdSize(Number(n), r)),
    'Write requests counted at the API server per run are in fanout.json (runs[size][].requests), with APF by priority level (runs[size][].apf).',
    '',
    ...mdMachine(m),
  ].join('\n');
  await writeResults('fanout', json, md);
  console.log(JSON.stringify(json.sizes, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
