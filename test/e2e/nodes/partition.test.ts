// A network partition, as a real cluster sees it: one kubelet node's link is
// cut for 2 minutes. Its kubelet misses its heartbeats, so the node lifecycle
// controller marks the Node Unknown and taints it unreachable. Nothing on the
// node is stopped: its units keep the same invocation, the agent pod (which
// tolerates every taint) is not evicted, and the child is not removed. After
// the link is back, the workload's status catches up.
import { apply, waitForWorkload } from '../../harness/assertions.js';
import type { Cluster } from '../../harness/cluster.js';
import { agentPods, sleepWorkload, startDeployedOperator } from '../../harness/deployOperator.js';
import { childIds, snapshotUnits, unitsChangedSince } from '../../harness/faults.js';
import { delay, waitFor } from '../../harness/process.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const PARTITION_MS = 120_000;
const WORKLOAD = sleepWorkload('steady');
const runningOnBoth = (w: SystemdWorkload): boolean =>
  w.status?.phase === 'Running' && w.status.readyNodes === 2 && (w.status.unknownNodes ?? 0) === 0;

interface NodeView {
  ready: string;
  taints: string[];
}

async function nodeView(cluster: Cluster, name: string): Promise<NodeView> {
  const node = JSON.parse(await cluster.kubectlOk(['get', 'node', name, '-o', 'json'])) as {
    spec: { taints?: Array<{ key: string; effect: string }> };
    status: { conditions: Array<{ type: string; status: string }> };
  };
  return {
    ready: node.status.conditions.find((c) => c.type === 'Ready')?.status ?? '',
    taints: (node.spec.taints ?? []).map((t) => `${t.key}:${t.effect}`).sort(),
  };
}

describe('a kubelet node cut off for 2 minutes', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    ({ cluster } = await startDeployedOperator(['node-a', 'node-b']));
    await apply(cluster, WORKLOAD);
    await waitForWorkload(cluster, 'steady', 'Running on both nodes', runningOnBoth, 180_000);
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('goes Unknown with the unreachable taints, keeps its agent pod and units, and its status catches up after healing', async () => {
    const units = await snapshotUnits(cluster, ['node-b']);
    expect(units).toHaveLength(1);
    const children = await childIds(cluster);
    const podBefore = (await agentPods(cluster)).get('node-b')!;

    const cutAt = Date.now();
    await cluster.kubeletNode('node-b').partition(true);
    let healed = false;
    try {
      // Seen from the API server, by the node lifecycle controller's own marks.
      const cutOff = await waitFor(
        'node-b Unknown and tainted unreachable',
        async () => {
          const v = await nodeView(cluster, 'node-b');
          return v.ready === 'Unknown' && v.taints.includes('node.kubernetes.io/unreachable:NoExecute') ? v : undefined;
        },
        PARTITION_MS,
        1000,
      );
      const unknownAfterMs = Date.now() - cutAt;
      expect(cutOff.taints).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
      // The other node is untouched.
      expect((await nodeView(cluster, 'node-a')).ready).toBe('True');
      // The controller reads the silent agent's node as unknown, and removes nothing.
      await waitForWorkload(cluster, 'steady', 'node-b unknown', (w) => (w.status?.unknownNodes ?? 0) === 1, PARTITION_MS);

      await delay(Math.max(0, PARTITION_MS - (Date.now() - cutAt)));
      // Still cut off: the units are the same invocations, the agent pod the same pod, the children the same objects.
      expect(await unitsChangedSince(cluster, units)).toEqual([]);
      const podDuring = (await agentPods(cluster)).get('node-b');
      expect(podDuring?.metadata.uid).toBe(podBefore.metadata.uid);
      expect(await childIds(cluster)).toEqual(children);

      await cluster.kubeletNode('node-b').partition(false);
      healed = true;
      const healedAt = Date.now();
      // The workload's status (the agent's heartbeat and report) and the Node's
      // Ready (the kubelet's, then the node lifecycle controller's) heal apart:
      // each is timed from the heal on its own.
      await waitForWorkload(cluster, 'steady', 'caught up on both nodes', runningOnBoth, 120_000);
      const statusCaughtUpAfterHealMs = Date.now() - healedAt;
      await waitFor('node-b Ready again', async () => (await nodeView(cluster, 'node-b')).ready === 'True', 120_000, 1000);
      const nodeReadyAfterHealMs = Date.now() - healedAt;
      console.log(`PARTITION-RESULT ${JSON.stringify({ unknownAfterMs, statusCaughtUpAfterHealMs, nodeReadyAfterHealMs })}`);
    } finally {
      if (!healed) await cluster.kubeletNode('node-b').partition(false);
    }

    expect(await unitsChangedSince(cluster, units)).toEqual([]);
    const podAfter = (await agentPods(cluster)).get('node-b')!;
    expect(podAfter.metadata.uid).toBe(podBefore.metadata.uid);
    expect(podAfter.status.containerStatuses?.[0]?.restartCount).toBe(podBefore.status.containerStatuses?.[0]?.restartCount);
    expect(await childIds(cluster)).toEqual(children);
  });
});
