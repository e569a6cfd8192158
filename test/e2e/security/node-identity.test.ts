// Node identity: with config/ installed, a token issued for node A's agent may
// write node A's children and is refused on node B's; a token of the agent's
// service account without a node claim writes nothing. Tokens are minted by
// Kubernetes itself (kubectl create token --bound-object-kind Node); the writes
// go through the agent's own client code, as the agent makes them.
import * as k8s from '@kubernetes/client-node';
import path from 'node:path';
import { UNITSET_PLURAL } from '../../../src/api/types.js';
import { CustomObjects } from '../../../src/kube/client.js';
import { errorMessage } from '../../../src/observability/log.js';
import { Cluster } from '../../harness/cluster.js';
import { repoRoot } from '../../harness/binaries.js';
import { waitFor } from '../../harness/process.js';

const NS = 'systemd-workload-operator';

function child(name: string, node: string): string {
  return `
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdUnitSet
metadata: {name: ${name}, namespace: default}
spec:
  nodeName: ${node}
  hash: ${'a'.repeat(64)}
  units:
  - name: main
    type: service
    scheduled: false
    files: [{name: sdw-default_w_main.service, content: "[Service]\\nExecStart=/bin/true\\n"}]
`;
}

describe('agent node identity', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({
      nodes: [
        { name: 'node-a', systemd: false },
        { name: 'node-b', systemd: false },
      ],
    });
    // The whole install as a user applies it (Deployment and DaemonSet included: they never run here).
    await cluster.kubectlOk(['apply', '--server-side', '--force-conflicts', '-k', path.join(repoRoot, 'config', 'default')]);
    // w-probe (node B's) takes the writes that may land before the policy is loaded, so w-b stays untouched.
    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: child('w-a', 'node-a') + '---' + child('w-b', 'node-b') + '---' + child('w-probe', 'node-b'),
    });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function tokenFor(node?: string): Promise<string> {
    const bound = node ? ['--bound-object-kind', 'Node', '--bound-object-name', node] : [];
    return (await cluster.kubectlOk(['create', 'token', 'systemd-workload-agent', '-n', NS, ...bound])).trim();
  }

  async function patchStatusAs(token: string, name: string): Promise<{ code: number; stderr: string }> {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(await cluster.controlPlane.kubeconfigFor(`agent-${token.slice(-8)}`, token));
    try {
      await new CustomObjects(kc, UNITSET_PLURAL).patchStatus('default', name, { status: { phase: 'Running' } });
      return { code: 0, stderr: '' };
    } catch (err) {
      return { code: 1, stderr: errorMessage(err) };
    }
  }

  it("lets node A's agent write node A's child status and refuses node B's", async () => {
    const tokenA = await tokenFor('node-a');
    // The policy is enforced once the API server has loaded it.
    await waitFor('policy enforced', async () => (await patchStatusAs(tokenA, 'w-probe')).code !== 0, 30_000, 500);
    const own = await patchStatusAs(tokenA, 'w-a');
    expect(own.stderr).toBe('');
    expect(own.code).toBe(0);
    const other = await patchStatusAs(tokenA, 'w-b');
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('agent of node node-a may not change SystemdUnitSet w-b of node node-b');
    const phase = await cluster.kubectlOk(['get', 'sdus', 'w-b', '-o', 'jsonpath={.status.phase}']);
    expect(phase).toBe('');
  });

  it("refuses a token of the agent's service account that names no node", async () => {
    const token = await tokenFor();
    const r = await patchStatusAs(token, 'w-a');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('agent token has no node claim');
  });

  it('leaves the controller and admins unaffected', async () => {
    const r = await cluster.kubectl([
      'patch',
      'sdus',
      'w-b',
      '-n',
      'default',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Pending"}}',
    ]);
    expect(r.code).toBe(0);
  });
});
