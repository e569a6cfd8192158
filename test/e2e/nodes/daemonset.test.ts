// Installed as a user installs it, on nodes with a real kubelet: the
// project's image loaded into each node's containerd, `kubectl apply -k` of
// config/default with the image replaced. The agent runs as its DaemonSet pod
// on every node, the controller as its Deployment, and a workload's units run
// on each node's own systemd, probed where they listen. A file a policy allows
// outside /etc/sdw is written through the agent's /host mount, the host's /.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { apply, activeState, waitForWorkload } from '../../harness/assertions.js';
import { getChild } from '../../harness/agentHelpers.js';
import type { Cluster } from '../../harness/cluster.js';
import { agentPods, sleepWorkload, startDeployedOperator, type ProjectImage } from '../../harness/deployOperator.js';
import { OPERATOR_NAMESPACE } from '../../harness/operator.js';
import { waitFor } from '../../harness/process.js';
import { createNamespace, policyManifest, waitForAdmission } from '../security/helpers.js';

const execFileP = promisify(execFile);

const NODES = ['node-a', 'node-b'];
const UNIT = 'sdw-default_hello_main.service';
const WORKLOAD = sleepWorkload('hello');

describe('operator installed with kubectl apply -k onto kubelet nodes', () => {
  let cluster: Cluster;
  let image: ProjectImage;
  beforeAll(async () => {
    // /srv is each node's own: a file written there lands in the node's directory, never the host's /srv.
    ({ cluster, image } = await startDeployedOperator(NODES, ['/srv']));
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

  it('writes a file a policy allows outside /etc/sdw through the host mount, where the unit reads it on each node', async () => {
    const ns = 'paths';
    const fileWorkload = (name: string, filePath: string): string =>
      JSON.stringify({
        apiVersion: 'systemd.operators.dev/v1alpha1',
        kind: 'SystemdWorkload',
        metadata: { name, namespace: ns },
        spec: {
          files: [{ name: 'conf', path: filePath, mode: '0640', content: `written for ${name}\n` }],
          units: [
            {
              name: 'main',
              user: 'nobody',
              command: ['/bin/sh', '-c', `cat ${filePath}; exec sleep infinity`],
              files: [{ name: 'conf' }],
            },
          ],
        },
      });
    // The cluster admin's two decisions (the label, the policy's prefix) and the directory on each node.
    await createNamespace(cluster, ns, { 'systemd.operators.dev/allow-file-paths': 'true' });
    await cluster.kubectlOk(['apply', '-f', '-'], { input: policyManifest('paths', { namespaces: [ns], allowedFilePaths: ['/srv/app'] }) });
    await waitForAdmission(cluster, fileWorkload('probe', '/srv/other/x'));
    for (const n of NODES) mkdirSync(path.join(cluster.node(n).nodeRoot, 'srv', 'app'));

    await apply(cluster, fileWorkload('web', '/srv/app/web.conf'));
    await waitForWorkload(cluster, 'web', 'ready on both nodes', (w) => w.status?.readyNodes === 2, 120_000, ns);
    const { stdout: nobody } = await execFileP('id', ['-u', 'nobody']);
    for (const n of NODES) {
      const node = cluster.node(n);
      const file = path.join(node.nodeRoot, 'srv', 'app', 'web.conf');
      const st = statSync(file);
      expect({ node: n, content: readFileSync(file, 'utf8'), mode: (st.mode & 0o7777).toString(8), uid: st.uid }).toEqual({
        node: n,
        content: 'written for web\n',
        mode: '640',
        uid: Number(nobody.trim()),
      });
      await waitFor(
        `the unit on ${n} printed the file it read`,
        async () =>
          (
            await execFileP('journalctl', ['-D', node.journalDir, '-u', `sdw-${ns}_web_main.service`, '-o', 'cat', '--no-pager'])
          ).stdout.includes('written for web'),
        30_000,
        500,
      );
      // The agent's record of what it wrote, in its state directory on the node.
      const record = JSON.parse(readFileSync(path.join(node.dir, 'agent-state', 'written-files.json'), 'utf8')) as object;
      expect(Object.keys(record)).toEqual(['/srv/app/web.conf']);
    }

    // Written through each node's own /srv, not the machine's.
    expect(existsSync('/srv/app/web.conf')).toBe(false);

    await cluster.kubectlOk(['delete', 'sdw', 'web', '-n', ns, '--wait=true', '--timeout=90s']);
    for (const n of NODES) {
      const dir = path.join(cluster.node(n).nodeRoot, 'srv', 'app');
      await waitFor(`web.conf removed on ${n}`, async () => readdirSync(dir).length === 0, 60_000, 250);
    }
  });
});
