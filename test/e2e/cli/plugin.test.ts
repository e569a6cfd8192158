// kubectl-sdw as a user runs it (a subprocess with KUBECONFIG) against a real
// cluster: real API server, two real systemd nodes, the controller and one agent
// per node.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadYaml } from '@kubernetes/client-node';
import { Cluster } from '../../harness/cluster.js';
import { binaries, repoRoot } from '../../harness/binaries.js';
import { waitFor } from '../../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, waitForWorkload } from '../../harness/assertions.js';
import { runCli, type CliResult } from '../../harness/cliHelpers.js';
import type { WorkloadView } from '../../../src/cli/statusView.js';
import type { SystemdWorkload } from '../../../src/api/types.js';
import type { KrewManifest } from '../../../hack/plugin/krew.js';

const execFileP = promisify(execFile);

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

  // kubectl's habits, with the plugin installed from the krew archive as krew
  // installs it (archive unpacked, its bin linked into a PATH directory) and run
  // by kubectl as `kubectl sdw`.
  describe('kubectl habits, installed from the krew archive', () => {
    let binDir: string;
    const env = (): NodeJS.ProcessEnv => {
      const e: NodeJS.ProcessEnv = { ...process.env, KUBECONFIG: kubeconfig };
      delete e.NODE_OPTIONS;
      e.PATH = `${binDir}:${path.dirname(process.execPath)}:${e.PATH ?? ''}`;
      return e;
    };
    const kubectl = (args: string[]): Promise<CliResult> =>
      new Promise((resolve) =>
        execFile(binaries().kubectl, args, { env: env(), timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
          const exit = (err as { code?: unknown } | null)?.code;
          resolve({ code: err ? (typeof exit === 'number' ? exit : 1) : 0, stdout, stderr });
        }),
      );
    const sdw = (args: string[]): Promise<CliResult> => kubectl(['sdw', ...args]);

    beforeAll(async () => {
      const built = await execFileP(path.join(repoRoot, 'hack', 'plugin', 'archive.sh'), [], {
        cwd: repoRoot,
        maxBuffer: 16 * 1024 * 1024,
      });
      const archive = built.stdout.trim();
      const manifest = loadYaml<KrewManifest>(await fs.readFile(path.join(path.dirname(archive), 'sdw.yaml'), 'utf8'));
      const digest = createHash('sha256')
        .update(await fs.readFile(archive))
        .digest('hex');
      // What krew checks before it installs: the download's digest is the manifest's.
      for (const p of manifest.spec.platforms) expect(p.sha256).toBe(digest);
      const store = path.join(cluster.dir, 'krew', 'store', 'sdw', manifest.spec.version);
      binDir = path.join(cluster.dir, 'krew', 'bin');
      await fs.mkdir(store, { recursive: true });
      await fs.mkdir(binDir, { recursive: true });
      await execFileP('tar', ['-xzf', archive, '-C', store]);
      await fs.symlink(path.join(store, manifest.spec.platforms[0]!.bin), path.join(binDir, 'kubectl-sdw'));
      await fs.symlink(path.join(store, 'kubectl_complete-sdw'), path.join(binDir, 'kubectl_complete-sdw'));
      await cluster.kubectlOk(['label', 'sdw', 'web', 'tier=front']);
    });

    it('--help shows examples; -o yaml and -o json are the objects kubectl get shows; -o name', async () => {
      const help = await sdw(['--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/^Examples:\n {2}kubectl sdw /m);
      expect((await sdw(['get', '--help'])).stdout).toMatch(/^Examples:\n {2}kubectl sdw get /m);

      for (const format of ['yaml', 'json']) {
        // The controller may write status between the two reads: compare one version.
        const [ours, theirs] = await waitFor(
          `the same resourceVersion from both (-o ${format})`,
          async () => {
            const a = loadYaml<SystemdWorkload>((await sdw(['get', 'web', '-o', format])).stdout);
            const b = loadYaml<SystemdWorkload>(await cluster.kubectlOk(['get', 'sdw', 'web', '-o', format]));
            return a.metadata.resourceVersion === b.metadata.resourceVersion ? [a, b] : undefined;
          },
          60_000,
          500,
        );
        expect(ours).toEqual(theirs);
        expect(ours.metadata.labels).toMatchObject({ tier: 'front' });
      }
      expect(await sdw(['get', 'web', '-o', 'name'])).toMatchObject({ code: 0, stdout: 'systemdworkload.systemd.operators.dev/web\n' });
    });

    it('-l filters get and status; -A adds the namespace', async () => {
      expect((await sdw(['get', '-l', 'tier=front', '-o', 'name'])).stdout).toBe('systemdworkload.systemd.operators.dev/web\n');
      const others = (await sdw(['get', '-l', 'tier!=front', '-o', 'name'])).stdout.split('\n').filter(Boolean);
      expect(others).toEqual(expect.arrayContaining(['systemdworkload.systemd.operators.dev/bootstrap']));
      expect(others).not.toContain('systemdworkload.systemd.operators.dev/web');
      const status = JSON.parse((await sdw(['status', '-l', 'tier=front', '-o', 'json'])).stdout) as { items: WorkloadView[] };
      expect(status.items.map((w) => w.name)).toEqual(['web']);
      const table = await sdw(['get', '-A', '-l', 'tier=front']);
      expect(table.stdout).toMatch(/^NAMESPACE\s+NAME\s+DESIRED\s+READY\s+UP-TO-DATE\s+RESTARTS\s+PHASE\s+AGE\n/);
      expect(table.stdout).toMatch(/^default\s+web\s+1\s+1\s+1\s+0\s+Running\s+\S+\n$/m);
    });

    it('-w prints a change as it happens, only for what the selector matches', async () => {
      const child = spawn(binaries().kubectl, ['sdw', 'get', '-l', 'watch=me', '-w'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      try {
        const unit = (name: string, labels: string): string =>
          `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: ${name}, namespace: default, labels: {${labels}}}
spec:
  nodeSelector: {kubernetes.io/hostname: demo-2}
  units:
  - name: idle
    command: ["/bin/sleep", "infinity"]
`;
        await apply(cluster, unit('unwatched', 'watch: not-me'));
        await apply(cluster, unit('watched', 'watch: me'));
        // The new workload's row, then the controller's status reaching Running, each as it is written.
        await waitFor('a row for the new workload', async () => /^watched\s/m.test(out), 60_000, 200);
        await waitFor('the row saying it runs', async () => /^watched\s+1\s+1\s+1\s+0\s+Running\s/m.test(out), 120_000, 200);
        expect(out).not.toContain('unwatched');
        expect(out.split('\n').filter((l) => l.startsWith('NAME')).length).toBeLessThanOrEqual(1);
      } finally {
        child.kill('SIGINT');
      }
      expect(await exited).toBe(0);
      await cluster.kubectlOk(['delete', 'sdw', 'watched', 'unwatched', '--wait=false']);

      // --request-timeout ends a watch (exit 0), as kubectl get -w --request-timeout does.
      expect((await sdw(['get', 'web', '-w', '--request-timeout', '2s', '-o', 'name'])).code).toBe(0);
    });

    it('--as: refused (403) for a user without permission, allowed for one with it', async () => {
      await cluster.kubectlOk([
        'create',
        'role',
        'sdw-reader',
        '-n',
        'default',
        '--verb=get,list,watch',
        '--resource=systemdworkloads.systemd.operators.dev,systemdunitsets.systemd.operators.dev',
      ]);
      await cluster.kubectlOk(['create', 'rolebinding', 'sdw-reader', '-n', 'default', '--role=sdw-reader', '--user=alice']);
      const refused = await sdw(['get', 'web', '--as', 'bob']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('"bob" cannot get resource "systemdworkloads"');
      expect(refused.stderr).toContain('(HTTP 403 Forbidden)');
      const refusedList = await sdw(['get', '-l', 'tier=front', '--as', 'bob']);
      expect(refusedList.code).toBe(1);
      expect(refusedList.stderr).toContain('"bob" cannot list resource "systemdworkloads"');
      const refusedWatch = await sdw(['get', 'web', '-w', '--as', 'bob']);
      expect(refusedWatch).toMatchObject({ code: 1, stderr: expect.stringContaining('HTTP 403') });
      const allowed = await waitFor(
        'the RoleBinding in effect',
        async () => {
          const r = await sdw(['get', 'web', '--as', 'alice', '-o', 'name']);
          return r.code === 0 ? r : undefined;
        },
        30_000,
        500,
      );
      expect(allowed.stdout).toBe('systemdworkload.systemd.operators.dev/web\n');
      // Global flags before the command, as kubectl takes them; status reads the children too.
      const status = await sdw(['--as=alice', '--request-timeout', '30s', 'status', 'web', '-o', 'name']);
      expect(status).toMatchObject({ code: 0, stdout: 'systemdworkload.systemd.operators.dev/web\n' });
      const pause = await sdw(['rollout', 'pause', 'web', '--as', 'alice']);
      expect(pause.code).toBe(1);
      expect(pause.stderr).toContain('"alice" cannot patch resource "systemdworkloads"');
      // A group carries the user's rights too.
      await cluster.kubectlOk(['create', 'rolebinding', 'sdw-reader-group', '-n', 'default', '--role=sdw-reader', '--group=readers']);
      await waitFor(
        'the group RoleBinding in effect',
        async () => (await sdw(['get', 'web', '--as', 'carol', '--as-group', 'other', '--as-group', 'readers', '-o', 'name'])).code === 0,
        30_000,
        500,
      );
    });

    it('completion: kubectl runs kubectl_complete-sdw for subcommands and workload names; the bash script completes too', async () => {
      const top = await kubectl(['__complete', 'sdw', '']);
      expect(top.code).toBe(0);
      expect(top.stdout.split('\n')).toEqual(expect.arrayContaining(['get', 'status', 'rollout', 'logs', 'completion']));
      const names = await kubectl(['__complete', 'sdw', 'status', '']);
      expect(names.stdout.split('\n')).toEqual(expect.arrayContaining(['web', 'bootstrap']));
      const sub = await kubectl(['__complete', 'sdw', 'rollout', 're']);
      expect(sub.stdout.split('\n')).toEqual(expect.arrayContaining(['restart', 'resume']));

      const script = (await sdw(['completion', 'bash'])).stdout;
      const r = await execFileP(
        'bash',
        ['-c', `${script}\nCOMP_WORDS=(kubectl-sdw get w); COMP_CWORD=2; _kubectl_sdw; printf '%s\\n' "\${COMPREPLY[@]}"`],
        { env: env() },
      );
      expect(r.stdout.split('\n')).toContain('web');
    });
  });
});
