// Benchmark (issue 8, #2): fan-out of one workload to N nodes, against
// kube-controller-manager's DaemonSet controller on the same API server, same run.
//
// Cluster: a real etcd + kube-apiserver + kube-controller-manager (stock flags of the
// harness, controllers GC/namespace/serviceaccount + 'daemonset'; kcm's client keeps
// its default --kube-api-qps=20 --kube-api-burst=30), N Node objects (no systemd),
// our controller as its own process (dist/src/controller/main.js, 4 workers), and the
// simulated agents of test/harness/simAgents.ts (one process, one watch on all
// children, acknowledges each child with a status patch appliedHash/phase Running/
// readySince, <= 32 in flight; renews N heartbeat Leases every 10 s throughout BOTH
// measurements, so both run under the same background load).
//
// ours: from the API create of the SystemdWorkload until status.readyNodes == N
//       (also: until the N-th child is created, as the simulated agents' watch sees it).
// daemonset: from the API create of a DaemonSet (trivial pod template) until
//       status.desiredNumberScheduled == currentNumberScheduled == N (also: until the
//       N-th pod is created, by a watch). There is no kubelet or scheduler, so no pod
//       ever runs: the DaemonSet's figure stops at "pods created", ours at "every node
//       reported its units running" (one more write and one more round trip per node).
//       The like-for-like figure is ours-to-N-children vs daemonset-to-N-pods.
// Repetitions alternate the order (ours first, then the DaemonSet first, ...).
//
// Usage: node dist/bench/fanout.js   (env: FANOUT_NODES=1000 FANOUT_REPS=2 FANOUT_HEARTBEAT_S=10)
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, WORKLOAD_KIND, WORKLOAD_PLURAL, type SystemdWorkload } from '../src/api/types.js';
import { Informer } from '../src/kube/informer.js';
import { createLogger } from '../src/observability/log.js';
import { Cluster } from '../test/harness/cluster.js';
import { DEFAULT_CONTROLLERS } from '../test/harness/controlPlane.js';
import { startController, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import { SimAgents } from '../test/harness/simAgents.js';
import {
  WRITE_VERBS, apiRequests, diffRequests, env, machine, mdMachine, mdTable, median, procStats, r3, registerNodes, sleep, writeResults,
  type RequestCounts,
  PRODUCTION_LEASE,
} from './common.js';

const N = env('FANOUT_NODES', 1000);
const REPS = env('FANOUT_REPS', 2);
const HB_S = env('FANOUT_HEARTBEAT_S', 10);
const NS = 'default';
const LABEL = { bench: 'fanout' };
const now = (): number => performance.now();

interface Run { kind: 'ours' | 'daemonset'; rep: number; createdS: number; doneS: number; requests: Record<string, number>; controllerCpuS?: number }

function writesOf(d: RequestCounts): Record<string, number> {
  const o: Record<string, number> = {};
  for (const [k, v] of [...d].sort()) if (WRITE_VERBS.has(k.split('|')[0]!)) o[k] = v;
  return o;
}

async function ours(cluster: Cluster, sim: SimAgents, controller: OperatorProcess, rep: number): Promise<Run> {
  const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
  const name = `fan-${rep}`;
  const body: SystemdWorkload = {
    apiVersion: API_VERSION, kind: WORKLOAD_KIND, metadata: { name, namespace: NS },
    spec: { nodeSelector: LABEL, units: [{ name: 'main', command: ['/bin/sleep', 'infinity'] }] },
  } as SystemdWorkload;
  let seen = 0;
  let tCreated = 0;
  sim.onChildSeen = (c) => {
    if (c.metadata.labels?.[`${GROUP}/workload`] === name && ++seen === N) tCreated = now();
  };
  const before = await apiRequests(cluster.controlPlane);
  const cpu0 = procStats(controller.pid!).cpuSeconds;
  const t0 = now();
  await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, body });
  await waitFor(`${name} readyNodes == ${N}`, async () => {
    const w = (await api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, name })) as SystemdWorkload;
    return w.status?.readyNodes === N ? true : undefined;
  }, 900_000, 100);
  const t1 = now();
  const cpu1 = procStats(controller.pid!).cpuSeconds;
  const after = await apiRequests(cluster.controlPlane);
  sim.onChildSeen = undefined;
  await api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: NS, plural: WORKLOAD_PLURAL, name });
  await waitFor('children garbage-collected', async () => (sim.informer.list().length === 0 ? true : undefined), 900_000, 500);
  return { kind: 'ours', rep, createdS: r3((tCreated - t0) / 1000), doneS: r3((t1 - t0) / 1000), requests: writesOf(diffRequests(before, after)), controllerCpuS: r3(cpu1 - cpu0) };
}

async function daemonset(cluster: Cluster, pods: Informer<k8s.V1Pod>, rep: number): Promise<Run> {
  const apps = cluster.kc.makeApiClient(k8s.AppsV1Api);
  const name = `fan-ds-${rep}`;
  const labels = { app: name };
  let seen = 0;
  let tCreated = 0;
  const onPod = (type: string, p: k8s.V1Pod): void => {
    if (type === 'add' && p.metadata?.labels?.app === name && ++seen === N) tCreated = now();
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
            nodeSelector: LABEL, automountServiceAccountToken: false, terminationGracePeriodSeconds: 0,
            containers: [{ name: 'main', image: 'registry.invalid/sleep:never-pulled', command: ['/bin/sleep', 'infinity'] }],
          },
        },
      },
    },
  });
  await waitFor(`${name} ${N} pods scheduled`, async () => {
    const ds = await apps.readNamespacedDaemonSetStatus({ name, namespace: NS });
    const s = ds.status;
    return s?.desiredNumberScheduled === N && s.currentNumberScheduled === N ? true : undefined;
  }, 900_000, 100);
  const t1 = now();
  const after = await apiRequests(cluster.controlPlane);
  if (seen < N) await waitFor('all pods seen', async () => (seen >= N ? true : undefined), 60_000, 50);
  await apps.deleteNamespacedDaemonSet({ name, namespace: NS, propagationPolicy: 'Background' });
  await waitFor('pods garbage-collected', async () => (pods.list().length === 0 ? true : undefined), 900_000, 500);
  return { kind: 'daemonset', rep, createdS: r3((tCreated - t0) / 1000), doneS: r3((t1 - t0) / 1000), requests: writesOf(diffRequests(before, after)) };
}

async function main(): Promise<void> {
  const m = machine();
  console.log(`fanout: ${N} nodes, ${REPS} reps, load ${String(m.loadavgAtStart)}`);
  const cluster = await Cluster.start({ controllers: [...DEFAULT_CONTROLLERS, 'daemonset'] });
  let controller: OperatorProcess | undefined;
  let sim: SimAgents | undefined;
  let pods: Informer<k8s.V1Pod> | undefined;
  try {
    const names = await registerNodes(cluster.kc, 'fan', N, LABEL);
    // Pods need the namespace's default ServiceAccount (the serviceaccount controller makes it).
    const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
    await waitFor('default ServiceAccount', async () => (await core.readNamespacedServiceAccount({ name: 'default', namespace: NS })) ? true : undefined, 60_000, 200);
    controller = await startController(cluster, { extraArgs: PRODUCTION_LEASE });
    sim = await new SimAgents(cluster.kc, names, { heartbeatPeriodMs: HB_S * 1000 }).start();
    pods = new Informer<k8s.V1Pod>(cluster.kc, { path: `/api/v1/namespaces/${NS}/pods`, apiVersion: 'v1', kind: 'Pod', log: createLogger({ component: 'bench' }, 'warn') });
    await pods.start();
    await sleep(2000);
    const runs: Run[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      const order = rep % 2 === 0 ? ['ours', 'daemonset'] : ['daemonset', 'ours'];
      for (const k of order) {
        const r = k === 'ours' ? await ours(cluster, sim, controller, rep) : await daemonset(cluster, pods, rep);
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
      daemonSetScheduledSeconds: med('daemonset', 'doneS'),
      daemonSetPodsCreatedSeconds: med('daemonset', 'createdS'),
      ratioToDaemonSet: r3(med('ours', 'doneS') / med('daemonset', 'doneS')),
      createdRatioToDaemonSet: r3(med('ours', 'createdS') / med('daemonset', 'createdS')),
      controllerRssMiBAfter: procStats(controller.pid!).rssMiB,
      simAgentStats: sim.stats,
    };
    const json = { machine: m, method: 'see the header of bench/fanout.ts', summary, runs };
    const md = [
      `# fanout: one workload to ${N} nodes vs the DaemonSet controller`, '',
      `Produced by \`node dist/bench/fanout.js\` (\`make bench-fanout\`; env FANOUT_NODES=${N} FANOUT_REPS=${REPS} FANOUT_HEARTBEAT_S=${HB_S}). Method in the header of bench/fanout.ts.`,
      'Simulated agents (one process, one watch, status patch per child, heartbeat Leases); no kubelet or scheduler, so the DaemonSet stops at pods created+counted as scheduled, ours at every node reporting Running.',
      'kube-controller-manager runs with its default client rate limit (--kube-api-qps=20, burst 30); our controller has no client-side limit.', '',
      ...mdTable(['', 'ours (s)', 'DaemonSet (s)', 'ours/DaemonSet'], [
        [`to ${N} children / pods created`, summary.oursChildrenCreatedSeconds, summary.daemonSetPodsCreatedSeconds, summary.createdRatioToDaemonSet],
        [`to done (ours: readyNodes=${N}; DS: currentNumberScheduled=${N})`, summary.oursReadySeconds, summary.daemonSetScheduledSeconds, summary.ratioToDaemonSet],
      ]),
      '', '## Runs', '',
      ...mdTable(['rep', 'kind', 'created (s)', 'done (s)', 'controller CPU (s)'], runs.map((r) => [r.rep, r.kind, r.createdS, r.doneS, r.controllerCpuS])),
      '', 'Write requests counted at the API server per run are in fanout.json (runs[].requests).', '',
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
