// Node identity with the tokens a real kubelet issues: the service-account
// token mounted in the agent pod on node A (read from inside the pod, as a
// compromised agent could) carries node A, may write node A's child status and
// is refused on node B's by config/policy/agent_node_identity.yaml. The writes
// go through the agent's own client code, as the agent makes them.
import * as k8s from '@kubernetes/client-node';
import { UNITSET_PLURAL } from '../../../src/api/types.js';
import { CustomObjects } from '../../../src/kube/client.js';
import { errorMessage } from '../../../src/observability/log.js';
import { apply, waitForWorkload } from '../../harness/assertions.js';
import type { Cluster } from '../../harness/cluster.js';
import { agentPods, sleepWorkload, startDeployedOperator } from '../../harness/deployOperator.js';
import { OPERATOR_NAMESPACE } from '../../harness/operator.js';
import { getChild } from '../../harness/agentHelpers.js';

const WORKLOAD = sleepWorkload('ident');

describe('agent node identity with kubelet-issued pod tokens', () => {
  let cluster: Cluster;
  let tokenA = '';
  beforeAll(async () => {
    ({ cluster } = await startDeployedOperator(['node-a', 'node-b']));
    await apply(cluster, WORKLOAD);
    await waitForWorkload(cluster, 'ident', 'Running on both nodes', (w) => w.status?.readyNodes === 2, 180_000);
    const podA = (await agentPods(cluster)).get('node-a')!;
    tokenA = (
      await cluster.kubectlOk([
        'exec',
        '-n',
        OPERATOR_NAMESPACE,
        podA.metadata.name,
        '--',
        'cat',
        '/var/run/secrets/kubernetes.io/serviceaccount/token',
      ])
    ).trim();
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function asAgentA(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return cluster.kubectl(args, { kubeconfig: await cluster.controlPlane.kubeconfigFor('agent-a', tokenA) });
  }

  /**
   * A merge patch of the child's status that restates its phase (allowed or
   * refused, it changes nothing), sent as the agent sends it: the agent's own
   * client, PATCH only (the agent's role has no get on the status subresource,
   * which kubectl patch would read first).
   */
  async function restatePhase(node: string): Promise<{ code: number; stderr: string }> {
    const child = (await getChild(cluster, 'ident', node))!;
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(await cluster.controlPlane.kubeconfigFor('agent-a', tokenA));
    try {
      await new CustomObjects(kc, UNITSET_PLURAL).patchStatus('default', child.metadata.name!, { status: { phase: child.status?.phase } });
      return { code: 0, stderr: '' };
    } catch (err) {
      return { code: 1, stderr: errorMessage(err) };
    }
  }

  it('is the agent service account, bound to the pod on node A', async () => {
    const who = JSON.parse((await asAgentA(['auth', 'whoami', '-o', 'json'])).stdout) as {
      status: { userInfo: { username: string; extra?: Record<string, string[]> } };
    };
    expect(who.status.userInfo.username).toBe(`system:serviceaccount:${OPERATOR_NAMESPACE}:systemd-workload-agent`);
    expect(who.status.userInfo.extra?.['authentication.kubernetes.io/node-name']).toEqual(['node-a']);
  });

  it("may patch node A's SystemdUnitSet status", async () => {
    const r = await restatePhase('node-a');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it("is refused for node B's SystemdUnitSet status", async () => {
    const r = await restatePhase('node-b');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/agent of node node-a may not change SystemdUnitSet \S+ of node node-b/);
  });
});
