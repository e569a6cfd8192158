// Game day, nodes (issue 7, scenarios 6, 8 and 7): a real agent frozen with
// SIGSTOP (alive, silent: no heartbeat, no status), every node NotReady and
// tainted at once as the node lifecycle controller would, and a node deleted.
// Each time systemd is asked whether any managed unit was stopped or restarted.
import { Cluster, setNodeReady } from '../../harness/cluster.js';
import { delay, waitFor } from '../../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, eventsFor, unitFileExists, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { getChild } from '../../harness/agentHelpers.js';
import { childIds, faultResult, since, snapshotUnits, unitsChangedSince, type ChildId } from '../../harness/faults.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const NODES = ['nd-1', 'nd-2', 'nd-3'];
const A = 'sdw-default_svc_a.service';

function svcYaml(memory: string): string {
  return `
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: svc, namespace: default}
spec:
  nodeSelector: {role: nd}
  units:
  - name: a
    command: ["/bin/sleep", "infinity"]
    resources: {limits: {memory: ${memory}}}
  - name: b
    command: ["/bin/sleep", "infinity"]
`;
}

const running =
  (n: number) =>
  (w: SystemdWorkload): boolean =>
    w.status?.phase === 'Running' &&
    w.status.readyNodes === n &&
    w.status.updatedNodes === n &&
    w.status.desiredNodes === n &&
    (w.status.unknownNodes ?? 0) === 0;

describe('faults: nodes silent, NotReady, deleted', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents = new Map<string, OperatorProcess>();

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'nd' } })) });
    controller = await startController(cluster, { heartbeatGraceSeconds: 6 });
    for (const n of NODES) agents.set(n, await startAgent(cluster, n, { heartbeatPeriodSeconds: 2 }));
    await apply(cluster, svcYaml('64Mi'));
    await waitForWorkload(cluster, 'svc', 'Running on 3 nodes', running(3), 120_000);
  });

  afterAll(async () => {
    for (const a of agents.values()) {
      a.signal('SIGCONT');
      await a.stop();
    }
    await controller?.stop();
    await cluster?.stop();
  });

  it('scenario 6: a silent agent (SIGSTOP) shows its node Unknown, keeps its child and units; after SIGCONT it reconciles a change made meanwhile', async () => {
    const units = await snapshotUnits(cluster);
    expect(units).toHaveLength(6);
    const children = await childIds(cluster);
    const agent = agents.get('nd-2')!;
    const stoppedAt = Date.now();
    agent.signal('SIGSTOP');
    let contAt = 0;
    try {
      const wl = await waitForWorkload(cluster, 'svc', 'nd-2 Unknown', (w) => w.status?.unknownNodes === 1, 90_000);
      const detectMs = since(stoppedAt);
      expect(wl.status!.nodes!.find((n) => n.node === 'nd-2')).toMatchObject({ phase: 'Unknown' });
      expect(wl.status!.phase).not.toBe('Running');
      await waitFor(
        'NodeUnknown event',
        async () =>
          (await eventsFor(cluster, 'SystemdWorkload', 'svc')).some((e) => e.reason === 'NodeUnknown' && e.message.includes('nd-2')),
        60_000,
      );
      // A change meanwhile: a memory limit (applied live, no restart).
      await apply(cluster, svcYaml('96Mi'));
      // (With maxUnavailable 1 the silent node already uses the budget: the rollout may wait for it.)
      await delay(10_000); // while silent: nothing on nd-2 removed or restarted
      const othersUpdatedWhileSilent = (
        await Promise.all(['nd-1', 'nd-3'].map((n) => unitProperty(cluster.node(n), A, 'Service', 'MemoryMax')))
      ).filter((v) => v === String(96 * 1024 * 1024)).length;
      expect(agent.running).toBe(true);
      expect((await childIds(cluster)).find((c) => c.node === 'nd-2')?.uid).toBe(children.find((c) => c.node === 'nd-2')!.uid);
      expect(unitFileExists(cluster.node('nd-2'), A)).toBe(true);
      expect(await unitProperty(cluster.node('nd-2'), A, 'Service', 'MemoryMax')).toBe(String(64 * 1024 * 1024));
      const silentChanged = await unitsChangedSince(cluster, units);
      contAt = Date.now();
      agent.signal('SIGCONT');
      await waitForWorkload(cluster, 'svc', 'nd-2 back and updated', running(3), 120_000);
      for (const n of NODES) {
        await waitFor(
          `${n} applied the change`,
          async () => (await unitProperty(cluster.node(n), A, 'Service', 'MemoryMax')) === String(96 * 1024 * 1024),
          60_000,
        );
      }
      const reconcileMs = since(contAt);
      const changed = await unitsChangedSince(cluster, units);
      const after = await childIds(cluster);
      faultResult({
        scenario: '6 agent silent (SIGSTOP)',
        silentMs: contAt - stoppedAt,
        detectUnknownMs: detectMs,
        recoveryMs: reconcileMs,
        othersUpdatedWhileSilent,
        unitsRestartedWhileSilent: silentChanged.length,
        unitsRestarted: changed.length,
        unitsChecked: units.length,
        childrenReplaced: children.filter((c) => !after.some((a) => a.uid === c.uid)).length,
      });
      expect(silentChanged).toEqual([]);
      expect(changed).toEqual([]);
      expect(after.map((c) => [c.key, c.uid])).toEqual(children.map((c) => [c.key, c.uid]));
    } finally {
      if (!contAt) agent.signal('SIGCONT');
    }
  });

  it('scenario 8: every node NotReady and tainted not-ready/unreachable:NoExecute at once: nothing evicted or removed', async () => {
    const units = await snapshotUnits(cluster);
    const children = await childIds(cluster);
    const t0 = Date.now();
    await Promise.all(
      NODES.map(async (n) => {
        await setNodeReady(cluster.kc, n, false);
        await cluster.kubectlOk(['taint', 'node', n, 'node.kubernetes.io/not-ready:NoExecute', 'node.kubernetes.io/unreachable:NoExecute']);
      }),
    );
    // Watch the children for a while, as often as we can: not one may go.
    let samples = 0;
    let missingSamples = 0;
    let minChildren = Infinity;
    const seen: ChildId[][] = [];
    while (Date.now() - t0 < 30_000) {
      const now = await childIds(cluster);
      samples++;
      minChildren = Math.min(minChildren, now.length);
      if (now.length !== children.length || now.some((c, i) => c.uid !== children[i]!.uid)) {
        missingSamples++;
        seen.push(now);
      }
      await delay(300);
    }
    const changedDuring = await unitsChangedSince(cluster, units);
    const heldMs = since(t0);
    const wl = await waitForWorkload(cluster, 'svc', 'still 3 desired', (w) => w.status?.desiredNodes === 3, 30_000);
    const upAt = Date.now();
    await Promise.all(
      NODES.map(async (n) => {
        await cluster.kubectlOk([
          'taint',
          'node',
          n,
          'node.kubernetes.io/not-ready:NoExecute-',
          'node.kubernetes.io/unreachable:NoExecute-',
        ]);
        await setNodeReady(cluster.kc, n, true);
      }),
    );
    await waitForWorkload(cluster, 'svc', 'Running', running(3), 60_000);
    const changed = await unitsChangedSince(cluster, units);
    faultResult({
      scenario: '8 all nodes NotReady+NoExecute',
      notReadyMs: heldMs,
      recoveryMs: since(upAt),
      childSamples: samples,
      samplesWithAChildMissing: missingSamples,
      minChildren,
      children: children.length,
      unitsRestarted: changed.length,
      unitsChecked: units.length,
      workloadPhaseWhileNotReady: wl.status?.phase,
    });
    expect(seen).toEqual([]);
    expect(changedDuring).toEqual([]);
    expect(changed).toEqual([]);
    expect(wl.status).toMatchObject({ desiredNodes: 3, currentNodes: 3 });
    expect(await childIds(cluster)).toEqual(children);
  });

  it('scenario 7: a node deleted from the cluster loses its child, the counts follow; the others are untouched', async () => {
    const others = await snapshotUnits(cluster, ['nd-1', 'nd-2']);
    const t0 = Date.now();
    await cluster.kubectlOk(['delete', 'node', 'nd-3']);
    await waitFor('child of nd-3 removed', async () => (await getChild(cluster, 'svc', 'nd-3')) === undefined, 90_000);
    const childGoneMs = since(t0);
    await waitForWorkload(cluster, 'svc', 'counts follow: 2 nodes', running(2), 90_000);
    const countsMs = since(t0);
    // Its agent, its child gone, garbage-collects the units it wrote there.
    await waitFor('nd-3 units removed by its agent', async () => !unitFileExists(cluster.node('nd-3'), A), 90_000);
    const unitsGoneMs = since(t0);
    const changed = await unitsChangedSince(cluster, others);
    faultResult({
      scenario: '7 node deleted',
      recoveryMs: countsMs,
      childGoneMs,
      countsFollowMs: countsMs,
      deletedNodeUnitsRemovedMs: unitsGoneMs,
      unitsRestarted: changed.length,
      unitsChecked: others.length,
    });
    expect(changed).toEqual([]);
    expect((await childIds(cluster)).map((c) => c.node).sort()).toEqual(['nd-1', 'nd-2']);
  });
});
