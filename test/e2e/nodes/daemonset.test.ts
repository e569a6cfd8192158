// Installed as a user installs it, on nodes with a real kubelet: the
// project's image loaded into each node's containerd, `kubectl apply -k` of
// config/default with the image replaced. The agent runs as its DaemonSet pod
// on every node, the controller as its Deployment, and a workload's units run
// on each node's own systemd, probed where they listen.
import { apply, activeState, waitForWorkload } from '../../harness/assertions.js';
import { getChild } from '../../harness/agentHelpers.js';
import type { Cluster } from '../../harness/cluster.js';
import { agentPods, sleepWorkload, startDeployedOperator, type ProjectImage } from '../../harness/deployOperator.js';
import { OPERATOR_NAMESPACE } from '../../harness/operator.js';

const NODES = ['node-a', 'node-b'];
const UNIT = 'sdw-default_hello_main.service';
const WORKLOAD = sleepWorkload('hello');

describe('operator installed with kubectl apply -k onto kubelet nodes', () => {
  let cluster: Cluster;
  let image: ProjectImage;
  beforeAll(async () => {
    ({ cluster, image } = await startDeployedOperator(NODES));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs one ready agent pod per node from the project image, and the controller as its Deployment', async () => {
    const pods = await agentPods(cluster);
    expect([...pods.keys()].sort()).toEqual(NODES);
    for (const p of pods.values()) {
      expect(p.status.containerStatuses?.[0]?.ready).toBe(true);
      expect(p.status.containerStatuses?.[0]?.image).toBe(image.ref);
    }
    const ready = await cluster.kubectlOk([
      'get',
      'deployment',
      'systemd-workload-controller',
      '-n',
      OPERATOR_NAMESPACE,
      '-o',
      'jsonpath={.status.readyReplicas}',
    ]);
    expect(Number(ready)).toBeGreaterThanOrEqual(1);
  });

  it("runs a workload's units on both nodes, as each node's systemd reports them", async () => {
    await apply(cluster, WORKLOAD);
    const w = await waitForWorkload(
      cluster,
      'hello',
      'Running on both nodes',
      (x) => x.status?.phase === 'Running' && x.status.readyNodes === 2,
      180_000,
    );
    expect(w.status?.desiredNodes).toBe(2);
    for (const n of NODES) expect({ node: n, state: await activeState(cluster.node(n), UNIT) }).toEqual({ node: n, state: 'active' });
  });

  it("probes a unit's port on its node: the agent pod shares the node's network (hostNetwork)", async () => {
    // The server listens on the node's loopback only; from a pod network it could not be reached.
    const port = 18090;
    await apply(
      cluster,
      JSON.stringify({
        apiVersion: 'systemd.operators.dev/v1alpha1',
        kind: 'SystemdWorkload',
        metadata: { name: 'web', namespace: 'default' },
        spec: {
          units: [
            {
              name: 'server',
              dynamicUser: true,
              command: ['/usr/bin/python3', '-m', 'http.server', '--bind', '127.0.0.1', String(port)],
              readinessProbe: { httpGet: { port }, periodSeconds: 1 },
            },
          ],
        },
      }),
    );
    await waitForWorkload(
      cluster,
      'web',
      'ready on both nodes',
      (x) => x.status?.phase === 'Running' && x.status.readyNodes === 2,
      120_000,
    );
    for (const n of NODES) {
      expect((await getChild(cluster, 'web', n))?.status?.units?.[0]).toMatchObject({
        ready: true,
        probes: { readiness: { result: 'Success', message: `GET http://127.0.0.1:${port}/: HTTP 200` } },
      });
    }
  });
});
