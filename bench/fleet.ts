// A fleet for the idle and footprint benchmarks: a real control plane, `nodes`
// Node objects served by the simulated agents (test/harness/simAgents.ts), and
// optionally one real sandbox node with the real agent at its production
// cadences; our controller as its own process; `workloads` SystemdWorkloads each
// selecting every node (label bench=fleet), applied and waited for until every
// node is ready.
import * as k8s from '@kubernetes/client-node';
import { API_VERSION, GROUP, VERSION, WORKLOAD_KIND, WORKLOAD_PLURAL, type SystemdWorkload } from '../src/api/types.js';
import { Cluster } from '../test/harness/cluster.js';
import { startAgent, startController, type OperatorProcess } from '../test/harness/operator.js';
import { waitFor } from '../test/harness/process.js';
import { SimAgents, mapLimit } from '../test/harness/simAgents.js';
import {
  apfState,
  benchKubeconfigs,
  benchUsers,
  ensureNodeScript,
  manifestNodeFlags,
  procStats,
  r3,
  registerNodes,
  systemdVersionOf,
  PRODUCTION_LEASE,
} from './common.js';

export const FLEET_LABEL = { bench: 'fleet' };
export const REAL_NODE = 'real-1';
export const NS = 'default';

/**
 * Node's flags for the controller: the Deployment's (config/manager/controller.yaml), so the
 * controller runs as in a cluster; FLEET_CONTROLLER_NODE_FLAGS='--flag ...' replaces them (an experiment).
 */
export function controllerNodeFlags(): string[] {
  const override = process.env.FLEET_CONTROLLER_NODE_FLAGS;
  return override !== undefined ? override.split(/\s+/).filter(Boolean) : manifestNodeFlags('config/manager/controller.yaml');
}

export interface Fleet {
  cluster: Cluster;
  controller: OperatorProcess;
  agent?: OperatorProcess;
  sim: SimAgents;
  simNodes: string[];
  workloadNames: string[];
  systemdVersion?: string;
  /** API Priority and Fairness as the API server reports it (bench/common.ts apfState). */
  apf: Awaited<ReturnType<typeof apfState>>;
  /**
   * The fan-out, from the first workload created to every node ready: its wall time
   * and the controller process's CPU seconds (/proc utime+stime) over it: the
   * reconciles that create the children and fold their status, with the watch
   * decoding that feeds them.
   */
  fanOut: { seconds: number; controllerCpuSeconds: number };
  stop(): Promise<void>;
}

export function workloadBody(name: string, selector: Record<string, string>, units = 1, arg = 'infinity'): SystemdWorkload {
  return {
    apiVersion: API_VERSION,
    kind: WORKLOAD_KIND,
    metadata: { name, namespace: NS },
    spec: {
      nodeSelector: selector,
      units: Array.from({ length: units }, (_, i) => ({ name: `u${i}`, command: ['/bin/sleep', arg] })),
    },
  };
}

export async function getWorkload(cluster: Cluster, name: string): Promise<SystemdWorkload> {
  const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
  return (await api.getNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace: NS,
    plural: WORKLOAD_PLURAL,
    name,
  })) as SystemdWorkload;
}

export async function startFleet(opts: {
  nodes: number;
  workloads: number;
  realNode: boolean;
  heartbeatPeriodMs: number;
  extraNodeLabels?: (i: number) => Record<string, string>;
  /** More flags for the controller (e.g. --kube-api-qps=0 to create the children fast). */
  controllerArgs?: string[];
}): Promise<Fleet> {
  if (opts.realNode) ensureNodeScript();
  // APF on, as in every cluster, and the controller and the simulated agents with their cluster
  // identities (ServiceAccounts: APF's workload-low), as bench/fanout.ts.
  const users = benchUsers();
  const cluster = await Cluster.start({
    nodes: opts.realNode ? [{ name: REAL_NODE, labels: FLEET_LABEL }] : [],
    priorityAndFairness: true,
    users: Object.values(users),
  });
  const stops: Array<() => Promise<void> | void> = [() => cluster.stop()];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s();
  };
  try {
    const apf = await apfState(cluster.controlPlane);
    if (!apf.enabled) throw new Error(`APF is not on in the benchmark's API server: ${JSON.stringify(apf)}`);
    const kubeconfigs = await benchKubeconfigs(cluster, users);
    const simNodes = await registerNodes(cluster.kc, 'sim', opts.nodes, FLEET_LABEL);
    if (opts.extraNodeLabels) {
      const core = cluster.kc.makeApiClient(k8s.CoreV1Api);
      const mp = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);
      await mapLimit(
        simNodes.map((n, i) => [n, opts.extraNodeLabels!(i)] as const).filter(([, l]) => Object.keys(l).length > 0),
        32,
        ([name, labels]) => core.patchNode({ name, body: { metadata: { labels } } }, mp),
      );
    }
    // One replica, no election: on this shared 2-core machine at load 20 the API server answered
    // a lease renewal in > 8 s, the controller lost the lease and exited (by design), twice,
    // which ended the fleet benchmarks; election is not what they measure.
    const controller = await startController(cluster, {
      leaderElect: false,
      extraArgs: [...PRODUCTION_LEASE, ...(opts.controllerArgs ?? [])],
      nodeArgs: controllerNodeFlags(),
      kubeconfig: kubeconfigs.controller.path,
    });
    stops.push(() => controller.stop());
    let agent: OperatorProcess | undefined;
    let systemdVersion: string | undefined;
    if (opts.realNode) {
      const node = cluster.node(REAL_NODE);
      systemdVersion = await systemdVersionOf((...a) => node.busctl(...a));
      agent = await startAgent(cluster, REAL_NODE, { usagePeriodSeconds: 30, heartbeatPeriodSeconds: 10, resyncPeriodSeconds: 60 });
      stops.push(() => agent!.stop());
    }
    const sim = await new SimAgents(kubeconfigs.agents.kc, simNodes, {
      nodes: new Set(simNodes),
      heartbeatPeriodMs: opts.heartbeatPeriodMs,
    }).start();
    stops.push(() => sim.stop());
    const api = cluster.kc.makeApiClient(k8s.CustomObjectsApi);
    const workloadNames = Array.from({ length: opts.workloads }, (_, i) => `fleet-${i}`);
    const want = opts.nodes + (opts.realNode ? 1 : 0);
    const cpu0 = procStats(controller.pid!).cpuSeconds;
    const t0 = Date.now();
    for (const name of workloadNames) {
      await api.createNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: NS,
        plural: WORKLOAD_PLURAL,
        body: workloadBody(name, FLEET_LABEL),
      });
    }
    await waitFor(
      `${opts.workloads} workloads x ${want} nodes ready`,
      async () => {
        for (const name of workloadNames) if ((await getWorkload(cluster, name)).status?.readyNodes !== want) return undefined;
        return true;
      },
      1_800_000,
      2000,
    );
    const fanOut = { seconds: r3((Date.now() - t0) / 1000), controllerCpuSeconds: r3(procStats(controller.pid!).cpuSeconds - cpu0) };
    return { cluster, controller, agent, sim, simNodes, workloadNames, systemdVersion, apf, fanOut, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
