// kubectl-sdw as a user runs it (a subprocess with KUBECONFIG) against a real
// cluster: real API server, two real systemd nodes, the controller and one agent
// per node.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Cluster } from '../../harness/cluster.js';
import { repoRoot } from '../../harness/binaries.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { waitForWorkload } from '../../harness/assertions.js';
import { runCli } from '../../harness/cliHelpers.js';
import type { WorkloadView } from '../../../src/cli/statusView.js';

const EXAMPLES = path.join(repoRoot, 'examples');
describe('kubectl-sdw against a running cluster', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents = new Map<string, OperatorProcess>();
  let kubeconfig: string;
  let examples: string[];

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [{ name: 'demo-1', labels: { role: 'web' } }, { name: 'demo-2' }] });
    kubeconfig = cluster.kubeconfigPath;
    controller = await startController(cluster);
    for (const n of ['demo-1', 'demo-2']) {
      agents.set(n, await startAgent(cluster, n));
    }
    examples = (await fs.readdir(EXAMPLES))
      .filter((f) => f.endsWith('.yaml'))
      .sort()
      .map((f) => path.join('examples', f));
  });

  afterAll(async () => {
    for (const a of agents.values()) await a.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  it('validate: every example passes; a broken file fails naming file, document and field', async () => {
    const ok = await runCli(['validate', ...examples]);
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toBe(`${examples.length} workloads valid\n`);

    const broken = path.join(cluster.dir, 'broken.yaml');
    const web = await fs.readFile(path.join(EXAMPLES, 'web-service.yaml'), 'utf8');
    await fs.writeFile(
      broken,
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n---\n${web.replace('"/usr/bin/python3"', '"python3"')}`,
    );
    const bad = await runCli(['validate', broken]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.split('\n')[0]).toBe(
      `${broken}: document 2 (SystemdWorkload default/web): spec.units[0].command[0]: must be an absolute path to an executable (starting with '/', not ending with '/', without '$')`,
    );
    // ... and the API server refuses the same document (admission agrees with the plugin).
    const r = await cluster.kubectl(['apply', '--dry-run=server', '-f', broken]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/command/);
  });

  it('every example is accepted by the API server and comes up on real nodes', async () => {
    for (const f of examples) await cluster.kubectlOk(['apply', '-f', path.join(repoRoot, f)]);
    await waitForWorkload(cluster, 'web', 'Running on demo-1', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 1, 120_000);
    await waitForWorkload(
      cluster,
      'bootstrap',
      'Running on both nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
      120_000,
    );
    await waitForWorkload(cluster, 'nightly-report', 'timer armed on both nodes', (w) => w.status?.readyNodes === 2, 120_000);
    await waitForWorkload(
      cluster,
      'crash-loop',
      'exit code 3 reported',
      (w) => (w.status?.nodes ?? []).some((n) => n.exitCode === 3),
      120_000,
    );
  });

  it('render --node prints exactly the files the agent wrote on that node', async () => {
    const r = await runCli(['render', 'examples/web-service.yaml', '--node', 'demo-1', '--node-label', 'role=web']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const parts = r.stdout.split(/^# FILE: /m).slice(1);
    expect(parts.length).toBe(1);
    for (const part of parts) {
      const name = part.slice(0, part.indexOf('\n'));
      const content = part.slice(part.indexOf('\n') + 1);
      expect(await fs.readFile(path.join(cluster.node('demo-1').unitDir, name), 'utf8')).toBe(content);
    }
    const other = await runCli(['render', 'examples/web-service.yaml', '--node', 'demo-2']);
    expect(other.stdout).toMatch(/^# SystemdWorkload default\/web: not scheduled on node demo-2/);
  });

  it('status: a table without colour when piped, and json with nodes and units', async () => {
    const table = await runCli(['status'], { kubeconfig });
    expect(table.code).toBe(0);
    expect(table.stdout).not.toContain('\u001b[');
    expect(table.stdout).toMatch(/^default\/web {2}Running {2}desired=1 {2}ready=1/m);
    expect(table.stdout).toMatch(/^ {2}demo-1\s+Running\s+http\s+active\/running\s+0\s+-\s+\S+/m);
    expect(table.stdout).toMatch(/^default\/crash-loop /m);
    expect(table.stdout).toMatch(/\s+main\s+\S+\s+\d+\s+3\s/);

    const j = await runCli(['status', 'web', '-o', 'json'], { kubeconfig });
    const items = (JSON.parse(j.stdout) as { items: WorkloadView[] }).items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ namespace: 'default', name: 'web', phase: 'Running', desired: 1, ready: 1 });
    expect(items[0]!.nodes.map((n) => n.node)).toEqual(['demo-1']);
    expect(items[0]!.nodes[0]!.units[0]).toMatchObject({
      name: 'http',
      unit: 'sdw-default_web_http.service',
      state: 'active/running',
      restarts: 0,
      scheduled: false,
    });

    const cron = JSON.parse((await runCli(['status', 'nightly-report', '-o', 'json'], { kubeconfig })).stdout) as { items: WorkloadView[] };
    const unit = cron.items[0]!.nodes[0]!.units[0]!;
    expect(unit).toMatchObject({ scheduled: true, unit: 'sdw-default_nightly-report_report.timer' });
    expect(Date.parse(unit.nextRun!)).toBeGreaterThan(Date.now() - 60_000);

    const all = JSON.parse((await runCli(['status', '-A', '-o', 'json'], { kubeconfig })).stdout) as { items: WorkloadView[] };
    expect(all.items.map((w) => w.name)).toEqual(expect.arrayContaining(['bootstrap', 'crash-loop', 'nightly-report', 'web']));

    const missing = await runCli(['status', 'nope'], { kubeconfig });
    expect(missing).toMatchObject({ code: 1, stderr: 'error: SystemdWorkload "nope" not found in namespace "default"\n' });
  });
  // logs: test/e2e/cli/logs.test.ts (through the API server, both credential kinds).
});
