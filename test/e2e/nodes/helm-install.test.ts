// Installed the other way users install it: a real `helm install` of the chart
// onto nodes with a real kubelet, the project's image loaded into each node's
// containerd and named by --set. helm --wait returns once the controller Deployment
// is ready and the agent DaemonSet is within its maxUnavailable; `kubectl rollout
// status` then sees every agent ready, and a workload runs on every node.
import { activeState, apply, waitForWorkload } from '../../harness/assertions.js';
import { Cluster } from '../../harness/cluster.js';
import {
  AGENT_DAEMONSET,
  agentPods,
  projectImage,
  sleepWorkload,
  splitRef,
  waitRolledOut,
  type ProjectImage,
} from '../../harness/deployOperator.js';
import { CHART_DIR, helmOk } from '../../harness/helm.js';
import { OPERATOR_NAMESPACE } from '../../harness/operator.js';

const NODES = ['node-a', 'node-b'];
const UNIT = 'sdw-default_from-helm_main.service';

describe('operator installed with helm install onto kubelet nodes', () => {
  let cluster: Cluster;
  let image: ProjectImage;
  beforeAll(async () => {
    image = projectImage();
    cluster = await Cluster.start({ kubeletNodes: NODES.map((name) => ({ name })) });
    await Promise.all([...cluster.kubeletNodes.values()].map((n) => n.importImage(image.archive)));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it("installs with --wait: one ready agent pod per node from the project image, and a workload's units run on both nodes", async () => {
    const { name, tag } = splitRef(image.ref);
    const kube = { kubeconfig: cluster.kubeconfigPath };
    await helmOk(
      [
        'install',
        'sdw',
        CHART_DIR,
        '--namespace',
        OPERATOR_NAMESPACE,
        '--create-namespace',
        '--set',
        `image.repository=${name}`,
        '--set',
        `image.tag=${tag}`,
        '--wait',
        '--timeout',
        '5m',
      ],
      kube,
    );
    const status = await helmOk(['status', 'sdw', '--namespace', OPERATOR_NAMESPACE], kube);
    expect(status).toMatch(/STATUS: deployed/);
    // helm --wait counts a DaemonSet ready with desired - maxUnavailable pods ready
    // (helm's pkg/kube/ready.go), so one of two agents may still be starting: wait as a
    // user does, with `kubectl rollout status`, which waits for every pod.
    await waitRolledOut(cluster, 'daemonset', AGENT_DAEMONSET);

    const pods = await agentPods(cluster);
    expect([...pods.keys()].sort()).toEqual(NODES);
    for (const p of pods.values()) {
      // On failure, the container's state says why (a restart, a failing probe).
      const cs = p.status.containerStatuses?.[0];
      expect({
        pod: p.metadata.name,
        ready: cs?.ready,
        restartCount: cs?.restartCount,
        state: cs?.state,
        lastState: cs?.lastState,
      }).toMatchObject({
        ready: true,
      });
      expect(p.spec.containers[0]?.image).toBe(image.ref);
    }

    await apply(cluster, sleepWorkload('from-helm'));
    const w = await waitForWorkload(
      cluster,
      'from-helm',
      'Running on both nodes',
      (x) => x.status?.phase === 'Running' && x.status.readyNodes === 2,
      180_000,
    );
    expect(w.status?.desiredNodes).toBe(2);
    for (const n of NODES) expect({ node: n, state: await activeState(cluster.node(n), UNIT) }).toEqual({ node: n, state: 'active' });
  });
});
