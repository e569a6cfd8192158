// `make demo`: a local cluster with real parts, left running in the background.
//   node dist/hack/demo.js up     start (or report the running demo), apply examples/, wait, print
//   node dist/hack/demo.js down   stop everything and leave the host clean
//   node dist/hack/demo.js serve  (internal) the background process that owns the cluster
// The cluster is the test harness's: a real kube-apiserver, etcd and
// kube-controller-manager, three real systemd nodes, the controller and one
// agent per node as separate processes (no kubelet here, so they run as plain
// processes rather than as the Deployment and DaemonSet in config/). config/policy
// is installed, with a SystemdWorkloadPolicy for the demo's namespace.
import { spawn } from 'node:child_process';
import { promises as fs, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot, binaries } from '../test/harness/binaries.js';
import { Cluster } from '../test/harness/cluster.js';
import { createLogsApiHost, registerLogsApi, type LogsApiHost } from '../test/harness/logsApi.js';
import { startAgent, startController } from '../test/harness/operator.js';
import { Supervisor } from '../test/harness/supervisor.js';
import { alive, waitFor, type ManagedProcess } from '../test/harness/process.js';
import { startPrometheus } from './demoPrometheus.js';

// SDW_DEMO_DIR lets a test run its own demo beside a developer's.
const demoDir = process.env.SDW_DEMO_DIR ?? path.join(repoRoot, '.demo');
const stateFile = path.join(demoDir, 'state.json');
const NODES = [
  { name: 'demo-1', labels: { role: 'web', zone: 'a' } },
  { name: 'demo-2', labels: { role: 'web', zone: 'b' } },
  { name: 'demo-3', labels: { role: 'batch', zone: 'b' } },
];
/** examples/ files `up` leaves out (see where it applies examples/). */
const NOT_IN_DEMO = new Set(['config-secret-artifact.yaml']);

interface State {
  pid: number;
  ready: boolean;
  kubeconfig?: string;
  error?: string;
  /** The demo's etcd, so a test can pause the datastore as a sleeping laptop or a stalled disk would. */
  etcdPid?: number;
  /** The demo's Prometheus (scraping the controller and agents, evaluating the shipped alert rules). */
  prometheusUrl?: string;
}

function readState(): State | undefined {
  try {
    return JSON.parse(readFileSync(stateFile, 'utf8')) as State;
  } catch {
    return undefined;
  }
}

function say(msg: string): void {
  process.stdout.write(`[demo] ${msg}\n`);
}

async function kubectl(args: string[], input?: string): Promise<{ code: number; out: string }> {
  const env = { ...process.env, KUBECONFIG: path.join(demoDir, 'kubeconfig') };
  return new Promise((resolve) => {
    const child = spawn(binaries().kubectl, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? 1, out }));
    child.stdin.end(input ?? '');
  });
}

async function up(): Promise<void> {
  const st = readState();
  if (st && alive(st.pid) && st.ready) {
    say('already running; applying examples again (idempotent)');
  } else {
    if (st && alive(st.pid)) {
      say(`a demo is still starting (pid ${st.pid}); waiting for it`);
    } else {
      await fs.rm(demoDir, { recursive: true, force: true });
      await fs.mkdir(demoDir, { recursive: true });
      const log = openSync(path.join(demoDir, 'demo.log'), 'a');
      const child = spawn(process.execPath, [process.argv[1]!, 'serve'], { detached: true, stdio: ['ignore', log, log] });
      child.unref();
      say(`starting the cluster in the background (pid ${child.pid}; log .demo/demo.log)`);
    }
    await waitFor(
      'the demo cluster',
      async () => {
        const s = readState();
        if (!s) throw new Error('the demo process left no state; see .demo/demo.log');
        if (s?.error) throw new Error(`${s.error}\n(see .demo/demo.log)`);
        if (s && !alive(s.pid)) throw new Error('the demo process exited; see .demo/demo.log');
        return s?.ready ? true : undefined;
      },
      300_000,
      500,
    );
  }
  say('applying examples/');
  // Not the artifact example: its url stands for the user's own release, which the
  // demo has no server for (its e2e test serves one and applies it).
  const examples = (await fs.readdir(path.join(repoRoot, 'examples')))
    .filter((f) => f.endsWith('.yaml') && !NOT_IN_DEMO.has(f))
    .sort()
    .flatMap((f) => ['-f', path.join(repoRoot, 'examples', f)]);
  const r = await kubectl(['apply', ...examples]);
  process.stdout.write(r.out);
  if (r.code !== 0) throw new Error('kubectl apply -f examples/ failed');
  say('waiting for the workloads to settle');
  // Settled: no workload progressing, and nothing changed for STABLE_MS. A rollout can
  // complete before the crash-loop example first exits (it runs 1 s, restarts after 2 s),
  // so "not progressing" alone would print it as Running.
  const STABLE_MS = 8000;
  let last = '';
  let since = 0;
  await waitFor(
    'workloads settled',
    async () => {
      const g = await kubectl(['get', 'sdw', '-A', '-o', 'json']);
      if (g.code !== 0) return undefined;
      type Item = {
        metadata: { name: string; generation: number };
        status?: { observedGeneration?: number; phase?: string; desiredNodes?: number; readyNodes?: number };
      };
      const items = (JSON.parse(g.out) as { items: Item[] }).items;
      const settled = (w: Item): boolean =>
        w.status?.observedGeneration === w.metadata.generation &&
        w.status.phase !== 'Progressing' &&
        (w.status.phase !== 'Pending' || w.status.desiredNodes === 0);
      const now = Date.now();
      const signature = JSON.stringify(items.map((w) => [w.metadata.name, w.status?.phase, w.status?.readyNodes]));
      if (signature !== last) {
        last = signature;
        since = now;
      }
      return items.length > 0 && items.every(settled) && now - since >= STABLE_MS ? true : undefined;
    },
    120_000,
    1000,
  ).catch(() => say('some workloads are still progressing; showing them as they are'));
  const table = await kubectl(['get', 'sdw', '-A']);
  process.stdout.write(`\n${table.out}\n`);
  say('the cluster keeps running in the background. Next:');
  say('  source .demo/env            # KUBECONFIG, and PATH with kubectl and kubectl-sdw');
  say('  kubectl get sdw -A; kubectl sdw status -A');
  say("  kubectl sdw logs crash-loop --node demo-1        # a unit's journal");
  say(`  Prometheus with the shipped alert rules: ${readState()?.prometheusUrl ?? '$PROMETHEUS_URL'}/alerts`);
  say('  curl -s "$PROMETHEUS_URL/api/v1/alerts"         # SystemdWorkloadCrashLooping: pending, firing after 5 min');
  say('  ls .demo/nodes/demo-1/units/; busctl --address=unix:path=.demo/nodes/demo-1/system_bus_socket status');
  say('  make demo-down              # stop everything');
}

async function serve(): Promise<void> {
  const write = (s: State): Promise<void> => fs.writeFile(stateFile, JSON.stringify(s));
  await fs.mkdir(demoDir, { recursive: true });
  await write({ pid: process.pid, ready: false });
  let cluster: Cluster | undefined;
  let logsApi: LogsApiHost | undefined;
  // The controller and the agents run as a cluster runs them: restarted when they
  // exit (the controller exits by design when it loses its Lease, e.g. while the
  // datastore is stalled), as a Deployment's and a DaemonSet's kubelet would.
  const procs: Supervisor[] = [];
  let prometheus: ManagedProcess | undefined;
  let stopping = false;
  const stop = async (failed = false): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await prometheus?.stop().catch(() => undefined);
    for (const p of procs) await p.stop().catch(() => undefined);
    await cluster?.stop().catch((e) => process.stderr.write(`teardown: ${String(e)}\n`));
    await logsApi?.bridge.remove().catch((e) => process.stderr.write(`teardown: ${String(e)}\n`));
    // After a failure the log and state stay, so `make demo` can say why.
    if (!failed) await fs.rm(demoDir, { recursive: true, force: true });
    process.exit(failed ? 1 : 0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  try {
    // `kubectl sdw logs` goes through the API server to the controller's aggregated logs API.
    logsApi = await createLogsApiHost();
    cluster = await Cluster.start({ nodes: NODES, baseDir: path.join(demoDir, 'run'), aggregation: true });
    await fs.copyFile(cluster.kubeconfigPath, path.join(demoDir, 'kubeconfig'));
    // The admission policies as shipped (no root by default), and this namespace
    // opened for exactly what examples/ needs: the allow-root label a cluster
    // admin sets, and a SystemdWorkloadPolicy (config/policy/samples/demo-default.yaml).
    await cluster.kubectlOk(['apply', '-k', path.join(repoRoot, 'config', 'policy')]);
    await cluster.kubectlOk(['label', '--overwrite', 'namespace', 'default', 'systemd.operators.dev/allow-root=true']);
    await cluster.kubectlOk(['apply', '-f', path.join(repoRoot, 'config', 'policy', 'samples', 'demo-default.yaml')]);
    const controller = await startController(cluster, { identity: 'demo-controller', logsApi: logsApi.listen });
    procs.push(new Supervisor(controller).start());
    await registerLogsApi(cluster, logsApi);
    for (const n of NODES) {
      const node = cluster.node(n.name);
      const dir = path.join(demoDir, 'nodes', n.name);
      await fs.mkdir(dir, { recursive: true });
      await fs.symlink(node.busSocketPath, path.join(dir, 'system_bus_socket'));
      await fs.symlink(node.unitDir, path.join(dir, 'units'));
      await fs.symlink(node.journalDir, path.join(dir, 'journal'));
      procs.push(
        new Supervisor(await startAgent(cluster, n.name, { usagePeriodSeconds: 10, extraArgs: journalArgs(node.journalDir) })).start(),
      );
    }
    const prom = await startPrometheus(
      path.join(demoDir, 'prometheus'),
      controller.probePort,
      procs.slice(1).map((p) => p.proc.probePort),
    );
    prometheus = prom.proc;
    const bin = path.join(demoDir, 'bin');
    await fs.mkdir(bin, { recursive: true });
    await fs.writeFile(
      path.join(bin, 'kubectl-sdw'),
      `#!/bin/sh\nexec "${process.execPath}" "${path.join(repoRoot, 'dist', 'src', 'cli', 'main.js')}" "$@"\n`,
      { mode: 0o755 },
    );
    await fs.writeFile(
      path.join(demoDir, 'env'),
      [
        `export KUBECONFIG="${path.join(demoDir, 'kubeconfig')}"`,
        `export PATH="${binaries().dir}:${bin}:$PATH"`,
        `export PROMETHEUS_URL="${prom.url}"`,
        '',
      ].join('\n'),
    );
    await write({
      pid: process.pid,
      ready: true,
      kubeconfig: path.join(demoDir, 'kubeconfig'),
      etcdPid: cluster.controlPlane.etcd.pid,
      prometheusUrl: prom.url,
    });
    process.stdout.write(`demo ready at ${new Date().toISOString()}\n`);
  } catch (err) {
    process.stderr.write(`demo failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    await write({ pid: process.pid, ready: false, error: String(err) });
    await stop(true);
  }
  // Stay up: the cluster's processes are ours and end with us.
  setInterval(() => undefined, 1 << 30);
}

/** The agent serves unit logs from the node's journal directory when it supports the flag. */
function journalArgs(dir: string): string[] {
  const main = readFileSync(path.join(repoRoot, 'dist', 'src', 'agent', 'main.js'), 'utf8');
  return main.includes("'journal-dir'") ? [`--journal-dir=${dir}`] : [];
}

async function down(): Promise<void> {
  const st = readState();
  if (!st || !alive(st.pid)) {
    say('no demo running');
    await fs.rm(demoDir, { recursive: true, force: true });
    return;
  }
  say(`stopping the demo (pid ${st.pid})`);
  process.kill(st.pid, 'SIGTERM');
  await waitFor('the demo to stop', async () => !alive(st.pid), 120_000, 250);
  await fs.rm(demoDir, { recursive: true, force: true });
  say('stopped; nothing left behind');
}

const cmd = process.argv[2];
const run = cmd === 'up' ? up : cmd === 'down' ? down : cmd === 'serve' ? serve : undefined;
if (!run) {
  process.stderr.write('usage: demo.js up|down\n');
  process.exit(2);
}
run().catch((err) => {
  process.stderr.write(`[demo] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
