// What the agent reports about units, checked the way a user checks it:
// kubectl for the workload and its per-node child, busctl and the node's own
// cgroup files for what systemd really did.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { UnitSpec } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { waitFor } from '../../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, invocationId, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { cgroupAttr, getChild, waitForChild } from '../../harness/agentHelpers.js';

const NODE = 'as-1';

function workload(name: string, units: UnitSpec[]): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: { nodeSelector: { 'kubernetes.io/hostname': NODE }, units },
  });
}

const exists = (f: string): Promise<boolean> =>
  fs.access(f).then(
    () => true,
    () => false,
  );

describe('agent status on a real node', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  let agent: OperatorProcess;
  let work: string;

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [{ name: NODE }] });
    // Outside /tmp, /run, /var/tmp: the node sees the host's file here.
    work = path.join(cluster.dir, 'work');
    await fs.mkdir(work, { recursive: true });
    controller = await startController(cluster);
    agent = await startAgent(cluster, NODE);
  });

  afterAll(async () => {
    await agent?.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  it('shows why a unit killed for memory ended: signal 9 and a message naming the limit', async () => {
    await apply(
      cluster,
      workload('hog', [
        {
          name: 'eat',
          command: ['/usr/bin/python3', '-c', "x = b'a' * (400 * 1024 * 1024)"],
          restart: { policy: 'Never' },
          resources: { limits: { memory: '32Mi' } },
        },
      ]),
    );
    const wl = await waitForWorkload(
      cluster,
      'hog',
      'Failed',
      (w) => w.status?.phase === 'Failed' && w.status.nodes?.[0]?.exitCode !== undefined,
      90_000,
    );
    const unit = 'sdw-default_hog_eat.service';
    expect(await unitProperty(cluster.node(NODE), unit, 'Service', 'MemoryMax')).toBe(String(32 * 2 ** 20));
    expect(await unitProperty(cluster.node(NODE), unit, 'Service', 'ExecMainStatus')).toBe('9');
    const node = wl.status!.nodes![0]!;
    expect(node).toMatchObject({ node: NODE, phase: 'Failed', exitCode: 9 });
    // cgroup v2: OOMKilled; these hybrid hosts: a SIGKILL, with the memory limit named.
    expect(node.message).toMatch(
      /^sdw-default_hog_eat\.service failed: (OOMKilled \(MemoryMax=33554432\)|Killed\(signal 9\): SIGKILL with MemoryMax=33554432 set, likely out of memory)/,
    );
    const child = await getChild(cluster, 'hog', NODE);
    expect(child?.status?.units?.[0]).toMatchObject({
      activeState: 'failed',
      lastTermination: { code: 'killed', status: 9, reason: expect.stringMatching(/^(OOMKilled|Killed\(signal 9\))$/) },
    });
    const table = await cluster.kubectlOk(['get', 'sdw', 'hog']);
    expect(table).toMatch(/^hog\s+1\s+0\s+.*Failed/m);
    await cluster.kubectlOk(['delete', 'sdw', 'hog', '--wait=true']);
  });

  it('shows how a unit ended that failed at once on its first start', async () => {
    // It exits before the agent's first read of it: its signals come while the agent
    // does not know the unit yet, so only that read can say how it ended.
    await apply(cluster, workload('quick', [{ name: 'fail', command: ['/bin/sh', '-c', 'exit 7'], restart: { policy: 'Never' } }]));
    const child = await waitForChild(cluster, 'quick', NODE, 'Failed', (c) => c.status?.phase === 'Failed', 60_000);
    expect(child.status?.units?.[0]).toMatchObject({
      activeState: 'failed',
      exitCode: 7,
      lastTermination: { code: 'exited', status: 7, reason: 'Error(exit 7)' },
    });
    await cluster.kubectlOk(['delete', 'sdw', 'quick', '--wait=true']);
  });

  it('runs a oneshot chain a -> b -> c in order and reports Completed', async () => {
    const out = path.join(work, 'chain.log');
    const step = (n: string, deps: string[], pause: string): UnitSpec => ({
      name: n,
      type: 'oneshot',
      after: deps,
      requires: deps,
      command: ['/bin/sh', '-c', `sleep ${pause}; echo ${n} >> ${out}`],
    });
    // c is listed first and a sleeps longest: only the dependencies can order them.
    await apply(cluster, workload('chain', [step('c', ['b'], '0'), step('b', ['a'], '0'), step('a', [], '1')]));
    const wl = await waitForWorkload(cluster, 'chain', 'Completed', (w) => w.status?.phase === 'Completed', 90_000);
    expect(wl.status?.nodes?.[0]).toMatchObject({ node: NODE, phase: 'Completed' });
    expect(await fs.readFile(out, 'utf8')).toBe('a\nb\nc\n');
    const child = await getChild(cluster, 'chain', NODE);
    expect(child?.status?.phase).toBe('Completed');
    for (const u of child!.status!.units!)
      expect(u).toMatchObject({ activeState: 'active', subState: 'exited', result: 'success', exitCode: 0 });
    expect(await cluster.kubectlOk(['get', 'sdw', 'chain'])).toMatch(/^chain\s+.*Completed/m);
    await cluster.kubectlOk(['delete', 'sdw', 'chain', '--wait=true']);
  });

  it('fires a cron unit and reports the timer: last trigger, next elapse, last result', async () => {
    const out = path.join(work, 'ticks.log');
    await apply(
      cluster,
      workload('cron', [
        {
          name: 'tick',
          type: 'oneshot',
          schedule: '* * * * *',
          command: ['/bin/sh', '-c', `date +%s >> ${out}`],
        },
      ]),
    );
    await waitForWorkload(cluster, 'cron', 'Running', (w) => w.status?.phase === 'Running');
    // Settled after a run: the service's exit and the timer's own return to "waiting"
    // are two signals, and a status written between them shows the timer "running"
    // (CI saw it once); the next status pass writes "waiting".
    const child = await waitForChild(
      cluster,
      'cron',
      NODE,
      'timer fired, and waiting again',
      (c) => !!c.status?.units?.[0]?.timer?.lastTrigger && !!c.status.units[0].lastTermination && c.status.units[0].subState === 'waiting',
      100_000,
    );
    const u = child.status!.units![0]!;
    expect(u).toMatchObject({ name: 'tick', unit: 'sdw-default_cron_tick.timer', activeState: 'active', subState: 'waiting' });
    expect(u.timer?.lastResult).toBe('success');
    expect(Date.parse(u.timer!.nextElapse!)).toBeGreaterThan(Date.parse(u.timer!.lastTrigger!));
    expect(u.lastTermination).toMatchObject({ code: 'exited', status: 0, reason: 'Completed' });
    expect((await fs.readFile(out, 'utf8')).trim().split('\n').length).toBeGreaterThanOrEqual(1);
    expect(child.status?.phase).toBe('Running');
    // The node's Persistent= stamp (its own /var/lib/systemd/timers: node-sandbox.sh).
    const stamp = path.join(cluster.nodes.get(NODE)!.dir, 'timers', 'stamp-sdw-default_cron_tick.timer');
    await fs.access(stamp);
    await cluster.kubectlOk(['delete', 'sdw', 'cron', '--wait=true']);
    await waitFor(
      'unit files removed',
      async () => (await getChild(cluster, 'cron', NODE)) === undefined && !(await exists(stamp)),
      60_000,
    );
    // Applied again on the same node, the timer starts clean: no catch-up run of the deleted one.
    const runs = (await fs.readFile(out, 'utf8')).trim().split('\n').length;
    // Applied at second 40 at the latest: a scheduled run is then 20 s away, so a run
    // before the read below could only be a catch-up run.
    const second = new Date().getSeconds();
    if (second > 40) await new Promise((resolve) => setTimeout(resolve, (61 - second) * 1000));
    await apply(
      cluster,
      workload('cron', [{ name: 'tick', type: 'oneshot', schedule: '* * * * *', command: ['/bin/sh', '-c', `date +%s >> ${out}`] }]),
    );
    const again = await waitForChild(cluster, 'cron', NODE, 'timer waiting', (c) => !!c.status?.units?.[0]?.timer?.nextElapse, 60_000);
    expect(again.status!.units![0]!.timer?.lastTrigger).toBeUndefined();
    expect((await fs.readFile(out, 'utf8')).trim().split('\n').length).toBe(runs);
    await cluster.kubectlOk(['delete', 'sdw', 'cron', '--wait=true']);
  });

  it('changes CPUQuota and TasksMax live: cgroup updated, same invocation', async () => {
    const spec = (cpu: string, tasks: number): string =>
      workload('lim', [
        {
          name: 'busy',
          command: ['/bin/sleep', 'infinity'],
          resources: { limits: { cpu, tasks } },
        },
      ]);
    const unit = 'sdw-default_lim_busy.service';
    const node = cluster.node(NODE);
    await apply(cluster, spec('500m', 50));
    await waitForWorkload(cluster, 'lim', 'Running', (w) => w.status?.phase === 'Running');
    expect(await cgroupAttr(node, 'cpu', unit, 'cpu.cfs_quota_us')).toBe('50000');
    expect(await cgroupAttr(node, 'pids', unit, 'pids.max')).toBe('50');
    const before = await invocationId(node, unit);
    // Enabled (comes back after a reboot), and systemd knows it.
    expect(await unitProperty(node, unit, 'Unit', 'UnitFileState')).toBe('enabled');

    await apply(cluster, spec('250m', 20));
    await waitForWorkload(cluster, 'lim', 'rolled out', (w) => w.status?.updatedNodes === 1 && w.status.readyNodes === 1, 90_000);
    await waitFor('TasksMax 20', async () => (await unitProperty(node, unit, 'Service', 'TasksMax')) === '20', 30_000);
    expect(await unitProperty(node, unit, 'Service', 'CPUQuotaPerSecUSec')).toBe('250000');
    // What the kernel enforces, not just what systemd says.
    await waitFor(
      'cgroup limits applied',
      async () =>
        (await cgroupAttr(node, 'cpu', unit, 'cpu.cfs_quota_us')) === '25000' &&
        (await cgroupAttr(node, 'pids', unit, 'pids.max')) === '20',
      30_000,
    );
    expect(await invocationId(node, unit)).toBe(before);
    expect(await unitProperty(node, unit, 'Service', 'NRestarts')).toBe('0');
    await cluster.kubectlOk(['delete', 'sdw', 'lim', '--wait=true']);
  });
});
