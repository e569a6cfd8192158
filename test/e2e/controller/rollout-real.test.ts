// A rolling update on real systemd nodes with real agents: the controller never
// has more than maxUnavailable nodes outdated-and-updating at once, and every
// node ends up running the new units (systemd's own answer, through busctl).
import { Cluster } from '../../harness/cluster.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { activeState, apply, eventsFor, invocationId, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { ChildRecorder, workloadYaml } from '../../harness/controllerHelpers.js';

const NODES = ['rr-1', 'rr-2', 'rr-3'];
const UNIT = 'sdw-default_roll_main.service';

describe('controller: rolling update on real nodes', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents: OperatorProcess[] = [];
  let rec: ChildRecorder | undefined;

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'roll' } })) });
    controller = await startController(cluster);
    for (const n of NODES) agents.push(await startAgent(cluster, n));
  });

  afterAll(async () => {
    rec?.stop();
    for (const a of agents) await a.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  it('updates one node at a time (maxUnavailable 1, minReadySeconds 2) and ends with the new units everywhere', async () => {
    await apply(cluster, workloadYaml('roll', { selector: { role: 'roll' }, maxUnavailable: 1, minReadySeconds: 2 }));
    const first = await waitForWorkload(
      cluster,
      'roll',
      'Running on 3 nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 3,
      120_000,
    );
    const before = new Map<string, string>();
    for (const n of NODES) {
      expect(await activeState(cluster.node(n), UNIT)).toBe('active');
      before.set(n, await invocationId(cluster.node(n), UNIT));
    }

    rec = new ChildRecorder(cluster, 'roll').start();
    await apply(cluster, workloadYaml('roll', { selector: { role: 'roll' }, maxUnavailable: 1, minReadySeconds: 2, arg: '86400' }));
    const wl = await waitForWorkload(
      cluster,
      'roll',
      'rolled out',
      (w) =>
        w.status?.hash !== first.status!.hash && w.status?.updatedNodes === 3 && w.status.readyNodes === 3 && w.status.phase === 'Running',
      180_000,
    );
    rec.stop();

    expect(Math.max(...rec.unavailableCounts(2))).toBe(1);
    const started = [...rec.firstSeenWithHash(wl.status!.hash!).entries()].sort((a, b) => a[1] - b[1]);
    const readyAt = rec.readySinceFor(wl.status!.hash!);
    expect(started.map(([n]) => n).sort()).toEqual(NODES);
    for (let i = 1; i < started.length; i++) expect(started[i]![1]).toBeGreaterThanOrEqual(readyAt.get(started[i - 1]![0])! + 2000);

    for (const n of NODES) {
      expect(await activeState(cluster.node(n), UNIT)).toBe('active');
      expect(await invocationId(cluster.node(n), UNIT)).not.toBe(before.get(n));
      expect(await unitProperty(cluster.node(n), UNIT, 'Service', 'ExecStart')).toContain('86400');
    }
    const reasons = (await eventsFor(cluster, 'SystemdWorkload', 'roll')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['RolloutStarted', 'RolloutComplete']));
  });
});
