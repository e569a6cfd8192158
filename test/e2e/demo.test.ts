// The newcomer's contract: `make demo` brings up the cluster with the examples
// running and returns; the README's tour commands work against it; `make
// demo-down` leaves nothing behind. Runs the demo script itself (as the Makefile
// does) in a directory of its own, so a developer's demo is never touched.
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { cacheRoot, repoRoot } from '../harness/binaries.js';
import { delay, waitFor } from '../harness/process.js';
import { findCgroupDirs } from '../harness/systemdNode.js';

const run = promisify(execFile);

describe('make demo', () => {
  const demoDir = path.join(cacheRoot(), `demo-test-${process.pid}`);
  const env = { ...process.env, SDW_DEMO_DIR: demoDir };
  const demo = (cmd: string) =>
    run(process.execPath, [path.join(repoRoot, 'dist', 'hack', 'demo.js'), cmd], { env, timeout: 400_000, maxBuffer: 1 << 24 });
  // The tour as a user types it, after `source .demo/env`.
  const sh = (script: string) =>
    run('bash', ['-c', `source "${demoDir}/env" && ${script}`], { cwd: repoRoot, env, timeout: 60_000, maxBuffer: 1 << 24 });

  afterAll(async () => {
    await demo('down').catch(() => undefined);
    await fs.rm(demoDir, { recursive: true, force: true });
  });

  it('comes up with the examples running, serves the tour, and goes down clean', async () => {
    const up = await demo('up');
    expect(up.stdout).toMatch(/NAMESPACE\s+NAME\s+DESIRED\s+READY\s+UP-TO-DATE\s+RESTARTS\s+PHASE\s+AGE/);
    expect(up.stdout).toMatch(/default\s+web\s+1\s+1\s+1\s+0\s+Running/);
    expect(up.stdout).toMatch(/default\s+bootstrap\s+3\s+3\s+3\s+0\s+Running/);
    expect(up.stdout).toMatch(/default\s+crash-loop\s+3\s+0\s+3\s+\d+\s+(Degraded|Failed)/);

    // Running it twice is safe and reuses the running cluster.
    const again = await demo('up');
    expect(again.stdout).toContain('already running');

    const nodes = await sh('kubectl get nodes -o name');
    expect(nodes.stdout.trim().split('\n').sort()).toEqual(['node/demo-1', 'node/demo-2', 'node/demo-3']);
    const status = await sh('kubectl sdw status crash-loop');
    expect(status.stdout).toMatch(/demo-1\s+Failed|demo-1\s+Pending|demo-1\s+Running/);
    expect(status.stdout).toMatch(/\b3\b/); // the exit code the crash loop reports
    const units = await fs.readdir(path.join(demoDir, 'nodes', 'demo-1', 'units'));
    expect(units).toContain('sdw-default_web_http.service');
    const rendered = await sh('kubectl sdw render examples/web-service.yaml --node demo-1');
    const onNode = await fs.readFile(path.join(demoDir, 'nodes', 'demo-1', 'units', 'sdw-default_web_http.service'), 'utf8');
    expect(rendered.stdout).toContain(onNode.trim());
    const valid = await sh('kubectl sdw validate examples/*.yaml');
    expect(valid.stdout).toMatch(/\d+ workloads? valid/);
    const bus = await sh(
      `busctl --address=unix:path=${demoDir}/nodes/demo-1/system_bus_socket get-property org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/sdw_2ddefault_5fweb_5fhttp_2eservice org.freedesktop.systemd1.Unit ActiveState`,
    );
    expect(bus.stdout.trim()).toBe('s "active"');

    // Prometheus scrapes the controller and the agents and evaluates the shipped
    // rules: the crash-loop example's alert goes pending (it fires after its `for`, 5 min).
    const rules = JSON.parse((await sh('curl -sf "$PROMETHEUS_URL/api/v1/rules"')).stdout) as {
      data: { groups: { rules: { name: string; health: string }[] }[] };
    };
    const loaded = rules.data.groups.flatMap((g) => g.rules);
    expect(loaded.map((r) => r.name)).toContain('SystemdWorkloadCrashLooping');
    expect(loaded.length).toBeGreaterThanOrEqual(7);
    const alert = await waitFor(
      'SystemdWorkloadCrashLooping for default/crash-loop, pending or firing',
      async () => {
        const r = JSON.parse((await sh('curl -sf "$PROMETHEUS_URL/api/v1/alerts"')).stdout) as {
          data: { alerts: { labels: Record<string, string>; state: string }[] };
        };
        return r.data.alerts.find((a) => a.labels.alertname === 'SystemdWorkloadCrashLooping' && a.labels.workload === 'crash-loop');
      },
      120_000,
      2000,
    );
    expect(alert.labels.namespace).toBe('default');
    expect(['pending', 'firing']).toContain(alert.state);
    const targets = JSON.parse((await sh('curl -sf "$PROMETHEUS_URL/api/v1/targets"')).stdout) as {
      data: { activeTargets: { labels: { job: string }; health: string }[] };
    };
    expect(targets.data.activeTargets.map((t) => `${t.labels.job} ${t.health}`).sort()).toEqual([
      'systemd-workload-agent-metrics up',
      'systemd-workload-agent-metrics up',
      'systemd-workload-agent-metrics up',
      'systemd-workload-controller-metrics up',
    ]);
    // No other alert is pending or firing on a healthy demo.
    const others = JSON.parse((await sh('curl -sf "$PROMETHEUS_URL/api/v1/alerts"')).stdout) as {
      data: { alerts: { labels: Record<string, string> }[] };
    };
    expect(
      others.data.alerts.filter((a) => a.labels.workload !== 'crash-loop').map((a) => `${a.labels.alertname} ${a.labels.workload ?? ''}`),
    ).toEqual([]);

    // The demo survives what a cluster survives: its datastore paused for 45 s (a
    // laptop asleep, a stalled disk). The controller loses its Lease and exits by
    // design; it is started again, as its Deployment would be, and a workload
    // applied after the thaw is reconciled on every node.
    const state = JSON.parse(await fs.readFile(path.join(demoDir, 'state.json'), 'utf8')) as { etcdPid?: number };
    const etcdPid = state.etcdPid ?? 0;
    expect(etcdPid).toBeGreaterThan(0);
    process.kill(etcdPid, 'SIGSTOP');
    try {
      await delay(45_000);
    } finally {
      process.kill(etcdPid, 'SIGCONT');
    }
    // The API server may answer with errors for a moment after the thaw: apply as a user would, again until it is accepted.
    const apply = `kubectl apply -f - <<'EOF'
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: after-pause, namespace: default}
spec:
  units:
  - name: idle
    command: ["/bin/sh", "-c", "exec sleep infinity"]
    dynamicUser: true
EOF`;
    await waitFor(
      'the workload is accepted after the thaw',
      async () =>
        await sh(apply)
          .then(() => true)
          .catch(() => false),
      60_000,
      1000,
    );
    await waitFor(
      'the workload applied after the pause reads Running on 3 nodes',
      async () => {
        const r = await sh('kubectl get sdw after-pause -o jsonpath={.status.phase}/{.status.readyNodes}').catch(() => undefined);
        return r?.stdout.trim() === 'Running/3';
      },
      180_000,
      1000,
    );

    const runDirs = await fs.readdir(path.join(demoDir, 'run'));
    const down = await demo('down');
    expect(down.stdout).toContain('stopped');
    expect(existsSync(demoDir)).toBe(false);
    for (const runId of runDirs) {
      for (const n of ['demo-1', 'demo-2', 'demo-3']) expect(await findCgroupDirs(`sdw-${runId}-${n}`)).toEqual([]);
    }
  });
});
