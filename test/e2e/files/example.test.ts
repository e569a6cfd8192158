// examples/config-secret-artifact.yaml as a user applies it: kubectl apply of the
// file as written, on a real systemd node with the real controller and agent.
// Only the artifact's url and sha256 change, to a release this test serves from
// a loopback HTTP server (the agent runs in the host's network, as a DaemonSet
// agent with hostNetwork); everything else, the ConfigMap and Secret included,
// is the example's own. Then what a user would check: kubectl says Ready,
// systemctl in the node says the service runs, the files and the artifact's
// `current` link are on the node as the README says, and neither the
// SystemdUnitSets nor `kubectl sdw render` show the Secret's value.
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promises as fs, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';
import { ARTIFACT_ROOT } from '../../../src/api/artifacts.js';
import type { Cluster } from '../../harness/cluster.js';
import { repoRoot } from '../../harness/binaries.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { kubectlSdw } from '../../harness/cliHelpers.js';
import { tarGz } from '../../harness/archives.js';
import { waitFor } from '../../harness/process.js';

const execFileP = promisify(execFile);
const EXAMPLE = path.join(repoRoot, 'examples', 'config-secret-artifact.yaml');
const NODE = 'ex-1';
const UNIT = 'sdw-default_greeter_server.service';
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

type Doc = {
  kind?: string;
  metadata?: { name?: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: { artifacts?: Array<Record<string, unknown>> };
};

/**
 * The release the example's artifact stands for: bin/greeter, which reports what
 * it was given (the config's greeting, a digest of the token it reads from its
 * credential directory) and then serves (sleeps).
 */
const RELEASE = tarGz([
  {
    name: 'bin/greeter',
    mode: 0o755,
    content: [
      '#!/bin/sh',
      '[ "$1" = --config ] || { echo "usage: greeter --config FILE" >&2; exit 2; }',
      'echo "greeter 1.4.2: $(grep greeting "$2")"',
      'echo "token-sha: $(sha256sum < "$CREDENTIALS_DIRECTORY/token" | cut -c1-64)"',
      'exec sleep infinity',
      '',
    ].join('\n'),
  },
]);

/**
 * The example's documents, with the one artifact's url and sha256 pointed at
 * `url` and RELEASE. Throws, naming what it looked for, if the example no longer
 * has them where this test expects: the test must not silently apply something else.
 */
function exampleWithArtifactAt(url: string): { docs: Doc[]; yaml: string } {
  const docs = loadAllYaml(readFileSync(EXAMPLE, 'utf8')) as Doc[];
  const workloads = docs.filter((d) => d.kind === 'SystemdWorkload');
  if (workloads.length !== 1) throw new Error(`${EXAMPLE}: expected one SystemdWorkload, found ${workloads.length}`);
  const artifacts = workloads[0]!.spec?.artifacts;
  if (artifacts?.length !== 1) throw new Error(`${EXAMPLE}: expected spec.artifacts with one entry, found ${JSON.stringify(artifacts)}`);
  const a = artifacts[0]!;
  if (typeof a.url !== 'string' || typeof a.sha256 !== 'string' || a.unpack !== 'tar.gz' || a.name !== 'release') {
    throw new Error(`${EXAMPLE}: spec.artifacts[0] should be {name: release, url, sha256, unpack: tar.gz}, is ${JSON.stringify(a)}`);
  }
  a.url = url;
  a.sha256 = sha256(RELEASE);
  return { docs, yaml: docs.map((d) => dumpYaml(d)).join('---\n') };
}

describe('examples/config-secret-artifact.yaml on a real node', () => {
  let operator: OperatorCluster | undefined;
  let cluster: Cluster;
  let server: http.Server | undefined;
  let docs: Doc[];
  let applied: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url !== '/greeter-1.4.2.tar.gz') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': RELEASE.length }).end(RELEASE);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/greeter-1.4.2.tar.gz`;
    operator = await startOperatorCluster({ nodes: [{ name: NODE }] });
    cluster = operator.cluster;
    ({ docs, yaml: applied } = exampleWithArtifactAt(url));
    const file = path.join(cluster.dir, 'config-secret-artifact.yaml');
    writeFileSync(file, applied);
    await cluster.kubectlOk(['apply', '-f', file]);
  });

  afterAll(async () => {
    await operator?.stop();
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
  });

  const token = () => docs.find((d) => d.kind === 'Secret')!.stringData!.token!;
  const config = () => docs.find((d) => d.kind === 'ConfigMap')!.data!['greeter.conf']!;
  /** A command inside the node's mount and pid namespaces: its own /run/systemd, /proc and PIDs. */
  const inNode = async (...args: string[]) =>
    (await execFileP('nsenter', ['-t', String(cluster.node(NODE).systemdPid), '-m', '-p', '--', ...args])).stdout;
  const systemctl = (...args: string[]) => inNode('systemctl', ...args);
  const journal = async () =>
    (await execFileP('journalctl', ['-D', cluster.node(NODE).journalDir, '-u', UNIT, '-o', 'cat', '--no-pager'])).stdout;

  it('becomes Ready, and systemctl in the node shows the service running from the release', async () => {
    await cluster.kubectlOk(['wait', '--for=condition=Ready', 'sdw/greeter', '-n', 'default', '--timeout=180s']);
    const row = await cluster.kubectlOk(['get', 'sdw', 'greeter', '-n', 'default', '--no-headers']);
    expect(row).toMatch(/^greeter\s+1\s+1\s+1\s+0\s+Running\s/);
    const show = await systemctl('show', UNIT, '-p', 'ActiveState,SubState,DynamicUser,ExecMainPID');
    expect(show).toContain('ActiveState=active\n');
    expect(show).toContain('SubState=running\n');
    expect(show).toContain('DynamicUser=yes\n');
    // systemd started the release's program from the stable `current` path, with the config the example names;
    // its main process is what that script execs at the end.
    const execStart = await systemctl('show', UNIT, '-p', 'ExecStart', '--value');
    expect(execStart).toContain(
      `argv[]=${ARTIFACT_ROOT}/default/greeter/release/current/bin/greeter --config /etc/sdw/default/greeter/greeter.conf ;`,
    );
    const pid = /ExecMainPID=(\d+)/.exec(show)![1];
    expect((await inNode('cat', `/proc/${pid}/cmdline`)).split('\0').filter(Boolean)).toEqual(['sleep', 'infinity']);
  });

  it("puts the ConfigMap's file and the Secret's 0600 root file on the node; the dynamic user reads both", async () => {
    const node = cluster.node(NODE);
    const stat = (f: string) => {
      const st = statSync(path.join(node.filesDir, f));
      return { f, mode: (st.mode & 0o777).toString(8), uid: st.uid, gid: st.gid };
    };
    expect(readFileSync(path.join(node.filesDir, 'default/greeter/greeter.conf'), 'utf8')).toBe(config());
    expect(stat('default/greeter/greeter.conf')).toEqual({ f: 'default/greeter/greeter.conf', mode: '644', uid: 0, gid: 0 });
    // A dynamic user exists only while its unit runs: the file stays root's, the unit gets a credential copy.
    expect(stat('default/greeter/token')).toEqual({ f: 'default/greeter/token', mode: '600', uid: 0, gid: 0 });
    expect(readFileSync(path.join(node.filesDir, 'default/greeter/token'), 'utf8')).toBe(token());
    const greeting = /^greeting = .*$/m.exec(config())![0];
    const out = await waitFor(
      'the greeter reported its config and token',
      async () => {
        const j = await journal();
        return j.includes('token-sha:') ? j : undefined;
      },
      30_000,
      500,
    );
    expect(out).toContain(`greeter 1.4.2: ${greeting}`);
    expect(out).toContain(`token-sha: ${sha256(token())}`);
  });

  it('stages the release under its digest and points `current` at it', async () => {
    const dir = path.join(cluster.node(NODE).artifactDir, 'default/greeter/release');
    const digest = sha256(RELEASE);
    expect(await fs.readlink(path.join(dir, 'current'))).toBe(digest);
    expect(readFileSync(path.join(dir, digest, 'bin/greeter'), 'utf8')).toContain('greeter 1.4.2');
    expect((await fs.readdir(dir)).filter((f) => !f.startsWith('.')).sort()).toEqual(['current', digest].sort());
  });

  it('shows the Secret value neither in the SystemdUnitSets nor in kubectl sdw render', async () => {
    const needles = [token(), Buffer.from(token()).toString('base64')];
    const sdus = await cluster.kubectlOk(['get', 'sdus', '-A', '-o', 'yaml']);
    expect(sdus).toContain('path: /etc/sdw/default/greeter/token');
    expect(sdus).toContain('sealed:');
    const sdw = await cluster.kubectlOk(['get', 'sdw', 'greeter', '-n', 'default', '-o', 'yaml']);
    const unitFile = readFileSync(path.join(cluster.node(NODE).unitDir, UNIT), 'utf8');
    const sdwRender = (file: string) =>
      kubectlSdw(cluster.controlPlane.bin.kubectl, path.join(cluster.dir, 'bin'), ['render', file, '--node', NODE], {
        kubeconfig: cluster.kubeconfigPath,
      });
    // The applied file (with the Secret document in it) and the workload as the cluster has it.
    const fromCluster = path.join(cluster.dir, 'greeter-from-cluster.yaml');
    writeFileSync(fromCluster, sdw);
    for (const file of [path.join(cluster.dir, 'config-secret-artifact.yaml'), fromCluster]) {
      const r = await sdwRender(file);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain('# DATA FILE: /etc/sdw/default/greeter/token (mode 0600, owner root, from secret/greeter-token/token)');
      expect(r.stdout).toContain('LoadCredential=token:/etc/sdw/default/greeter/token\n');
      for (const needle of needles) expect(r.stdout).not.toContain(needle);
    }
    for (const needle of needles) {
      expect(sdus).not.toContain(needle);
      expect(sdw).not.toContain(needle);
      expect(unitFile).not.toContain(needle);
    }
  });
});
