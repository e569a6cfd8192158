// Files a policy allows outside /etc/sdw (issue 15), on a real systemd node with
// the real controller and agent, the admission policies as shipped, kubectl as
// the client. The node binds its own /srv (the agent's --node-root is the
// node's directory tree as the host sees it). A cluster admin labels the
// namespace allow-file-paths=true, allows /srv/app in a SystemdWorkloadPolicy and
// makes /srv/app on the node; then:
// - a file at /srv/app is written with its mode and owner, and the unit reads it
//   at that path inside the node;
// - a file already there that the agent did not write is not overwritten: the
//   child is Failed, its message names the path, the file is unchanged;
// - a symbolic link at a declared path is not followed (nor replaced);
// - deleting the workload removes the file it wrote, and nothing else.
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Cluster } from '../../harness/cluster.js';
import type { SystemdNode } from '../../harness/systemdNode.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, waitForWorkload } from '../../harness/assertions.js';
import { waitForChild } from '../../harness/agentHelpers.js';
import { waitFor } from '../../harness/process.js';
import { createNamespace, installAdmissionPolicies, policyManifest, waitForAdmission } from '../security/helpers.js';

const execFileP = promisify(execFile);
const NODE = 'ap';
const NS = 'paths';

const workload = (name: string, paths: string[], command = ['/bin/sleep', 'infinity']): string =>
  JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: NS },
    spec: {
      files: paths.map((p, i) => ({ name: `f${i}`, path: p, mode: '0640', content: `written for ${name}\n` })),
      units: [{ name: 'main', user: 'nobody', command, files: paths.map((_p, i) => ({ name: `f${i}` })) }],
    },
  });

describe('files outside /etc/sdw where a policy allows them, on a real node', () => {
  let operator: OperatorCluster | undefined;
  let cluster: Cluster;
  let node: SystemdNode;
  const onNode = (p: string): string => path.join(node.nodeRoot, p);

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: [{ name: NODE, binds: ['/srv'] }] });
    cluster = operator.cluster;
    node = cluster.node(NODE);
    await installAdmissionPolicies(cluster);
    await createNamespace(cluster, NS, { 'systemd.operators.dev/allow-file-paths': 'true' });
    await cluster.kubectlOk(['apply', '-f', '-'], { input: policyManifest('paths', { namespaces: [NS], allowedFilePaths: ['/srv/app'] }) });
    // The policy has reached admission once a path outside it is refused.
    await waitForAdmission(cluster, workload('probe', ['/srv/other/x']));
    // The admin's part on the node: the directory, and a file of its own in it.
    mkdirSync(onNode('/srv/app'));
    writeFileSync(onNode('/srv/app/admin.conf'), "the admin's\n", { mode: 0o644 });
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it('writes the file with its mode and owner where the unit reads it', async () => {
    await apply(cluster, workload('web', ['/srv/app/web.conf'], ['/bin/sh', '-c', 'cat /srv/app/web.conf; exec sleep infinity']));
    await waitForWorkload(cluster, 'web', 'ready', (w) => w.status?.readyNodes === 1, 120_000, NS);
    const st = statSync(onNode('/srv/app/web.conf'));
    expect(readFileSync(onNode('/srv/app/web.conf'), 'utf8')).toBe('written for web\n');
    expect((st.mode & 0o7777).toString(8)).toBe('640');
    const { stdout: nobody } = await execFileP('id', ['-u', 'nobody']);
    expect(st.uid).toBe(Number(nobody.trim()));
    const unit = `sdw-${NS}_web_main.service`;
    await waitFor(
      'the unit printed the file it read inside the node',
      async () =>
        (await execFileP('journalctl', ['-D', node.journalDir, '-u', unit, '-o', 'cat', '--no-pager'])).stdout.includes('written for web'),
      30_000,
      500,
    );
    // The agent's record of what it wrote, 0600 in its state directory.
    const record = path.join(node.dir, 'agent-state', 'written-files.json');
    expect(statSync(record).mode & 0o777).toBe(0o600);
    expect(Object.keys(JSON.parse(readFileSync(record, 'utf8')) as object)).toEqual(['/srv/app/web.conf']);
  });

  it('does not overwrite a file it did not write: the child is Failed naming the path, the file is unchanged', async () => {
    await apply(cluster, workload('clash', ['/srv/app/admin.conf']));
    const child = await waitForChild(cluster, 'clash', NODE, 'Failed', (c) => c.status?.phase === 'Failed', 60_000, NS);
    expect(child.status!.message).toContain('/srv/app/admin.conf exists and was not written by the agent');
    expect(readFileSync(onNode('/srv/app/admin.conf'), 'utf8')).toBe("the admin's\n");
    expect(statSync(onNode('/srv/app/admin.conf')).mode & 0o7777).toBe(0o644);
  });

  it('does not follow a symbolic link at a declared path', async () => {
    writeFileSync(onNode('/srv/app/target'), 'target\n');
    symlinkSync('target', onNode('/srv/app/link.conf'));
    await apply(cluster, workload('linky', ['/srv/app/link.conf']));
    const child = await waitForChild(cluster, 'linky', NODE, 'Failed', (c) => c.status?.phase === 'Failed', 60_000, NS);
    expect(child.status!.message).toContain('/srv/app/link.conf is a symbolic link');
    expect(readFileSync(onNode('/srv/app/target'), 'utf8')).toBe('target\n');
    expect(lstatSync(onNode('/srv/app/link.conf')).isSymbolicLink()).toBe(true);
  });

  it('deleting the workload removes the file it wrote and nothing else', async () => {
    const before = readdirSync(onNode('/srv/app')).sort();
    expect(before).toEqual(['admin.conf', 'link.conf', 'target', 'web.conf']);
    await cluster.kubectlOk(['delete', 'sdw', 'web', '-n', NS, '--wait=true', '--timeout=90s']);
    await waitFor('web.conf removed', async () => !existsSync(onNode('/srv/app/web.conf')), 60_000, 250);
    expect(readdirSync(onNode('/srv/app')).sort()).toEqual(['admin.conf', 'link.conf', 'target']);
    expect(readFileSync(onNode('/srv/app/admin.conf'), 'utf8')).toBe("the admin's\n");
    expect(readFileSync(onNode('/srv/app/target'), 'utf8')).toBe('target\n');
    // The failed workloads go too, and take nothing with them.
    await cluster.kubectlOk(['delete', 'sdw', 'clash', 'linky', '-n', NS, '--wait=true', '--timeout=90s']);
    await waitFor(
      'the agent synced after the deletions',
      async () => {
        const r = JSON.parse(readFileSync(path.join(node.dir, 'agent-state', 'written-files.json'), 'utf8')) as object;
        return Object.keys(r).length === 0 ? true : undefined;
      },
      30_000,
      250,
    );
    expect(readdirSync(onNode('/srv/app')).sort()).toEqual(['admin.conf', 'link.conf', 'target']);
  });
});
