// The controller against a real API server, with Node objects but no systemd:
// a fake agent reports the children's status through the API, so rollouts can
// be watched step by step. kubectl is the client for everything a user checks.
import { Cluster, setNodeReady } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, eventsFor, getWorkload, waitForWorkload } from '../../harness/assertions.js';
import { ChildRecorder, FakeAgent, FakeHeartbeat, listChildren, workloadYaml } from '../../harness/controllerHelpers.js';
import type { SystemdUnitSet, SystemdWorkload } from '../../../src/api/types.js';

const SEL = { role: 'app' };
const NODES = ['n1', 'n2', 'n3', 'n4'];

async function kubectlChildren(cluster: Cluster): Promise<SystemdUnitSet[]> {
  return (
    JSON.parse(
      await cluster.kubectlOk(['get', 'systemdunitsets', '-n', 'default', '-l', 'systemd.operators.dev/workload=app', '-o', 'json']),
    ) as { items: SystemdUnitSet[] }
  ).items;
}

const settled =
  (n: number) =>
  (w: SystemdWorkload): boolean =>
    w.status?.phase === 'Running' &&
    w.status.desiredNodes === n &&
    w.status.readyNodes === n &&
    w.status.updatedNodes === n &&
    w.status.currentNodes === n;

describe('controller: workload lifecycle against a real API server', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  let agent: FakeAgent;
  const heartbeats: FakeHeartbeat[] = [];
  const recorders: ChildRecorder[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start({
      nodes: [...NODES.map((name) => ({ name, labels: SEL, systemd: false })), { name: 'n5', systemd: false }],
    });
    controller = await startController(cluster, { heartbeatGraceSeconds: 5 });
    agent = new FakeAgent(cluster, { applyDelayMs: 1500 }).start();
  });

  afterAll(async () => {
    agent?.stop();
    heartbeats.forEach((h) => h.stop());
    recorders.forEach((r) => r.stop());
    await controller?.stop();
    await cluster?.stop();
  });

  it('creates one child per matching node, owned by the workload, and reports Running', async () => {
    await apply(cluster, workloadYaml('app', { selector: SEL }));
    const wl = await waitForWorkload(cluster, 'app', 'Running on 4 nodes', settled(4), 90_000);
    expect(wl.status).toMatchObject({ desiredNodes: 4, currentNodes: 4, readyNodes: 4, updatedNodes: 4, failedNodes: 0, unknownNodes: 0 });
    expect(wl.status!.conditions!.find((c) => c.type === 'Available')).toMatchObject({
      status: 'True',
      observedGeneration: wl.metadata.generation,
    });
    const table = await cluster.kubectlOk(['get', 'sdw', 'app']);
    expect(table).toMatch(/^NAME\s+DESIRED\s+READY\s+UP-TO-DATE\s+RESTARTS\s+PHASE\s+AGE/m);
    expect(table).toMatch(/^app\s+4\s+4\s+4\s+0\s+Running\s/m);
    const children = await kubectlChildren(cluster);
    expect(children.map((c) => c.spec.nodeName).sort()).toEqual(NODES);
    for (const c of children) {
      expect(c.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'SystemdWorkload', name: 'app', uid: wl.metadata.uid, controller: true }),
      ]);
      expect(c.metadata.labels?.['systemd.operators.dev/node']).toBe(c.spec.nodeName);
      expect(c.spec.hash).toBe(wl.status!.hash);
    }
    const events = await eventsFor(cluster, 'SystemdWorkload', 'app');
    expect(events.map((e) => e.reason)).toContain('RolloutComplete');
  });

  it('serves /healthz, /readyz and controller-runtime metrics', async () => {
    expect((await controller.get('/healthz')).status).toBe(200);
    const ready = await controller.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(/informers-synced ok/);
    expect(
      await controller.metric('controller_runtime_reconcile_total', { controller: 'systemdworkload', result: 'requeue_after' }),
    ).toBeGreaterThan(0);
    expect(
      await controller.metric('controller_runtime_reconcile_total', { controller: 'systemdworkload', result: 'error' }),
    ).toBeGreaterThanOrEqual(0);
    expect(await controller.metric('controller_runtime_reconcile_errors_total', { controller: 'systemdworkload' })).toBeGreaterThanOrEqual(
      0,
    );
    expect(await controller.metric('controller_runtime_reconcile_time_seconds_count', { controller: 'systemdworkload' })).toBeGreaterThan(
      0,
    );
    expect(await controller.metric('workqueue_depth', { name: 'systemdworkload' })).toBeGreaterThanOrEqual(0);
    expect(await controller.metric('workqueue_adds_total', { name: 'systemdworkload' })).toBeGreaterThan(0);
    expect(await controller.metric('workqueue_queue_duration_seconds_count', { name: 'systemdworkload' })).toBeGreaterThan(0);
    expect(await controller.metric('workqueue_longest_running_processor_seconds', { name: 'systemdworkload' })).toBeGreaterThanOrEqual(0);
    expect(await controller.metric('leader_election_master_status')).toBe(1);
  });

  it("exports the workload's status as series: phase, desired, ready, updated nodes", async () => {
    const app = { namespace: 'default', workload: 'app' };
    // read from the controller's cache at scrape time, which may trail kubectl by a watch event
    await waitFor(
      'sdw_workload_phase Running 1',
      async () => (await controller.metric('sdw_workload_phase', { ...app, phase: 'Running' })) === 1,
    );
    expect(await controller.metric('sdw_workload_phase', { ...app, phase: 'Degraded' })).toBe(0);
    expect(await controller.metric('sdw_workload_nodes_desired', app)).toBe(4);
    expect(await controller.metric('sdw_workload_nodes_ready', app)).toBe(4);
    expect(await controller.metric('sdw_workload_nodes_updated', app)).toBe(4);
    expect(await controller.metric('sdw_workload_restarts', app)).toBe(0);
    expect(await controller.metric('sdw_workload_condition', { ...app, type: 'Available', status: 'True' })).toBe(1);
  });

  it('kubectl explain describes the units from the CRD', async () => {
    const out = await cluster.kubectlOk(['explain', 'systemdworkload.spec.units']);
    expect(out).toMatch(/DESCRIPTION:\s+The units of the workload/);
    expect(out).toMatch(/command\s+<\[\]string> -required-\s+The argv, rendered to ExecStart=/);
    expect(out).toMatch(/sandbox\s+<Object>\s+systemd's sandboxing/);
  });

  it('follows a node that gains the label', async () => {
    await cluster.kubectlOk(['label', 'node', 'n5', 'role=app']);
    await waitForWorkload(cluster, 'app', 'Running on 5 nodes', settled(5), 90_000);
    expect((await kubectlChildren(cluster)).map((c) => c.spec.nodeName).sort()).toEqual([...NODES, 'n5']);
  });

  it('keeps the child of a node that turns NotReady and is tainted unreachable:NoExecute', async () => {
    await setNodeReady(cluster.kc, 'n5', false);
    await cluster.kubectlOk(['taint', 'node', 'n5', 'node.kubernetes.io/unreachable:NoExecute']);
    // A while in which the controller sees the taint (it re-reconciles on taint changes).
    const until = Date.now() + 8000;
    while (Date.now() < until) {
      expect((await kubectlChildren(cluster)).map((c) => c.spec.nodeName)).toContain('n5');
      await delay(500);
    }
    const wl = await getWorkload(cluster, 'app');
    expect(wl?.status).toMatchObject({ desiredNodes: 5, currentNodes: 5 });
    await cluster.kubectlOk(['taint', 'node', 'n5', 'node.kubernetes.io/unreachable:NoExecute-']);
    await setNodeReady(cluster.kc, 'n5', true);
  });

  it('removes the child of a deleted Node and the counts follow', async () => {
    await cluster.kubectlOk(['delete', 'node', 'n5']);
    await waitForWorkload(cluster, 'app', 'back to 4 nodes', settled(4), 90_000);
    await waitFor('child of n5 removed', async () => !(await kubectlChildren(cluster)).some((c) => c.spec.nodeName === 'n5'), 60_000);
    expect((await kubectlChildren(cluster)).map((c) => c.spec.nodeName).sort()).toEqual(NODES);
  });

  it('rolls a change out one node at a time with maxUnavailable 1, each batch waiting minReadySeconds', async () => {
    const before = (await getWorkload(cluster, 'app'))!.status!.hash!;
    const rec = new ChildRecorder(cluster, 'app').start();
    recorders.push(rec);
    await apply(cluster, workloadYaml('app', { selector: SEL, arg: '1000001', maxUnavailable: 1, minReadySeconds: 3 }));
    const wl = await waitForWorkload(cluster, 'app', 'rolled out', (w) => w.status?.hash !== before && settled(4)(w), 120_000);
    rec.stop();
    const hash = wl.status!.hash!;
    const counts = rec.unavailableCounts(3);
    expect(Math.max(...counts)).toBe(1); // never more than one; and the rollout did happen
    // Each node got the new spec only after the previous one had been ready for minReadySeconds.
    const started = [...rec.firstSeenWithHash(hash).entries()].sort((a, b) => a[1] - b[1]);
    const readyAt = rec.readySinceFor(hash);
    expect(started.map(([n]) => n).sort()).toEqual(NODES);
    for (let i = 1; i < started.length; i++) {
      const prevReady = readyAt.get(started[i - 1]![0])!;
      expect(started[i]![1]).toBeGreaterThanOrEqual(prevReady + 3000);
    }
    const reasons = (await eventsFor(cluster, 'SystemdWorkload', 'app')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['RolloutStarted', 'RolloutComplete']));
  });

  it('rolls out with a percentage: 50% of 4 nodes is two at a time, never more', async () => {
    const before = (await getWorkload(cluster, 'app'))!.status!.hash!;
    const rec = new ChildRecorder(cluster, 'app').start();
    recorders.push(rec);
    await apply(cluster, workloadYaml('app', { selector: SEL, arg: '1000002', maxUnavailable: '50%' }));
    await waitForWorkload(cluster, 'app', 'rolled out', (w) => w.status?.hash !== before && settled(4)(w), 120_000);
    rec.stop();
    expect(Math.max(...rec.unavailableCounts(0))).toBe(2);
  });

  it('paused stops the rollout where it is; unpausing resumes it', async () => {
    await delay(7000); // every node ready for longer than the minReadySeconds below
    const before = (await getWorkload(cluster, 'app'))!.status!.hash!;
    const rec = new ChildRecorder(cluster, 'app').start();
    recorders.push(rec);
    await apply(cluster, workloadYaml('app', { selector: SEL, arg: '1000003', maxUnavailable: 1, minReadySeconds: 6 }));
    const wl = await waitForWorkload(cluster, 'app', 'new hash', (w) => w.status?.hash !== before, 60_000);
    const hash = wl.status!.hash!;
    await waitFor('first node updated', async () => (await kubectlChildren(cluster)).some((c) => c.spec.hash === hash), 60_000);
    await cluster.kubectlOk(['patch', 'sdw', 'app', '--type=merge', '-p', '{"spec":{"paused":true}}']);
    const paused = await waitForWorkload(
      cluster,
      'app',
      'paused',
      (w) => w.status?.conditions?.find((c) => c.type === 'Progressing')?.reason === 'RolloutPaused',
      60_000,
    );
    expect(paused.status!.phase).toBe('Progressing');
    const updatedAtPause = (await kubectlChildren(cluster)).filter((c) => c.spec.hash === hash).length;
    expect(updatedAtPause).toBeLessThan(4);
    await delay(12_000); // two minReadySeconds: without the pause the next node would have been updated
    expect((await kubectlChildren(cluster)).filter((c) => c.spec.hash === hash).length).toBe(updatedAtPause);
    await cluster.kubectlOk(['patch', 'sdw', 'app', '--type=merge', '-p', '{"spec":{"paused":false}}']);
    await waitForWorkload(cluster, 'app', 'rollout resumed and finished', (w) => w.status?.hash === hash && settled(4)(w), 180_000);
    rec.stop();
    expect(Math.max(...rec.unavailableCounts(6))).toBe(1);
  });

  it('reports a failing node: Degraded, the node first in the list, a NodeFailed Warning event', async () => {
    agent.failing.set('n3', 'main.service: exited with status 3');
    const wl = await waitForWorkload(
      cluster,
      'app',
      'Degraded',
      (w) => w.status?.phase === 'Degraded' && w.status.failedNodes === 1,
      60_000,
    );
    expect(wl.status!.nodes![0]).toMatchObject({ node: 'n3', phase: 'Failed', exitCode: 3 });
    expect(wl.status!.conditions!.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'NodesFailed' });
    // what SystemdWorkloadDegraded alerts on (config/prometheus/monitor)
    await waitFor(
      'sdw_workload_phase Degraded 1',
      async () => (await controller.metric('sdw_workload_phase', { workload: 'app', phase: 'Degraded' })) === 1,
      30_000,
    );
    expect(await controller.metric('sdw_workload_nodes_failed', { namespace: 'default', workload: 'app' })).toBe(1);
    await waitFor(
      'NodeFailed event',
      async () => {
        const out = await cluster.kubectlOk([
          'get',
          'events',
          '-n',
          'default',
          '--field-selector',
          'involvedObject.name=app,reason=NodeFailed',
        ]);
        return /Warning\s+NodeFailed\s+systemdworkload\/app\s+node n3/.test(out) ? out : undefined;
      },
      30_000,
    );
    agent.failing.delete('n3');
    await waitForWorkload(cluster, 'app', 'Running again', settled(4), 60_000);
  });

  it('writes status only when it changes: idle reconciles leave the resourceVersion alone', async () => {
    await waitForWorkload(cluster, 'app', 'settled', settled(4), 60_000);
    await delay(2000);
    const rv = (await getWorkload(cluster, 'app'))!.metadata.resourceVersion;
    const reconciles =
      (await controller.metric('controller_runtime_reconcile_total', { controller: 'systemdworkload', result: 'requeue_after' })) ?? 0;
    // Node label changes make the controller re-reconcile every workload; nothing about them matters here.
    for (let i = 0; i < 5; i++) {
      await cluster.kubectlOk(['label', 'node', 'n1', `touch=t${i}`, '--overwrite']);
      await delay(2000);
    }
    expect(
      (await controller.metric('controller_runtime_reconcile_total', { controller: 'systemdworkload', result: 'requeue_after' })) ?? 0,
    ).toBeGreaterThan(reconciles);
    expect((await getWorkload(cluster, 'app'))!.metadata.resourceVersion).toBe(rv);
  });

  it('shows a node whose agent heartbeat goes silent as Unknown and keeps its child', async () => {
    const hb = await new FakeHeartbeat(cluster, 'n2', 1000).start(cluster);
    heartbeats.push(hb);
    await delay(3000);
    expect((await getWorkload(cluster, 'app'))!.status!.unknownNodes).toBe(0);
    hb.stop();
    const wl = await waitForWorkload(cluster, 'app', 'n2 Unknown', (w) => w.status?.unknownNodes === 1, 60_000);
    expect(wl.status!.phase).toBe('Degraded');
    expect(wl.status!.nodes![0]).toMatchObject({ node: 'n2', phase: 'Unknown' });
    expect(wl.status!.conditions!.find((c) => c.type === 'Degraded')).toMatchObject({ status: 'True', reason: 'NodesUnknown' });
    const uid = (await kubectlChildren(cluster)).find((c) => c.spec.nodeName === 'n2')!.metadata.uid;
    await delay(5000);
    expect((await kubectlChildren(cluster)).find((c) => c.spec.nodeName === 'n2')?.metadata.uid).toBe(uid);
    expect((await eventsFor(cluster, 'SystemdWorkload', 'app')).some((e) => e.reason === 'NodeUnknown' && e.message.includes('n2'))).toBe(
      true,
    );
    await hb.start(cluster);
    await waitForWorkload(cluster, 'app', 'n2 back', (w) => w.status?.unknownNodes === 0 && settled(4)(w), 60_000);
    hb.stop();
  });

  it('deleting the workload garbage-collects its children (ownerReferences)', async () => {
    expect((await listChildren(cluster)).length).toBe(4);
    await cluster.kubectlOk(['delete', 'sdw', 'app', '--wait=true']);
    await waitFor(
      'children garbage-collected',
      async () => (await cluster.kubectlOk(['get', 'systemdunitsets', '-A', '-o', 'name'])).trim() === '',
      90_000,
    );
    // and its series go with it
    await waitFor(
      'no sdw_workload_phase for app',
      async () => (await controller.metric('sdw_workload_phase', { workload: 'app', phase: 'Running' })) === undefined,
    );
    expect(controller.running).toBe(true);
  });
});
