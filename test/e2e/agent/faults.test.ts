// The agent under faults, on real nodes: the API server gone (fail static, no
// garbage collection before a complete list), an unwritable unit directory,
// dbus-daemon restarting and systemd re-executing under it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { UnitSpec } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { activeState, apply, eventsFor, invocationId, unitFileExists, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { getChild, managerCall, startAgentNoWait, waitForChild } from '../../harness/agentHelpers.js';

const execFileP = promisify(execFile);
const NODES = ['af-1', 'af-2'];
const KEEP = 'sdw-default_svc_keep.service';
const VICTIM = 'sdw-default_svc_victim.service';

function workload(name: string, units: UnitSpec[], selector: Record<string, string> = { role: 'f' }): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: { nodeSelector: selector, units },
  });
}
const sleeper = (name: string): UnitSpec => ({ name, command: ['/bin/sleep', 'infinity'] });

describe('agent under faults', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents = new Map<string, OperatorProcess>();
  const immutable: string[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'f' } })) });
    controller = await startController(cluster);
    for (const n of NODES) agents.set(n, await startAgent(cluster, n));
    await apply(cluster, workload('svc', [sleeper('keep'), sleeper('victim')]));
    await waitForWorkload(cluster, 'svc', 'Running on 2 nodes', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2);
  });

  afterAll(async () => {
    for (const d of immutable) await execFileP('chattr', ['-i', d]).catch(() => undefined);
    for (const a of agents.values()) await a.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  /** Starts a node's agent while the API server is down: it connects to systemd, and cannot list. */
  async function startAgentWithoutApiserver(name: string): Promise<OperatorProcess> {
    const agent = await startAgentNoWait(cluster, name);
    agents.set(name, agent);
    await waitFor('agent connected to systemd', async () => (await agent.get('/healthz').catch(() => undefined))?.status === 200, 30_000);
    return agent;
  }

  async function apiserverUp(): Promise<void> {
    cluster.controlPlane.apiserver.start();
    await cluster.controlPlane.waitApiserverReady();
    // The controller gives up leadership (and exits) when it cannot renew its Lease;
    // its Deployment would start it again: so does the test. The agents never exit.
    if (!controller.running) controller = await startController(cluster);
  }

  it('fails static while the API server is down and catches up when it is back', async () => {
    const node = cluster.node('af-1');
    const keepBefore = await invocationId(node, KEEP);
    const victimBefore = await invocationId(node, VICTIM);
    await cluster.controlPlane.apiserver.stop();
    try {
      // During the outage: a crash (SIGKILL of the main process) and a stop by hand.
      await managerCall(node, 'KillUnit', 'ssi', VICTIM, 'main', '9');
      await managerCall(cluster.node('af-2'), 'StopUnit', 'ss', KEEP, 'replace');
      await delay(15_000);
      // systemd restarted the victim, the agent put af-2's keep back without the API server,
      // and nothing else was touched.
      expect(await activeState(node, VICTIM)).toBe('active');
      expect(await invocationId(node, VICTIM)).not.toBe(victimBefore);
      expect(await unitProperty(node, VICTIM, 'Service', 'NRestarts')).toBe('1');
      expect(await invocationId(node, KEEP)).toBe(keepBefore);
      expect(await unitProperty(node, KEEP, 'Service', 'NRestarts')).toBe('0');
      await waitFor('keep back on af-2', async () => (await activeState(cluster.node('af-2'), KEEP)) === 'active', 30_000);
    } finally {
      await apiserverUp();
    }
    expect(agents.get('af-1')!.running).toBe(true); // fail static: the agent rode it out
    // The crash made during the outage shows in status once the API server is back.
    const child = await waitForChild(
      cluster,
      'svc',
      'af-1',
      'the crash reported',
      (c) => {
        const v = c.status?.units?.find((u) => u.name === 'victim');
        return (v?.restarts ?? 0) >= 1 && v?.lastTermination?.reason === 'Killed(signal 9)';
      },
      90_000,
    );
    expect(child.status?.units?.find((u) => u.name === 'victim')?.lastTermination).toMatchObject({ code: 'killed', status: 9 });
    await waitForWorkload(cluster, 'svc', 'restarts counted', (w) => (w.status?.restarts ?? 0) >= 1 && w.status?.readyNodes === 2, 90_000);
    expect(await invocationId(node, KEEP)).toBe(keepBefore);
  });

  it('removes nothing before its first complete list, then garbage-collects what is gone', async () => {
    const node = cluster.node('af-2');
    const OLD = 'sdw-default_old_x.service';
    await apply(cluster, workload('old', [sleeper('x')], { 'kubernetes.io/hostname': 'af-2' }));
    await waitForWorkload(cluster, 'old', 'Running', (w) => w.status?.phase === 'Running');
    const keepBefore = await invocationId(node, KEEP);
    const oldBefore = await invocationId(node, OLD);
    // The agent dies; meanwhile 'old' is deleted and the API server goes away.
    await agents.get('af-2')!.kill();
    await cluster.kubectlOk(['delete', 'sdw', 'old', '--wait=true']);
    await waitFor('old child garbage-collected', async () => (await getChild(cluster, 'old', 'af-2')) === undefined, 60_000);
    await cluster.controlPlane.apiserver.stop();
    let agent: OperatorProcess | undefined;
    try {
      agent = await startAgentWithoutApiserver('af-2');
      await delay(12_000);
      expect(agent.running).toBe(true);
      expect((await agent.get('/readyz')).status).not.toBe(200);
      // No list, no sync: the unit of the deleted workload is still there and running.
      expect((await agent.metric('sdw_agent_syncs_total', { result: 'success' })) ?? 0).toBe(0);
      expect(unitFileExists(node, OLD)).toBe(true);
      expect(await invocationId(node, OLD)).toBe(oldBefore);
      expect(await invocationId(node, KEEP)).toBe(keepBefore);
    } finally {
      await apiserverUp();
    }
    await agent.waitReady(90_000);
    // The first complete list lacks 'old': now it goes, and only it.
    await waitFor('old unit removed', async () => !unitFileExists(node, OLD), 60_000);
    await waitFor('old unit unloaded', async () => (await activeState(node, OLD).catch(() => 'gone')) !== 'active', 30_000);
    expect(await invocationId(node, KEEP)).toBe(keepBefore);
    expect(unitFileExists(node, KEEP)).toBe(true);
  });

  it('reports an unwritable unit directory on that node only, naming the path and errno', async () => {
    const dir = cluster.node('af-1').unitDir;
    await execFileP('chattr', ['+i', dir]);
    immutable.push(dir);
    try {
      await apply(cluster, workload('ro', [sleeper('y')]));
      const child = await waitForChild(cluster, 'ro', 'af-1', 'Failed', (c) => c.status?.phase === 'Failed' && !!c.status.message, 60_000);
      expect(child.status?.message).toContain(`${dir}/sdw-default_ro_y.service`);
      expect(child.status?.message).toMatch(/EPERM \(operation not permitted\)/);
      await waitForChild(cluster, 'ro', 'af-2', 'Running', (c) => c.status?.phase === 'Running');
      const wl = await waitForWorkload(cluster, 'ro', 'one node failed', (w) => w.status?.failedNodes === 1 && w.status.readyNodes === 1);
      expect(wl.status?.nodes?.find((n) => n.node === 'af-1')).toMatchObject({
        phase: 'Failed',
        message: expect.stringContaining('EPERM'),
      });
      expect(wl.status?.nodes?.find((n) => n.node === 'af-2')).toMatchObject({ phase: 'Running' });
      // The other workload on the same node is not blamed for it.
      expect((await getChild(cluster, 'svc', 'af-1'))?.status?.phase).toBe('Running');
    } finally {
      await execFileP('chattr', ['-i', dir]);
      immutable.splice(immutable.indexOf(dir), 1);
    }
    // Writable again: the next resync applies it.
    await waitForWorkload(cluster, 'ro', 'Running everywhere', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2, 90_000);
    await cluster.kubectlOk(['delete', 'sdw', 'ro', '--wait=true']);
  });

  it('reconnects after a dbus-daemon restart and a systemd re-exec without restarting units', async () => {
    const node = cluster.node('af-1');
    const agent = agents.get('af-1')!;
    const before = { keep: await invocationId(node, KEEP), victim: await invocationId(node, VICTIM) };
    const restarts = await unitProperty(node, KEEP, 'Service', 'NRestarts');

    // dbus-daemon restarts: every connection drops (the reply may never come).
    await managerCall(node, 'RestartUnit', 'ss', 'dbus.service', 'replace').catch(() => undefined);
    await waitFor('dbus back', async () => (await node.systemState()) === 'running', 30_000);
    await waitFor(
      'agent reconnected after the dbus restart',
      async () => /systemd connection back, resyncing/.test(agent.logTail(200_000)),
      60_000,
    );
    // The agent still drives systemd: a unit stopped by hand is put back.
    await managerCall(node, 'StopUnit', 'ss', VICTIM, 'replace');
    await waitFor('victim repaired', async () => (await activeState(node, VICTIM)) === 'active', 60_000);
    const afterDbus = (agent.logTail(400_000).match(/systemd connection back/g) ?? []).length;

    // systemd re-executes: it leaves the bus and comes back (Reexecute never replies).
    await managerCall(node, 'Reexecute').catch(() => undefined);
    await waitFor('systemd back', async () => (await node.systemState()) === 'running', 60_000);
    await waitFor(
      'agent reconnected after daemon-reexec',
      async () => (agent.logTail(400_000).match(/systemd connection back/g) ?? []).length > afterDbus,
      60_000,
    );
    // A new unit still reaches this node, and status is right.
    await apply(cluster, workload('svc', [sleeper('keep'), sleeper('victim'), sleeper('extra')]));
    await waitForWorkload(
      cluster,
      'svc',
      'extra rolled out',
      (w) => w.status?.phase === 'Running' && w.status.updatedNodes === 2 && w.status.readyNodes === 2,
      90_000,
    );
    expect(await activeState(node, 'sdw-default_svc_extra.service')).toBe('active');
    const child = await getChild(cluster, 'svc', 'af-1');
    expect(child?.status?.units?.map((u) => [u.name, u.activeState, u.subState])).toEqual([
      ['keep', 'active', 'running'],
      ['victim', 'active', 'running'],
      ['extra', 'active', 'running'],
    ]);
    // Nothing managed was restarted by the reconnects (victim's new invocation is the repair above).
    expect(await invocationId(node, KEEP)).toBe(before.keep);
    expect(await unitProperty(node, KEEP, 'Service', 'NRestarts')).toBe(restarts);
    const events = await eventsFor(cluster, 'SystemdUnitSet', child!.metadata.name!);
    expect(events.some((e) => e.reason === 'DriftRepaired' && e.message.includes(VICTIM))).toBe(true);
    expect(before.victim).toBeDefined();
  });

  it('ends on SIGTERM through its shutdown path, also before its first list (API server down), and units keep running', async () => {
    const node = cluster.node('af-2');
    const keepBefore = await invocationId(node, KEEP);
    await agents.get('af-2')!.stop();
    // SIGTERM, then SIGKILL after the harness's 10 s: exit code 0 means the agent shut itself down.
    expect(agents.get('af-2')!.exitStatus).toEqual({ code: 0, signal: null });
    await cluster.controlPlane.apiserver.stop();
    let agent: OperatorProcess | undefined;
    try {
      agent = await startAgentWithoutApiserver('af-2');
      expect((await agent.get('/readyz')).status).not.toBe(200);
      await agent.stop();
      expect(agent.exitStatus).toEqual({ code: 0, signal: null });
      expect(await activeState(node, KEEP)).toBe('active');
      expect(await invocationId(node, KEEP)).toBe(keepBefore);
    } finally {
      await apiserverUp();
    }
  });
});
