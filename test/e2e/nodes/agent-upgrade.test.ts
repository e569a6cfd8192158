// Upgrading the agent costs the workloads nothing: the DaemonSet rolled to a
// new image tag (the same archive under a new name, loaded into each node),
// and an agent pod deleted, leave every unit the same systemd invocation with
// no restart.
import { apply, waitForWorkload } from '../../harness/assertions.js';
import type { Cluster } from '../../harness/cluster.js';
import {
  AGENT_DAEMONSET,
  agentPods,
  sleepWorkload,
  splitRef,
  startDeployedOperator,
  waitRolledOut,
  type ProjectImage,
} from '../../harness/deployOperator.js';
import { snapshotUnits, unitsChangedSince, type UnitSnapshot } from '../../harness/faults.js';
import { OPERATOR_NAMESPACE } from '../../harness/operator.js';
import { waitFor } from '../../harness/process.js';

const NODES = ['node-a', 'node-b'];
const WORKLOAD = sleepWorkload('calm', ['main', 'side']);

describe('agent upgrade on kubelet nodes', () => {
  let cluster: Cluster;
  let image: ProjectImage;
  let units: UnitSnapshot[];
  beforeAll(async () => {
    ({ cluster, image } = await startDeployedOperator(NODES));
    await apply(cluster, WORKLOAD);
    await waitForWorkload(
      cluster,
      'calm',
      'Running on both nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
      180_000,
    );
    units = await snapshotUnits(cluster, NODES);
    expect(units).toHaveLength(4);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('rolls the DaemonSet to a new image tag with 0 unit restarts', async () => {
    const before = await agentPods(cluster);
    const next = `${splitRef(image.ref).name}:e2e-next`;
    for (const n of cluster.kubeletNodes.values()) await n.tagImage(image.ref, next);
    await cluster.kubectlOk(['set', 'image', `daemonset/${AGENT_DAEMONSET}`, '-n', OPERATOR_NAMESPACE, `agent=${next}`]);
    await waitRolledOut(cluster, 'daemonset', AGENT_DAEMONSET);
    const after = await agentPods(cluster);
    for (const n of NODES) {
      // The pod's spec names the new tag (its status may show either tag: both name the same image digest).
      expect(after.get(n)?.spec.containers[0]?.image).toBe(next);
      expect(after.get(n)?.status.containerStatuses?.[0]?.ready).toBe(true);
      expect(after.get(n)?.metadata.uid).not.toBe(before.get(n)?.metadata.uid);
    }
    expect(await unitsChangedSince(cluster, units)).toEqual([]);
    await waitForWorkload(
      cluster,
      'calm',
      'Running on both nodes, no restarts',
      (w) => w.status?.readyNodes === 2 && (w.status.restarts ?? 0) === 0,
    );
  });

  it('replaces a deleted agent pod with 0 unit restarts', async () => {
    const old = (await agentPods(cluster)).get('node-a')!;
    await cluster.kubectlOk(['delete', 'pod', '-n', OPERATOR_NAMESPACE, old.metadata.name, '--wait=true']);
    await waitFor(
      'a new ready agent pod on node-a',
      async () => {
        const p = (await agentPods(cluster)).get('node-a');
        return p && p.metadata.uid !== old.metadata.uid && p.status.containerStatuses?.[0]?.ready ? p : undefined;
      },
      120_000,
      500,
    );
    expect(await unitsChangedSince(cluster, units)).toEqual([]);
    await waitForWorkload(
      cluster,
      'calm',
      'Running on both nodes, no restarts',
      (w) => w.status?.readyNodes === 2 && (w.status.restarts ?? 0) === 0,
    );
  });
});
