// Artifacts end to end: a real HTTP server on loopback in this process (the
// agents are processes of this host's network namespace, as a DaemonSet agent
// with hostNetwork), two real systemd nodes whose /var/lib/sdw/artifacts is a
// directory of their own, the real controller and agents, kubectl as the client.
// A unit runs the artifact's script from the stable `current` path; upgrades
// roll, a tampered or interrupted download leaves the old version running, and
// versions no revision refers to are removed.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { ARTIFACT_ROOT } from '../../../src/api/artifacts.js';
import type { SystemdWorkload } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, invocationId, waitForWorkload } from '../../harness/assertions.js';
import { cgroupAttr, waitForChild } from '../../harness/agentHelpers.js';
import { waitFor } from '../../harness/process.js';
import { tarGz } from '../../harness/archives.js';

const NODES = ['art-1', 'art-2'];
const UNIT = 'sdw-default_art_app.service';
const CURRENT = `${ARTIFACT_ROOT}/default/art/bundle/current`;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A release: a script that runs `sleep <n>`, so the running version shows in the process's command line. */
const release = (n: number) => tarGz([{ name: 'bin/run.sh', content: `#!/bin/sh\nexec /bin/sleep ${n}\n`, mode: 0o755 }]);

describe('artifacts on real nodes', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents: OperatorProcess[] = [];
  let server: http.Server;
  let base = '';
  const served = new Map<string, Buffer>();
  const cut = new Set<string>();

  /** The node's artifact directory as the agent (on the host) sees it: its own (the harness binds it), as on two machines. */
  const hostDir = (node: string) => cluster.node(node).artifactDir;
  const bundleDir = (node: string) => path.join(hostDir(node), 'default/art/bundle');

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const body = served.get(req.url ?? '');
      if (!body) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-length': body.length });
      if (!cut.has(req.url ?? '')) return void res.end(body);
      // The server goes away in the middle of the body.
      res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    cluster = await Cluster.start({
      nodes: NODES.map((name) => ({ name, labels: { role: 'art' } })),
    });
    controller = await startController(cluster);
    for (const n of NODES) agents.push(await startAgent(cluster, n));
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await controller?.stop();
    await cluster?.stop();
    await new Promise((r) => server?.close(r));
  });

  /** Serves body at path and returns the artifact pointing at it (with the body's digest unless given). */
  function artifact(file: string, body: Buffer, digest = sha(body)) {
    served.set(`/${file}`, body);
    return { name: 'bundle', url: `${base}/${file}`, sha256: digest, unpack: 'tar.gz' };
  }

  async function applyVersion(a: ReturnType<typeof artifact>): Promise<void> {
    await apply(
      cluster,
      JSON.stringify({
        apiVersion: 'systemd.operators.dev/v1alpha1',
        kind: 'SystemdWorkload',
        metadata: { name: 'art', namespace: 'default' },
        spec: {
          nodeSelector: { role: 'art' },
          updateStrategy: { rollingUpdate: { maxUnavailable: 1 } },
          artifacts: [a],
          units: [{ name: 'app', command: [`${CURRENT}/bin/run.sh`], dynamicUser: true, artifacts: ['bundle'] }],
        },
      }),
    );
  }

  const rolledOut = (w: SystemdWorkload) =>
    w.status?.phase === 'Running' && w.status.updatedNodes === NODES.length && w.status.readyNodes === NODES.length;

  /** The running unit's main process, read from the host: its command line and environment. */
  async function mainProcess(node: string): Promise<{ cmdline: string; env: string[] }> {
    const pid = (await cgroupAttr(cluster.node(node), 'pids', UNIT, 'cgroup.procs')).split('\n')[0];
    const read = (f: string) => fs.readFile(`/proc/${pid}/${f}`, 'utf8').then((s) => s.split('\0').filter(Boolean));
    return { cmdline: (await read('cmdline')).join(' '), env: await read('environ') };
  }

  async function versions(node: string): Promise<string[]> {
    return (await fs.readdir(bundleDir(node))).filter((f) => !f.startsWith('.')).sort();
  }

  const v1 = release(1001);
  const v2 = release(1002);

  it('runs the artifact from the current path on every node, with its path in the environment', async () => {
    const a = artifact('v1.tar.gz', v1);
    await applyVersion(a);
    await waitForWorkload(cluster, 'art', 'v1 on both nodes', rolledOut, 120_000);
    for (const n of NODES) {
      const p = await mainProcess(n);
      expect(p.cmdline).toBe('/bin/sleep 1001');
      expect(p.env).toContain(`SDW_ARTIFACT_BUNDLE=${CURRENT}`);
      expect(await fs.readlink(path.join(bundleDir(n), 'current'))).toBe(a.sha256);
    }
  });

  it('rolls a new version out, and removes the old one once no revision refers to it', async () => {
    const before = await Promise.all(NODES.map((n) => invocationId(cluster.node(n), UNIT)));
    const a = artifact('v2.tar.gz', v2);
    await applyVersion(a);
    await waitForWorkload(cluster, 'art', 'v2 on both nodes', rolledOut, 120_000);
    for (const [i, n] of NODES.entries()) {
      expect((await mainProcess(n)).cmdline).toBe('/bin/sleep 1002');
      expect(await invocationId(cluster.node(n), UNIT)).not.toBe(before[i]);
      await waitFor(
        `only v2 kept on ${n}`,
        async () => ((await versions(n)).join() === ['current', a.sha256].sort().join() ? true : undefined),
        30_000,
      );
    }
  });

  it('a tampered artifact leaves the old version running and says so, naming the URL and both digests', async () => {
    const before = await Promise.all(NODES.map((n) => invocationId(cluster.node(n), UNIT)));
    const good = release(1003);
    const tampered = Buffer.concat([release(1003), Buffer.from('x')]);
    const a = artifact('v3.tar.gz', tampered, sha(good));
    await applyVersion(a);
    const expected = new RegExp(`${a.url}.*expected ${sha(good)}, got ${sha(tampered)}`);
    const wl = await waitForWorkload(
      cluster,
      'art',
      'a node reports the mismatch',
      (w) => !!w.status?.nodes?.some((n) => n.phase === 'Failed' && expected.test(n.message ?? '')),
      120_000,
    );
    const failed = wl.status!.nodes!.find((n) => n.phase === 'Failed')!.node;
    const child = await waitForChild(cluster, 'art', failed, 'Failed with the message', (c) => c.status?.phase === 'Failed');
    expect(child.status?.message).toMatch(expected);
    // maxUnavailable 1: the other node was never given the bad version; neither node changed.
    for (const [i, n] of NODES.entries()) {
      expect(await invocationId(cluster.node(n), UNIT)).toBe(before[i]);
      expect((await mainProcess(n)).cmdline).toBe('/bin/sleep 1002');
      expect(await fs.readlink(path.join(bundleDir(n), 'current'))).toBe(sha(v2));
      expect(await versions(n)).not.toContain(sha(good));
    }
  });

  it('an interrupted download is not activated; the retry after the server recovers rolls it out', async () => {
    const before = await Promise.all(NODES.map((n) => invocationId(cluster.node(n), UNIT)));
    const v4 = release(1004);
    cut.add('/v4.tar.gz');
    const a = artifact('v4.tar.gz', v4);
    await applyVersion(a);
    await waitForWorkload(
      cluster,
      'art',
      'a node reports the interrupted download',
      (w) => !!w.status?.nodes?.some((n) => n.phase === 'Failed' && /v4\.tar\.gz failed: interrupted/.test(n.message ?? '')),
      120_000,
    );
    for (const [i, n] of NODES.entries()) {
      expect(await invocationId(cluster.node(n), UNIT)).toBe(before[i]);
      expect(await fs.readlink(path.join(bundleDir(n), 'current'))).toBe(sha(v2));
      expect(await versions(n)).not.toContain(a.sha256);
    }
    cut.delete('/v4.tar.gz');
    await waitForWorkload(cluster, 'art', 'v4 on both nodes after the retry', rolledOut, 180_000);
    for (const n of NODES) {
      expect((await mainProcess(n)).cmdline).toBe('/bin/sleep 1004');
      await waitFor(
        `only v4 kept on ${n}`,
        async () => ((await versions(n)).join() === ['current', a.sha256].sort().join() ? true : undefined),
        30_000,
      );
    }
  });

  it('deleting the workload removes its artifacts from the nodes', async () => {
    await cluster.kubectlOk(['delete', 'sdw', 'art', '-n', 'default', '--wait=true']);
    for (const n of NODES) {
      await waitFor(
        `artifacts of art gone on ${n}`,
        async () => ((await fs.readdir(hostDir(n)).catch(() => [])).length === 0 ? true : undefined),
        60_000,
      );
    }
  });
});
