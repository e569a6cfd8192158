// Game day, measured (issue 7, scenarios 1, 4, 5 and 10; their behaviour is
// also asserted in test/e2e/{workload,agent/faults,controller/failover}.test.ts):
// agent SIGKILL, dbus-daemon restart and systemd re-exec, controller leader
// SIGKILL with a change made meanwhile, an unwritable unit directory on one
// node. Each prints what it measured and asks systemd whether any managed unit
// was stopped or restarted.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { UnitSpec } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { OPERATOR_NAMESPACE, startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { activeState, apply, invocationId, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { managerCall, waitForChild } from '../../harness/agentHelpers.js';
import { faultResult, since, snapshotUnits, unitsChangedSince } from '../../harness/faults.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const execFileP = promisify(execFile);
const NODES = ['rc-1', 'rc-2'];
const A = 'sdw-default_svc_a.service';
const CRASHY = 'sdw-default_crashy_main.service';
const LEASE = 'systemd-workload-operator-controller';

function workload(name: string, units: UnitSpec[], selector: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: { nodeSelector: selector, units },
  });
}
const svc = (memory: string): string =>
  workload(
    'svc',
    [
      { name: 'a', command: ['/bin/sleep', 'infinity'], resources: { limits: { memory } } },
      { name: 'b', command: ['/bin/sleep', 'infinity'] },
    ],
    { role: 'rc' },
  );
const sleeper = (name: string): UnitSpec => ({ name, command: ['/bin/sleep', 'infinity'] });
const mib = (n: number): string => String(n * 1024 * 1024);

const running =
  (n: number) =>
  (w: SystemdWorkload): boolean =>
    w.status?.phase === 'Running' &&
    w.status.readyNodes === n &&
    w.status.updatedNodes === n &&
    w.status.desiredNodes === n &&
    (w.status.unknownNodes ?? 0) === 0;

describe('faults: agent, systemd, controller and disk, measured', () => {
  let cluster: Cluster;
  const controllers = new Map<string, OperatorProcess>();
  const agents = new Map<string, OperatorProcess>();
  const immutable: string[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'rc' } })) });
    controllers.set('ctl-a', await startController(cluster, { identity: 'ctl-a' }));
    controllers.set('ctl-b', await startController(cluster, { identity: 'ctl-b' }));
    for (const n of NODES) agents.set(n, await startAgent(cluster, n));
    await apply(cluster, svc('64Mi'));
    await apply(
      cluster,
      workload('crashy', [{ name: 'main', command: ['/bin/sleep', 'infinity'], restart: { policy: 'Always', delaySeconds: 1 } }], {
        'kubernetes.io/hostname': 'rc-1',
      }),
    );
    await waitForWorkload(cluster, 'svc', 'Running', running(2), 120_000);
    await waitForWorkload(cluster, 'crashy', 'Running', running(1), 120_000);
  });

  afterAll(async () => {
    for (const d of immutable) await execFileP('chattr', ['-i', d]).catch(() => undefined);
    for (const a of agents.values()) await a.stop();
    for (const c of controllers.values()) await c.stop();
    await cluster?.stop();
  });

  const crashRestarts = async (): Promise<number> => {
    const out = await cluster.kubectlOk([
      'get',
      'systemdunitsets',
      '-l',
      'systemd.operators.dev/workload=crashy',
      '-o',
      'jsonpath={.items[0].status.units[0].restarts}',
    ]);
    return Number(out.trim() || '0');
  };

  it('scenario 1: agent SIGKILL, a crash while it is down, agent restarted: adopts, 0 restarts, status right again', async () => {
    const node = cluster.node('rc-1');
    const units = await snapshotUnits(cluster, NODES, [/crashy/]);
    const before = await crashRestarts();
    const crashInv = await invocationId(node, CRASHY);
    const t0 = Date.now();
    await agents.get('rc-1')!.kill();
    await managerCall(node, 'KillUnit', 'ssi', CRASHY, 'main', '9');
    await waitFor(
      'systemd restarted crashy',
      async () => (await activeState(node, CRASHY)) === 'active' && (await invocationId(node, CRASHY)) !== crashInv,
      30_000,
    );
    const restartAt = Date.now();
    agents.set('rc-1', await startAgent(cluster, 'rc-1'));
    const readyMs = since(restartAt);
    await waitForChild(
      cluster,
      'crashy',
      'rc-1',
      'the crash reported',
      (c) => (c.status?.units?.[0]?.restarts ?? 0) > before && c.status?.phase === 'Running',
      90_000,
    );
    const statusMs = since(restartAt);
    await waitForWorkload(cluster, 'svc', 'Running', running(2), 60_000);
    const changed = await unitsChangedSince(cluster, units);
    faultResult({
      scenario: '1 agent SIGKILL + restart',
      agentDownMs: restartAt - t0,
      agentReadyMs: readyMs,
      recoveryMs: statusMs,
      statusRightMs: statusMs,
      unitsRestarted: changed.length,
      unitsChecked: units.length,
      agentSyncs: await agents.get('rc-1')!.metric('sdw_agent_syncs_total', { result: 'success' }),
    });
    expect(changed).toEqual([]);
  });

  it('scenario 4: dbus-daemon restarted, then systemd re-executed: the agent reconnects and resyncs, nothing restarted', async () => {
    const node = cluster.node('rc-1');
    const agent = agents.get('rc-1')!;
    const units = await snapshotUnits(cluster, NODES, [/crashy/]);
    const count = (): number => (agent.logTail(1_000_000).match(/systemd connection back/g) ?? []).length;
    const c0 = count();
    const t0 = Date.now();
    await managerCall(node, 'RestartUnit', 'ss', 'dbus.service', 'replace').catch(() => undefined);
    await waitFor('agent reconnected after the dbus restart', async () => count() > c0, 90_000, 200);
    const dbusMs = since(t0);
    await apply(cluster, svc('72Mi'));
    await waitFor(
      'a change applied after the dbus restart',
      async () => (await unitProperty(node, A, 'Service', 'MemoryMax')) === mib(72),
      90_000,
    );
    const dbusChangeMs = since(t0);
    await waitFor('systemd running', async () => (await node.systemState()) === 'running', 30_000);
    const c1 = count();
    const t1 = Date.now();
    await managerCall(node, 'Reexecute').catch(() => undefined);
    await waitFor('agent reconnected after daemon-reexec', async () => count() > c1, 90_000, 200);
    const reexecMs = since(t1);
    await apply(cluster, svc('80Mi'));
    await waitFor(
      'a change applied after the re-exec',
      async () => (await unitProperty(node, A, 'Service', 'MemoryMax')) === mib(80),
      90_000,
    );
    const reexecChangeMs = since(t1);
    await waitForWorkload(cluster, 'svc', 'Running', running(2), 90_000);
    const changed = await unitsChangedSince(cluster, units);
    faultResult({
      scenario: '4 dbus restart + daemon-reexec',
      recoveryMs: Math.max(dbusChangeMs, reexecChangeMs),
      dbusReconnectMs: dbusMs,
      dbusChangeAppliedMs: dbusChangeMs,
      reexecReconnectMs: reexecMs,
      reexecChangeAppliedMs: reexecChangeMs,
      unitsRestarted: changed.length,
      unitsChecked: units.length,
    });
    expect(changed).toEqual([]);
  });

  it('scenario 5: controller leader SIGKILL: the standby takes over and rolls out a change made meanwhile', async () => {
    const units = await snapshotUnits(cluster, NODES, [/crashy/]);
    const holder = async (): Promise<string> =>
      (await cluster.kubectl(['get', 'lease', LEASE, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.spec.holderIdentity}'])).stdout.trim();
    const leaderId = await waitFor(
      'a leader',
      async () => {
        const h = await holder();
        return controllers.has(h) ? h : undefined;
      },
      60_000,
    );
    const standbyId = leaderId === 'ctl-a' ? 'ctl-b' : 'ctl-a';
    const t0 = Date.now();
    await controllers.get(leaderId)!.kill();
    await apply(cluster, svc('88Mi'));
    await waitFor('standby holds the lease', async () => (await holder()) === standbyId, 90_000, 200);
    const takeoverMs = since(t0);
    await waitForWorkload(cluster, 'svc', 'change rolled out', (w) => running(2)(w), 120_000);
    for (const n of NODES)
      await waitFor(
        `${n} MemoryMax 88Mi`,
        async () => (await unitProperty(cluster.node(n), A, 'Service', 'MemoryMax')) === mib(88),
        60_000,
      );
    const rolloutMs = since(t0);
    // The killed replica comes back (as its Deployment would make it) and stands by.
    const old = controllers.get(leaderId)!;
    old.start();
    await old.waitReady();
    const changed = await unitsChangedSince(cluster, units);
    faultResult({
      scenario: '5 controller leader SIGKILL',
      recoveryMs: rolloutMs,
      takeoverMs,
      changeRolledOutMs: rolloutMs,
      controllerRestarts: 1,
      unitsRestarted: changed.length,
      unitsChecked: units.length,
    });
    expect(changed).toEqual([]);
  });

  it('scenario 10: unit directory unwritable on one node: a clear error there, the other node goes on', async () => {
    const units = await snapshotUnits(cluster, NODES, [/crashy/]);
    const dir = cluster.node('rc-2').unitDir;
    await execFileP('chattr', ['+i', dir]);
    immutable.push(dir);
    const t0 = Date.now();
    let errorMs = 0;
    let otherMs = 0;
    try {
      await apply(cluster, workload('ro', [sleeper('y')], { role: 'rc' }));
      const child = await waitForChild(
        cluster,
        'ro',
        'rc-2',
        'Failed',
        (c) => c.status?.phase === 'Failed' && /EPERM/.test(c.status.message ?? ''),
        90_000,
      );
      errorMs = since(t0);
      expect(child.status?.message).toContain(dir);
      await waitForChild(cluster, 'ro', 'rc-1', 'Running', (c) => c.status?.phase === 'Running', 90_000);
      otherMs = since(t0);
      await waitForWorkload(
        cluster,
        'ro',
        'one failed, one ready',
        (w) => w.status?.failedNodes === 1 && w.status.readyNodes === 1,
        90_000,
      );
    } finally {
      await execFileP('chattr', ['-i', dir]);
      immutable.splice(immutable.indexOf(dir), 1);
    }
    const t1 = Date.now();
    await waitForWorkload(cluster, 'ro', 'Running on both', running(2), 120_000);
    const recoveryMs = since(t1);
    await delay(1000);
    const changed = await unitsChangedSince(cluster, units);
    faultResult({
      scenario: '10 unit dir unwritable on one node',
      errorReportedMs: errorMs,
      otherNodeRunningMs: otherMs,
      recoveryMs,
      unitsRestarted: changed.length,
      unitsChecked: units.length,
    });
    expect(changed).toEqual([]);
    await cluster.kubectlOk(['delete', 'sdw', 'ro', '--wait=true']);
  });
});
