// The agent on a production-shaped node: a VM with systemd as PID 1 on cgroup v2
// (test/harness/vmNode.ts), the agent as an enabled systemd unit in the guest with
// a node-bound token, the controller as a process on the host. What the namespace
// nodes of the other suites cannot show on this project's hybrid-cgroup hosts:
// memory.max and cpu.max changed live, a real CPU figure, an OOM kill that
// systemd itself names (Result=oom-kill), and units that come back at boot.
//
// One VM for the whole file (a boot costs ~40 s of a core under TCG); the tests
// run in order and the reboot comes last. Every check reads the guest through
// the QEMU guest agent (systemctl, /sys/fs/cgroup, the journal), independent of
// the agent's own D-Bus code.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import type { UnitSpec } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { apply, waitForWorkload, workloadOnNode } from '../../harness/assertions.js';
import { getChild, waitForChild } from '../../harness/agentHelpers.js';
import { startController, type OperatorProcess } from '../../harness/operator.js';
import { waitFor } from '../../harness/process.js';
import { startVmAgent, VM_AGENT_UNIT, type VmAgent } from '../../harness/vmAgent.js';
import type { VmNode } from '../../harness/vmNode.js';

const NODE = 'vm-1';
// TCG runs the guest 7-40x slower than the host: every wait is long.
const SLOW = 300_000;
const TEST_TIMEOUT = 900_000;

const workload = (name: string, units: UnitSpec[]): string => workloadOnNode(NODE, name, units);

/** `systemctl show` of one property in the guest. */
async function prop(vm: VmNode, unit: string, name: string): Promise<string> {
  return (await vm.sh(`systemctl show ${unit} -p ${name} --value`)).trim();
}

/** A file of the unit's cgroup in the guest's unified hierarchy. */
async function cgroupFile(vm: VmNode, unit: string, file: string): Promise<string> {
  return (await vm.sh(`cat /sys/fs/cgroup/system.slice/${unit}/${file}`)).trim();
}

const figures: Record<string, number> = {};
function figure(name: string, since: number): void {
  figures[name] = Math.round((Date.now() - since) / 100) / 10;
}

describe('a cgroup v2 VM node', () => {
  let cluster: Cluster;
  let vm: VmNode;
  let controller: OperatorProcess;
  let agent: VmAgent;

  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await Cluster.start();
    vm = await cluster.addVmNode({ name: NODE });
    figures.vm_boot_s = vm.bootSeconds;
    controller = await startController(cluster);
    agent = await startVmAgent(cluster, vm);
    figure('cluster_start_to_agent_ready_s', t0);
  }, TEST_TIMEOUT);

  afterAll(async () => {
    // Measured figures, for the suite's notes (no assertion rests on them).
    console.log(`[vm figures] ${JSON.stringify(figures)}`);
    await controller?.stop();
    await cluster?.stop();
  }, 120_000);

  it(
    'is what it claims: systemd as PID 1 on cgroup v2, the agent a unit of it',
    async () => {
      expect((await vm.sh('stat -fc %T /sys/fs/cgroup')).trim()).toBe('cgroup2fs');
      expect((await vm.sh('cat /proc/1/comm')).trim()).toBe('systemd');
      expect(await prop(vm, VM_AGENT_UNIT, 'UnitFileState')).toBe('enabled');
      expect(await prop(vm, VM_AGENT_UNIT, 'ActiveState')).toBe('active');
      const node = await cluster.kubectlOk(['get', 'node', NODE, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']);
      expect(node).toBe('True');
    },
    TEST_TIMEOUT,
  );

  it(
    'changes memory.max and cpu.max live: same InvocationID and MainPID, no restart',
    async () => {
      const t0 = Date.now();
      const unit = 'sdw-default_lim_busy.service';
      const spec = (memory: string, cpu: string): string =>
        workload('lim', [
          {
            name: 'busy',
            command: ['/bin/sleep', 'infinity'],
            dynamicUser: true,
            resources: { limits: { memory, cpu, tasks: 20 } },
          },
        ]);
      await apply(cluster, spec('64Mi', '500m'));
      await waitForWorkload(cluster, 'lim', 'Running', (w) => w.status?.phase === 'Running', SLOW);
      expect(await cgroupFile(vm, unit, 'memory.max')).toBe(String(64 * 2 ** 20));
      expect(await cgroupFile(vm, unit, 'cpu.max')).toBe('50000 100000');
      const invocation = await prop(vm, unit, 'InvocationID');
      const mainPid = await prop(vm, unit, 'MainPID');
      expect(Number(mainPid)).toBeGreaterThan(0);

      await apply(cluster, spec('96Mi', '250m'));
      await waitForWorkload(cluster, 'lim', 'rolled out', (w) => w.status?.updatedNodes === 1 && w.status.readyNodes === 1, SLOW);
      // What the kernel enforces, read from the cgroup files.
      await waitFor(
        'memory.max and cpu.max changed',
        async () =>
          (await cgroupFile(vm, unit, 'memory.max')) === String(96 * 2 ** 20) && (await cgroupFile(vm, unit, 'cpu.max')) === '25000 100000',
        SLOW,
        1000,
      );
      expect(await prop(vm, unit, 'InvocationID')).toBe(invocation);
      expect(await prop(vm, unit, 'MainPID')).toBe(mainPid);
      expect(await prop(vm, unit, 'NRestarts')).toBe('0');
      const child = await getChild(cluster, 'lim', NODE);
      expect(child?.status?.units?.[0]).toMatchObject({ activeState: 'active', restarts: 0 });
      await cluster.kubectlOk(['delete', 'sdw', 'lim', '--wait=true', '--timeout=300s']);
      figure('test_live_limits_s', t0);
    },
    TEST_TIMEOUT,
  );

  it(
    "reports CPU usage as a real figure in the child, the workload and the agent's metrics",
    async () => {
      const t0 = Date.now();
      const unit = 'sdw-default_burn_spin.service';
      // A busy loop held to 20% of the guest's one CPU.
      await apply(
        cluster,
        workload('burn', [
          {
            name: 'spin',
            command: ['/bin/sh', '-c', 'while :; do :; done'],
            dynamicUser: true,
            resources: { limits: { memory: '32Mi', cpu: '200m', tasks: 5 } },
          },
        ]),
      );
      await waitForWorkload(cluster, 'burn', 'Running', (w) => w.status?.phase === 'Running', SLOW);
      // Over 0.2 s of CPU: more than a process start costs, so the loop really ran.
      const child = await waitForChild(
        cluster,
        'burn',
        NODE,
        'CPU usage above 0.2 s',
        (c) => (c.status?.units?.[0]?.cpuNanoseconds ?? 0) > 2e8,
        SLOW,
      );
      const reported = child.status!.units![0]!.cpuNanoseconds!;
      // systemd's own figure, read after the agent's: at least as large, and the same order.
      const systemd = Number(await prop(vm, unit, 'CPUUsageNSec'));
      expect(systemd).toBeGreaterThanOrEqual(reported);
      expect(systemd).toBeLessThan(2 ** 63);
      const usage = Number((/usage_usec (\d+)/.exec(await cgroupFile(vm, unit, 'cpu.stat')) ?? [])[1]);
      expect(usage * 1000).toBeGreaterThanOrEqual(reported);
      const wl = await waitForWorkload(
        cluster,
        'burn',
        'cpuSeconds in the node summary',
        (w) => (w.status?.nodes?.[0]?.cpuSeconds ?? 0) > 0,
        SLOW,
      );
      expect(wl.status!.nodes![0]!.cpuSeconds).toBeGreaterThan(0);
      const metric = await waitFor(
        'sdw_unit_cpu_seconds',
        async () => agent.metric('sdw_unit_cpu_seconds', { systemd_unit: unit }),
        SLOW,
        1000,
      );
      expect(metric).toBeGreaterThan(0.2);
      await cluster.kubectlOk(['delete', 'sdw', 'burn', '--wait=true', '--timeout=300s']);
      figure('test_cpu_usage_s', t0);
    },
    TEST_TIMEOUT,
  );

  it(
    "reads OOMKilled from systemd's Result=oom-kill when a unit allocates past MemoryMax",
    async () => {
      const t0 = Date.now();
      const unit = 'sdw-default_hog_eat.service';
      // tail of an endless line keeps all of it in memory.
      await apply(
        cluster,
        workload('hog', [
          {
            name: 'eat',
            command: ['/usr/bin/tail', '/dev/zero'],
            dynamicUser: true,
            restart: { policy: 'Never' },
            resources: { limits: { memory: '32Mi', cpu: '500m', tasks: 5 } },
          },
        ]),
      );
      const child = await waitForChild(cluster, 'hog', NODE, 'terminated', (c) => !!c.status?.units?.[0]?.lastTermination, SLOW);
      expect(await prop(vm, unit, 'Result')).toBe('oom-kill');
      expect(child.status!.units![0]).toMatchObject({
        activeState: 'failed',
        result: 'oom-kill',
        lastTermination: { reason: 'OOMKilled' },
      });
      const wl = await waitForWorkload(cluster, 'hog', 'Failed', (w) => w.status?.phase === 'Failed', SLOW);
      expect(wl.status!.nodes![0]!.message).toContain('OOMKilled (MemoryMax=33554432)');
      await cluster.kubectlOk(['delete', 'sdw', 'hog', '--wait=true', '--timeout=300s']);
      figure('test_oom_s', t0);
    },
    TEST_TIMEOUT,
  );

  it(
    'brings the units and the agent back after a reboot: Running, one child, no restart after boot',
    async () => {
      const t0 = Date.now();
      const unit = 'sdw-default_keep_app.service';
      await apply(
        cluster,
        workload('keep', [
          {
            name: 'app',
            command: ['/bin/sleep', 'infinity'],
            dynamicUser: true,
            resources: { limits: { memory: '32Mi', cpu: '200m', tasks: 5 } },
          },
        ]),
      );
      await waitForWorkload(cluster, 'keep', 'Running', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 1, SLOW);
      const before = await getChild(cluster, 'keep', NODE);
      const invocationBefore = await prop(vm, unit, 'InvocationID');
      expect(await prop(vm, unit, 'UnitFileState')).toBe('enabled');

      const tReboot = Date.now();
      await vm.reboot();
      figures.reboot_to_running_s = vm.bootSeconds;
      await agent.waitReady(SLOW);
      figure('reboot_to_agent_ready_s', tReboot);

      // Started by systemd at boot (enabled), not by the agent later: once in this boot.
      expect(await prop(vm, unit, 'ActiveState')).toBe('active');
      expect(await prop(vm, unit, 'InvocationID')).not.toBe(invocationBefore);
      expect(await prop(vm, VM_AGENT_UNIT, 'ActiveState')).toBe('active');
      const wl = await waitForWorkload(
        cluster,
        'keep',
        'Running after the reboot',
        (w) => w.status?.phase === 'Running' && w.status.readyNodes === 1 && w.status.unknownNodes === 0,
        SLOW,
      );
      expect(wl.status?.restarts).toBe(0);
      const children = JSON.parse(
        await cluster.kubectlOk(['get', 'systemdunitsets', '-n', 'default', '-l', 'systemd.operators.dev/workload=keep', '-o', 'json']),
      ) as { items: Array<{ metadata: { uid: string } }> };
      expect(children.items.map((c) => c.metadata.uid)).toEqual([before!.metadata.uid]);
      const after = await waitForChild(
        cluster,
        'keep',
        NODE,
        'status from the new boot',
        (c) => c.status?.units?.[0]?.activeState === 'active',
        SLOW,
      );
      expect(after.status!.units![0]!.restarts).toBe(0);
      expect(await prop(vm, unit, 'NRestarts')).toBe('0');
      const starts = (await vm.sh(`journalctl -b -u ${unit} -o cat --no-pager | grep -c '^Started ' || true`)).trim();
      expect(starts).toBe('1');
      await cluster.kubectlOk(['delete', 'sdw', 'keep', '--wait=true', '--timeout=300s']);
      figure('test_reboot_s', t0);
    },
    TEST_TIMEOUT,
  );

  // User networking: the harness makes no tap device or network namespace, so none can remain.
  it(
    'leaves nothing behind on teardown: no QEMU process, overlay, socket or run directory',
    async () => {
      const t0 = Date.now();
      const qemuPid = vm.pid;
      expect(qemuPid).toBeGreaterThan(0);
      await controller.stop();
      await cluster.stop();
      expect(vm.leftovers()).toEqual([]);
      // No process anywhere still names the VM's directory (the overlay, the sockets).
      const holders: string[] = [];
      for (const p of await readdir('/proc')) {
        if (!/^\d+$/.test(p)) continue;
        const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
        if (cmd.includes(vm.dir)) holders.push(`${p}: ${cmd.split('\0').join(' ').slice(0, 200)}`);
      }
      expect(holders).toEqual([]);
      expect(existsSync(cluster.dir)).toBe(false);
      figure('teardown_s', t0);
    },
    TEST_TIMEOUT,
  );
});
