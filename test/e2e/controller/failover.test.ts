// Leader election between two controller processes: one leads (Lease holder,
// leader_election_master_status 1), the other waits; SIGKILL the leader and the
// other takes over, and a change made in between still rolls out.
import { Cluster } from '../../harness/cluster.js';
import { waitFor } from '../../harness/process.js';
import { OPERATOR_NAMESPACE, startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, getWorkload, waitForWorkload } from '../../harness/assertions.js';
import { FakeAgent, listChildren, workloadYaml } from '../../harness/controllerHelpers.js';

const LEASE = 'systemd-workload-operator-controller';

async function holder(cluster: Cluster): Promise<string> {
  const r = await cluster.kubectl(['get', 'lease', LEASE, '-n', OPERATOR_NAMESPACE, '-o', 'jsonpath={.spec.holderIdentity}']);
  return r.code === 0 ? r.stdout.trim() : '';
}

describe('controller: leader failover', () => {
  let cluster: Cluster;
  const controllers = new Map<string, OperatorProcess>();
  let agent: FakeAgent;

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: ['f1', 'f2', 'f3'].map((name) => ({ name, labels: { role: 'f' }, systemd: false })) });
    controllers.set('ctl-a', await startController(cluster, { identity: 'ctl-a' }));
    controllers.set('ctl-b', await startController(cluster, { identity: 'ctl-b' }));
    agent = new FakeAgent(cluster, { applyDelayMs: 500 }).start();
  });

  afterAll(async () => {
    agent?.stop();
    for (const c of controllers.values()) await c.stop();
    await cluster?.stop();
  });

  it('one controller leads, the other stands by; after SIGKILL of the leader the other takes over and rolls out a change made meanwhile', async () => {
    await apply(cluster, workloadYaml('fo', { selector: { role: 'f' } }));
    const first = await waitForWorkload(
      cluster,
      'fo',
      'Running on 3 nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 3,
      90_000,
    );
    const leaderId = await waitFor(
      'a lease holder',
      async () => {
        const h = await holder(cluster);
        return controllers.has(h) ? h : undefined;
      },
      60_000,
    );
    const standbyId = leaderId === 'ctl-a' ? 'ctl-b' : 'ctl-a';
    const leader = controllers.get(leaderId)!;
    const standby = controllers.get(standbyId)!;
    expect(await leader.metric('leader_election_master_status')).toBe(1);
    expect(await standby.metric('leader_election_master_status')).toBe(0);
    // the standby is ready (warm caches) but reconciles nothing
    expect((await standby.get('/readyz')).status).toBe(200);
    expect(await standby.metric('controller_runtime_reconcile_total', { result: 'requeue_after' })).toBe(0);

    await leader.kill(); // SIGKILL: no lease release, the standby must wait it out
    await apply(cluster, workloadYaml('fo', { selector: { role: 'f' }, arg: '424242' }));

    await waitFor('standby holds the lease', async () => (await holder(cluster)) === standbyId, 90_000);
    await waitFor('standby reports itself leader', async () => (await standby.metric('leader_election_master_status')) === 1, 30_000);
    const wl = await waitForWorkload(
      cluster,
      'fo',
      'change rolled out by the new leader',
      (w) =>
        w.status?.hash !== first.status!.hash && w.status?.updatedNodes === 3 && w.status.readyNodes === 3 && w.status.phase === 'Running',
      120_000,
    );
    const children = await listChildren(cluster);
    expect(children).toHaveLength(3);
    expect(children.every((c) => c.spec.hash === wl.status!.hash && c.spec.units[0]!.files[0]!.content.includes('424242'))).toBe(true);
    expect(await standby.metric('controller_runtime_reconcile_total', { result: 'requeue_after' })).toBeGreaterThan(0);
    const transitions = await cluster.kubectlOk([
      'get',
      'lease',
      LEASE,
      '-n',
      OPERATOR_NAMESPACE,
      '-o',
      'jsonpath={.spec.leaseTransitions}',
    ]);
    expect(Number(transitions)).toBeGreaterThanOrEqual(1);
    expect((await getWorkload(cluster, 'fo'))!.status!.observedGeneration).toBe(wl.metadata.generation);
  });
});
