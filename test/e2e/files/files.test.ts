// Files, change behaviour and secrets (issue 15), on two real systemd nodes with
// the real controller and agents, kubectl as the client: a ConfigMap edit restarts
// only the unit that uses it (restart) and reloads the one that asks for a reload
// (same InvocationID); a Secret reaches a named user's unit as a 0600 file it owns
// and a dynamic user's unit as an environment variable and as a credential
// (LoadCredential=), and appears in no SystemdUnitSet; node B's agent,
// with its own node-bound token, can neither read the Secret through the API
// server nor open what the controller sealed for node A.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { UNITSET_PLURAL, type SystemdUnitSet } from '../../../src/api/types.js';
import { CustomObjects } from '../../../src/kube/client.js';
import { errorMessage } from '../../../src/observability/log.js';
import { nodeKeyFromPem, open, sealAad } from '../../../src/sealing/seal.js';
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, invocationId, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { agentTokenForNode, getChild } from '../../harness/agentHelpers.js';
import { kubectlSdw } from '../../harness/cliHelpers.js';
import { waitFor } from '../../harness/process.js';

const execFileP = promisify(execFile);
const NODES = ['fa', 'fb'];
const TOKEN = 'tok-Very-Secret-4711';
const DIR = '/etc/sdw/default/cfgapp';

const manifest = (o: object): string => JSON.stringify(o);
const workload = (name: string, spec: object): string =>
  manifest({ apiVersion: 'systemd.operators.dev/v1alpha1', kind: 'SystemdWorkload', metadata: { name, namespace: 'default' }, spec });

describe('files, change behaviour and secrets on real nodes', () => {
  let operator: OperatorCluster | undefined;
  let cluster: Cluster;

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: NODES.map((name) => ({ name, labels: { site: name } })) });
    cluster = operator.cluster;
    await apply(
      cluster,
      manifest({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'default' }, data: { 'app.conf': 'v1' } }),
    );
    await apply(
      cluster,
      manifest({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tok', namespace: 'default' }, stringData: { token: TOKEN } }),
    );
  });

  afterAll(async () => {
    await operator?.stop();
  });

  const journal = async (node: string, unit: string): Promise<string> => {
    const { stdout } = await execFileP('journalctl', ['-D', cluster.node(node).journalDir, '-u', unit, '-o', 'cat', '--no-pager']);
    return stdout;
  };

  it('a ConfigMap edit restarts only the unit that uses it, and reloads the reload-mode one in place, node by node', async () => {
    await apply(
      cluster,
      workload('cfgapp', {
        files: [{ name: 'conf', path: `${DIR}/app.conf`, configMapKeyRef: { name: 'cfg', key: 'app.conf' } }],
        units: [
          { name: 'web', user: 'nobody', command: ['/bin/sleep', 'infinity'], files: [{ name: 'conf' }] },
          {
            name: 'rel',
            user: 'nobody',
            reload: { signal: 'HUP' },
            files: [{ name: 'conf', changeMode: 'reload' }],
            command: ['/bin/sh', '-c', `trap 'echo "reloaded: $(cat ${DIR}/app.conf)"' HUP; while :; do sleep 1 & wait; done`],
          },
          { name: 'other', dynamicUser: true, command: ['/bin/sleep', 'infinity'] },
        ],
      }),
    );
    const first = await waitForWorkload(cluster, 'cfgapp', 'ready on both nodes', (w) => w.status?.readyNodes === 2, 120_000);
    const unit = (u: string) => `sdw-default_cfgapp_${u}.service`;
    const before: Record<string, Record<string, string>> = {};
    for (const n of NODES) {
      const node = cluster.node(n);
      expect(readFileSync(path.join(node.filesDir, 'default/cfgapp/app.conf'), 'utf8')).toBe('v1');
      before[n] = {};
      for (const u of ['web', 'rel', 'other']) before[n][u] = await invocationId(node, unit(u));
    }

    await cluster.kubectlOk(['patch', 'configmap', 'cfg', '--type', 'merge', '-p', '{"data":{"app.conf":"v2"}}']);
    await waitForWorkload(
      cluster,
      'cfgapp',
      'the edit rolled out and ready',
      // A new hash: the edit is part of the spec the nodes must apply (the old status would pass otherwise).
      (w) => w.status?.updatedNodes === 2 && w.status?.readyNodes === 2 && w.status?.hash !== first.status?.hash,
      120_000,
    );
    for (const n of NODES) {
      const node = cluster.node(n);
      await waitFor(`${n}: web restarted`, async () => (await invocationId(node, unit('web'))) !== before[n]!.web, 60_000, 250);
      await waitFor(`${n}: rel reloaded`, async () => (await journal(n, unit('rel'))).includes('reloaded: v2'), 60_000, 500);
      expect(readFileSync(path.join(node.filesDir, 'default/cfgapp/app.conf'), 'utf8')).toBe('v2');
      expect(await invocationId(node, unit('rel'))).toBe(before[n]!.rel);
      expect(await invocationId(node, unit('other'))).toBe(before[n]!.other);
      expect(await unitProperty(node, unit('rel'), 'Unit', 'ActiveState')).toBe('active');
    }
  });

  it("a Secret reaches a unit as a 0600 file its user owns and a dynamic user's unit as an environment variable and a credential, on node A only, and in no SystemdUnitSet", async () => {
    await apply(
      cluster,
      workload('sec', {
        nodeSelector: { site: 'fa' },
        files: [{ name: 'token', path: '/etc/sdw/default/sec/token', secretKeyRef: { name: 'tok', key: 'token' } }],
        units: [
          {
            name: 'use',
            dynamicUser: true,
            env: [{ name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'tok', key: 'token' } } }],
            files: [{ name: 'token' }],
            command: [
              '/bin/sh',
              '-c',
              'echo "env-sha: $(printf %s "$TOKEN" | sha256sum | cut -c1-64)"; echo "cred-sha: $(sha256sum < "$CREDENTIALS_DIRECTORY/token" | cut -c1-64)"; exec sleep infinity',
            ],
          },
          {
            name: 'reader',
            user: 'nobody',
            files: [{ name: 'token' }],
            command: ['/bin/sh', '-c', 'echo "file-sha: $(sha256sum < /etc/sdw/default/sec/token | cut -c1-64)"; exec sleep infinity'],
          },
        ],
      }),
    );
    await waitForWorkload(cluster, 'sec', 'ready on node A', (w) => w.status?.readyNodes === 1, 120_000);
    const sha = createHash('sha256').update(TOKEN).digest('hex');
    const reported = (unit: string, what: string) =>
      waitFor(
        `${unit} reported ${what}`,
        async () => {
          const j = await journal('fa', `sdw-default_sec_${unit}.service`);
          return j.includes(`${what}:`) ? j : undefined;
        },
        30_000,
        500,
      );
    // The dynamic user's unit has the value in its environment (from a 0600 EnvironmentFile systemd reads).
    expect(await reported('use', 'env-sha')).toContain(`env-sha: ${sha}`);
    // ... and the file as its own credential (LoadCredential=: systemd's copy, which only that user reads).
    expect(await reported('use', 'cred-sha')).toContain(`cred-sha: ${sha}`);
    // The named user's unit reads its file: 0600, owned by that user.
    expect(await reported('reader', 'file-sha')).toContain(`file-sha: ${sha}`);
    const nobody = Number((await execFileP('id', ['-u', 'nobody'])).stdout.trim());
    const stat = (f: string) => {
      const st = statSync(path.join(cluster.node('fa').filesDir, f));
      return { f, mode: (st.mode & 0o777).toString(8), uid: st.uid };
    };
    expect(stat('default/sec/token')).toEqual({ f: 'default/sec/token', mode: '600', uid: nobody });
    expect(stat('default/sec/.sdw-env/use.env')).toEqual({ f: 'default/sec/.sdw-env/use.env', mode: '600', uid: 0 });
    // Nowhere in the SystemdUnitSets, nor in a unit file, nor on node B.
    const yaml = await cluster.kubectlOk(['get', 'sdus', '-A', '-o', 'yaml']);
    expect(yaml).toContain('sealed:');
    for (const needle of [TOKEN, Buffer.from(TOKEN).toString('base64')]) {
      expect(yaml).not.toContain(needle);
      for (const u of ['use', 'reader']) {
        expect(readFileSync(path.join(cluster.node('fa').unitDir, `sdw-default_sec_${u}.service`), 'utf8')).not.toContain(needle);
      }
    }
    expect(() => statSync(path.join(cluster.node('fb').filesDir, 'default/sec'))).toThrow();
    // `kubectl sdw render` shows the file, not the value.
    writeFileSync(path.join(cluster.dir, 'sec.yaml'), await cluster.kubectlOk(['get', 'sdw', 'sec', '-o', 'yaml']));
    const rendered = await kubectlSdw(
      cluster.controlPlane.bin.kubectl,
      path.join(cluster.dir, 'bin'),
      ['render', path.join(cluster.dir, 'sec.yaml')],
      {
        kubeconfig: cluster.kubeconfigPath,
      },
    );
    expect(rendered.stderr).toBe('');
    expect(rendered.stdout).toContain('# DATA FILE: /etc/sdw/default/sec/token (mode 0600, owner nobody, from secret/tok/token)');
    expect(rendered.stdout).toContain('EnvironmentFile=/etc/sdw/default/sec/.sdw-env/use.env');
    expect(rendered.stdout).not.toContain(TOKEN);
  });

  it("node B's agent, with its own node-bound token, cannot read the Secret or open what was sealed for node A", async () => {
    const tokenB = await agentTokenForNode(cluster, 'fb');
    const asB = await cluster.controlPlane.kubeconfigFor('agent-fb', tokenB);
    const get = await cluster.kubectl(['get', 'secret', 'tok', '-n', 'default', '-o', 'yaml'], { kubeconfig: asB });
    expect(get.code).not.toBe(0);
    expect(get.stderr).toMatch(/forbidden/i);
    const list = await cluster.kubectl(['get', 'secrets', '-A'], { kubeconfig: asB });
    expect(list.code).not.toBe(0);
    // What node B can read: node A's child, with the value sealed for node A's key.
    const childA = JSON.parse(
      (
        await cluster.kubectl(
          ['get', 'sdus', '-n', 'default', '-l', 'systemd.operators.dev/node=fa,systemd.operators.dev/workload=sec', '-o', 'json'],
          { kubeconfig: asB },
        )
      ).stdout,
    ) as { items: SystemdUnitSet[] };
    const sealed = childA.items[0]!.spec.files!.find((f) => f.path === '/etc/sdw/default/sec/token')!;
    expect(sealed.sealed).toBeDefined();
    const keyOf = (n: string) => nodeKeyFromPem(readFileSync(path.join(cluster.node(n).dir, 'agent-state', 'sealing-key.pem'), 'utf8'));
    const b = keyOf('fb');
    expect(() => open(b.privateKey, b.publicKey, sealed.sealed!, sealAad('default', sealed.path))).toThrow();
    const a = keyOf('fa');
    expect(open(a.privateKey, a.publicKey, sealed.sealed!, sealAad('default', sealed.path)).toString()).toBe(TOKEN);
    // Nor can node B make the controller seal for its key: node A's child status is node A's agent's alone.
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(asB);
    const setKeyAsB = (sealingKey: string) =>
      new CustomObjects(kc, UNITSET_PLURAL).patchStatus('default', childA.items[0]!.metadata.name!, { status: { sealingKey } }).then(
        () => ({ code: 0, stderr: '' }),
        (err: unknown) => ({ code: 1, stderr: errorMessage(err) }),
      );
    // The policy applied above is enforced once the API server has loaded it: probe with node A's own key (no change).
    await waitFor('node identity policy enforced', async () => (await setKeyAsB(a.publicKey)).code !== 0, 30_000, 500);
    const hijack = await setKeyAsB(b.publicKey);
    expect(hijack.code).not.toBe(0);
    expect(hijack.stderr).toContain('agent of node fb may not change SystemdUnitSet');
    const after = await getChild(cluster, 'sec', 'fa');
    expect(after?.status?.sealingKey).toBe(a.publicKey);
  });
});
