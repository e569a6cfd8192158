// Game day, a burst (issue 7, scenario 9): 50 workloads applied with one
// kubectl apply, then all 50 edited at once and, without waiting, 25 deleted at
// once, on real nodes. The end state on every node must equal the last spec:
// unit files exactly for the 25 survivors with their last content, each active;
// nothing managed left of the deleted ones (file, loaded unit, SystemdUnitSet).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Cluster } from '../../harness/cluster.js';
import { waitFor } from '../../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { activeState } from '../../harness/assertions.js';
import { listChildren } from '../../harness/controllerHelpers.js';
import { faultResult, managedUnitFiles, since, snapshotUnits, unitsChangedSince } from '../../harness/faults.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const NODES = ['bu-1', 'bu-2', 'bu-3'];
const N = 50;
const names = Array.from({ length: N }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
const unitOf = (name: string): string => `sdw-default_${name}_main.service`;

function manyYaml(list: string[], arg: string): string {
  return list
    .map(
      (name) => `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: ${name}, namespace: default}
spec:
  nodeSelector: {role: bu}
  units:
  - name: main
    command: ["/bin/sleep", "${arg}"]
`,
    )
    .join('---\n');
}

describe('faults: a burst of 50 workloads', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents = new Map<string, OperatorProcess>();

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name, labels: { role: 'bu' } })) });
    controller = await startController(cluster);
    for (const n of NODES) agents.set(n, await startAgent(cluster, n));
  });

  afterAll(async () => {
    for (const a of agents.values()) await a.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  async function workloads(): Promise<SystemdWorkload[]> {
    return (JSON.parse(await cluster.kubectlOk(['get', 'sdw', '-n', 'default', '-o', 'json'])) as { items: SystemdWorkload[] }).items;
  }

  /** Every listed workload Running on every node at its current generation. */
  async function allRunning(list: string[]): Promise<boolean> {
    const want = new Set(list);
    const got = (await workloads()).filter((w) => want.has(w.metadata.name!));
    return (
      got.length === list.length &&
      got.every(
        (w) =>
          w.status?.observedGeneration === w.metadata.generation &&
          w.status?.phase === 'Running' &&
          w.status.readyNodes === NODES.length &&
          w.status.updatedNodes === NODES.length,
      )
    );
  }

  /** The files on a node are exactly the survivors' units, each with the last content. */
  async function nodeMatches(node: string, list: string[], arg: string): Promise<boolean> {
    const n = cluster.node(node);
    const files = await managedUnitFiles(n);
    const want = list.map(unitOf).sort();
    if (JSON.stringify(files) !== JSON.stringify(want)) return false;
    for (const f of files) {
      const content = await fs.readFile(path.join(n.unitDir, f), 'utf8');
      if (!content.includes(arg)) return false;
    }
    return true;
  }

  it('scenario 9: apply 50, edit 50, delete 25, all at once: every node ends exactly at the last spec', async () => {
    const t0 = Date.now();
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manyYaml(names, 'infinity') });
    await waitFor('50 workloads Running on every node', () => allRunning(names), 300_000, 1000);
    const applyMs = since(t0);
    for (const n of NODES) expect(await nodeMatches(n, names, 'infinity')).toBe(true);

    // Edit all 50 at once, then delete half at once without waiting for the edit to land.
    const survivors = names.slice(0, N / 2);
    const deleted = names.slice(N / 2);
    const t1 = Date.now();
    await cluster.kubectlOk(['apply', '-f', '-'], { input: manyYaml(names, '86400') });
    await cluster.kubectlOk(['delete', 'sdw', '-n', 'default', '--wait=false', ...deleted]);
    await waitFor('survivors rolled out', () => allRunning(survivors), 300_000, 1000);
    await waitFor(
      'no workload of the deleted left',
      async () => !(await workloads()).some((w) => deleted.includes(w.metadata.name!)),
      300_000,
      1000,
    );
    await waitFor(
      'no child of the deleted left',
      async () => !(await listChildren(cluster)).some((c) => deleted.includes(c.metadata.labels?.['systemd.operators.dev/workload'] ?? '')),
      300_000,
      1000,
    );
    for (const n of NODES) await waitFor(`${n} at the last spec`, () => nodeMatches(n, survivors, '86400'), 300_000, 1000);
    const convergeMs = since(t1);

    // The end state, as systemd and the API server tell it.
    const children = await listChildren(cluster);
    expect(children).toHaveLength(survivors.length * NODES.length);
    expect(children.every((c) => c.spec.units[0]!.files[0]!.content.includes('86400'))).toBe(true);
    let leftLoaded = 0;
    for (const n of NODES) {
      const node = cluster.node(n);
      for (const w of survivors) expect(await activeState(node, unitOf(w))).toBe('active');
      for (const w of deleted) {
        const st = await activeState(node, unitOf(w)).catch(() => 'gone');
        if (st === 'active' || st === 'activating' || st === 'deactivating') leftLoaded++;
      }
    }
    // Steady: a few more seconds and nothing moves (no restart loop from the burst).
    const snap = await snapshotUnits(cluster);
    await new Promise((r) => setTimeout(r, 10_000));
    const moved = await unitsChangedSince(cluster, snap);
    faultResult({
      scenario: '9 burst 50 apply/edit/25 delete',
      nodes: NODES.length,
      applyConvergeMs: applyMs,
      recoveryMs: convergeMs,
      editDeleteConvergeMs: convergeMs,
      unitsAfter: snap.length,
      deletedUnitsStillRunning: leftLoaded,
      unitsRestartedWhenIdle: moved.length,
      controllerRunning: controller.running,
      agentsRunning: [...agents.values()].filter((a) => a.running).length,
    });
    expect(leftLoaded).toBe(0);
    expect(snap).toHaveLength(survivors.length * NODES.length);
    expect(moved).toEqual([]);
  });
});
