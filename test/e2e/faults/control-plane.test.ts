// Game day, control plane (issue 7, scenarios 2 and 3): the API server stopped
// for 45 s (every watch and every Lease expires: agents' heartbeats, the
// controller's leadership), then etcd stopped for 45 s under a running API
// server. Real nodes, real agents, the controller supervised as its Deployment
// would restart it. Each time: no managed unit stopped or restarted (systemd's
// InvocationID / NRestarts / ActiveEnterTimestamp), the agents' status catches
// up (a crash made during the outage shows), the exact same children before
// and after, and the workload Running again.
import type { UnitSpec } from '../../../src/api/types.js';
import { Cluster } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { OPERATOR_NAMESPACE, startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { activeState, apply, invocationId, waitForWorkload } from '../../harness/assertions.js';
import { managerCall, waitForChild } from '../../harness/agentHelpers.js';
import { Supervisor } from '../../harness/supervisor.js';
import { childIds, faultResult, since, snapshotUnits, unitsChangedSince } from '../../harness/faults.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const NODES = ['cp-1', 'cp-2', 'cp-3'];
const OUTAGE_MS = 45_000;
const CRASHY = 'sdw-default_crashy_main.service';

function workload(name: string, units: UnitSpec[], selector: Record<string, string>): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: { nodeSelector: selector, units },
  });
}
const sleeper = (name: string): UnitSpec => ({ name, command: ['/bin/sleep', 'infinity'] });

const running =
  (n: number) =>
  (w: SystemdWorkload): boolean =>
    w.status?.phase === 'Running' &&
    w.status.readyNodes === n &&
    w.status.updatedNodes === n &&
    w.status.desiredNodes === n &&
    (w.status.unknownNodes ?? 0) === 0;

describe('faults: control plane outages', () => {
  let cluster: Cluster;
  let controller: Supervisor | undefined;
  const agents = new Map<string, OperatorProcess>();

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'cp' } })) });
    const ctl = await startController(cluster, { heartbeatGraceSeconds: 10 });
    controller = new Supervisor(ctl, { backoffMs: 1000, maxBackoffMs: 4000 }).start();
    for (const n of NODES) agents.set(n, await startAgent(cluster, n, { heartbeatPeriodSeconds: 2 }));
    await apply(cluster, workload('svc', [sleeper('a'), sleeper('b')], { role: 'cp' }));
    await apply(cluster, workload('pinned', [sleeper('x')], { 'kubernetes.io/hostname': 'cp-2' }));
    await apply(
      cluster,
      workload('crashy', [{ name: 'main', command: ['/bin/sleep', 'infinity'], restart: { policy: 'Always', delaySeconds: 1 } }], {
        'kubernetes.io/hostname': 'cp-1',
      }),
    );
    await waitForWorkload(cluster, 'svc', 'Running on 3 nodes', running(3), 120_000);
    await waitForWorkload(cluster, 'pinned', 'Running', running(1), 120_000);
    await waitForWorkload(cluster, 'crashy', 'Running', running(1), 120_000);
  });

  afterAll(async () => {
    await controller?.stop();
    for (const a of agents.values()) await a.stop();
    await cluster?.stop();
  });

  async function leaseRenewedAfter(node: string, t: number): Promise<boolean> {
    const r = await cluster.kubectl(['get', 'lease', `sdw-agent-${node}`, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.spec.renewTime}']);
    return r.code === 0 && Date.parse(r.stdout.trim()) > t;
  }

  /** The outage is over: wait for everything a user would check, and measure it. */
  async function recovery(upAt: number, crashRestartsBefore: number): Promise<Record<string, number>> {
    const m: Record<string, number> = {};
    await Promise.all(NODES.map((n) => waitFor(`${n} heartbeat renewed`, () => leaseRenewedAfter(n, upAt), 120_000, 250)));
    m.heartbeatsMs = since(upAt);
    await waitFor(
      'controller ready again',
      async () => controller!.proc.running && (await controller!.proc.get('/readyz').catch(() => undefined))?.status === 200,
      120_000,
      250,
    );
    m.controllerReadyMs = since(upAt);
    // The agent's status caught up: the crash made during the outage is reported.
    await waitForChild(
      cluster,
      'crashy',
      'cp-1',
      'the crash during the outage reported',
      (c) => (c.status?.units?.[0]?.restarts ?? 0) > crashRestartsBefore && c.status?.phase === 'Running',
      120_000,
    );
    m.statusCaughtUpMs = since(upAt);
    await waitForWorkload(cluster, 'svc', 'Running again', running(3), 120_000);
    await waitForWorkload(cluster, 'pinned', 'Running again', running(1), 120_000);
    await waitForWorkload(
      cluster,
      'crashy',
      'Running again, restart counted',
      (w) => running(1)(w) && (w.status?.restarts ?? 0) > crashRestartsBefore,
      120_000,
    );
    m.workloadsRunningMs = since(upAt);
    return m;
  }

  async function outage(scenario: string, down: () => Promise<void>, up: () => Promise<void>): Promise<void> {
    const units = await snapshotUnits(cluster, NODES, [/crashy/]);
    expect(units.length).toBe(3 * 2 + 1);
    expect(units.every((u) => u.activeState === 'active')).toBe(true);
    const children = await childIds(cluster);
    expect(children).toHaveLength(5);
    const crashRestartsBefore = (await getCrashRestarts()) ?? 0;
    const restartsBefore = controller!.restarts;
    const crashInvocation = await invocationId(cluster.node('cp-1'), CRASHY);

    const downAt = Date.now();
    await down();
    let startCalledAt = 0;
    try {
      // During the outage a unit crashes (systemd restarts it; the agent must report it later).
      await delay(5000);
      await managerCall(cluster.node('cp-1'), 'KillUnit', 'ssi', CRASHY, 'main', '9');
      await delay(Math.max(OUTAGE_MS - since(downAt), 0));
      // Fail static: every agent rode it out, every unit is still the same invocation.
      expect([...agents.values()].every((a) => a.running)).toBe(true);
      expect(await unitsChangedSince(cluster, units)).toEqual([]);
      await waitFor(
        'crashy restarted by systemd',
        async () =>
          (await activeState(cluster.node('cp-1'), CRASHY)) === 'active' &&
          (await invocationId(cluster.node('cp-1'), CRASHY)) !== crashInvocation,
        30_000,
      );
    } finally {
      startCalledAt = Date.now();
      await up();
    }
    const upAt = Date.now();
    const m = await recovery(upAt, crashRestartsBefore);
    // kube-controller-manager (garbage collector) must be there for the checks below to mean anything.
    const kcmRestarted = !cluster.controlPlane.controllerManager?.running;
    if (kcmRestarted) cluster.controlPlane.controllerManager?.start();
    await delay(5000); // a moment for anything wrong (a duplicate, a GC, a restart) to happen
    const changed = await unitsChangedSince(cluster, units);
    const after = await childIds(cluster);
    // When the leader noticed it could no longer renew its Lease and exited (renew deadline 4 s).
    const exit = controller!.exits.find((t) => t >= downAt);
    faultResult({
      scenario,
      downMs: startCalledAt - downAt,
      backReadyMs: upAt - startCalledAt,
      ...m,
      recoveryMs: m.workloadsRunningMs,
      controllerExitAfterMs: exit === undefined ? null : exit - downAt,
      controllerRestarts: controller!.restarts - restartsBefore,
      agentRestarts: 0,
      unitsRestarted: changed.length,
      unitsChecked: units.length,
      childrenBefore: children.length,
      childrenAfter: after.length,
      childrenReplaced: children.filter((c) => !after.some((a) => a.uid === c.uid)).length,
      kubeControllerManagerRestarted: kcmRestarted,
    });
    expect(changed).toEqual([]);
    // The leader stopped leading while it could not renew (not only once the outage was over).
    expect(exit).toBeLessThan(startCalledAt);
    expect(after).toEqual(children); // same names, nodes, uids and hashes: none lost, none duplicated, none recreated
    expect([...agents.values()].every((a) => a.running)).toBe(true);
  }

  async function getCrashRestarts(): Promise<number | undefined> {
    const out = await cluster.kubectlOk([
      'get',
      'systemdunitsets',
      '-l',
      'systemd.operators.dev/workload=crashy',
      '-o',
      'jsonpath={.items[0].status.units[0].restarts}',
    ]);
    return out.trim() ? Number(out.trim()) : undefined;
  }

  it('scenario 2: the API server stopped for 45 s (watches and leases expire), then started', async () => {
    await outage(
      '2 apiserver down 45s',
      async () => {
        await cluster.controlPlane.apiserver.stop();
      },
      async () => {
        cluster.controlPlane.apiserver.start();
        await cluster.controlPlane.waitApiserverReady(120_000);
      },
    );
  });

  it('scenario 3: etcd stopped for 45 s under the API server, then started', async () => {
    await outage(
      '3 etcd down 45s',
      async () => {
        await cluster.controlPlane.etcd.stop();
      },
      async () => {
        cluster.controlPlane.etcd.start();
        await cluster.controlPlane.waitApiserverReady(120_000);
      },
    );
  });
});
