// The shape most end-to-end files share: a cluster of sandbox nodes with the
// real controller and one real agent per node, stopped in reverse order.
import { Cluster, type ClusterOptions } from './cluster.js';
import { startAgent, startController, type OperatorProcess } from './operator.js';

export interface OperatorCluster {
  cluster: Cluster;
  controller: OperatorProcess;
  agents: OperatorProcess[];
  /** Agents, then the controller, then the cluster; safe after a failed start. */
  stop(): Promise<void>;
}

export async function startOperatorCluster(opts: ClusterOptions): Promise<OperatorCluster> {
  const cluster = await Cluster.start(opts);
  const agents: OperatorProcess[] = [];
  let controller: OperatorProcess | undefined;
  const stop = async () => {
    for (const a of agents) await a.stop();
    await controller?.stop();
    await cluster.stop();
  };
  try {
    controller = await startController(cluster);
    for (const n of opts.nodes ?? []) agents.push(await startAgent(cluster, n.name));
  } catch (err) {
    await stop();
    throw err;
  }
  return { cluster, controller, agents, stop };
}
