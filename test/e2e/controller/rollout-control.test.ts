// Rollout control on real systemd nodes with the real controller and agents,
// driven through kubectl (the plugin as `kubectl sdw`): a partition holds a
// canary, promote releases it, nodeOrder goes zone by zone, `rollout restart`
// restarts every unit under maxUnavailable with no spec change, and `rollout
// status` exits 0 on completion, non-zero on a failed workload, a partition
// above the node count, and its --timeout.
import path from 'node:path';
import { GROUP } from '../../../src/api/types.js';
import { binaries } from '../../harness/binaries.js';
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, eventsFor, invocationId, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { waitFor } from '../../harness/process.js';
import { ChildRecorder, listChildren } from '../../harness/controllerHelpers.js';
import { kubectlSdw, type CliResult } from '../../harness/cliHelpers.js';

const ZONE = 'topology.kubernetes.io/zone';
// Two failure domains: zone a holds rc-1 and rc-3, zone b holds rc-2 (name order alone would take rc-2 second).
const NODES = [
  { name: 'rc-1', labels: { role: 'rc', [ZONE]: 'a' } },
  { name: 'rc-2', labels: { role: 'rc', [ZONE]: 'b' } },
  { name: 'rc-3', labels: { role: 'rc', [ZONE]: 'a' } },
];
const NAMES = NODES.map((n) => n.name);
const UNIT = 'sdw-default_rc_main.service';

interface Strategy {
  maxUnavailable?: number;
  partition?: number;
  zoneOrder?: boolean;
}

/** The workload; `version` is the sleep argument, so each version is a new hash. */
function rcYaml(version: number, s: Strategy = {}): string {
  const ru = [`maxUnavailable: ${s.maxUnavailable ?? 1}`];
  if (s.partition !== undefined) ru.push(`partition: ${s.partition}`);
  if (s.zoneOrder) ru.push(`nodeOrder: {labelKey: ${ZONE}}`);
  return `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: rc, namespace: default}
spec:
  nodeSelector: {role: rc}
  updateStrategy: {type: RollingUpdate, rollingUpdate: {${ru.join(', ')}}}
  units:
  - name: main
    dynamicUser: true
    command: ["/bin/sleep", "${86400 + version}"]
`;
}

describe('rollout control: partition, promote, nodeOrder, restart and status, through kubectl sdw', () => {
  let cluster: Cluster;
  let operator: OperatorCluster | undefined;
  let rec: ChildRecorder | undefined;
  const sdw = (args: string[]): Promise<CliResult> =>
    kubectlSdw(binaries().kubectl, path.join(cluster.dir, 'plugin-bin'), args, { kubeconfig: cluster.kubeconfigPath });
  /** Each node's child hash, by node. */
  const childHashes = async (): Promise<Map<string, string>> =>
    new Map((await listChildren(cluster, 'default', `${GROUP}/workload=rc`)).map((c) => [c.spec.nodeName, c.spec.hash]));
  const execStart = (node: string) => unitProperty(cluster.node(node), UNIT, 'Service', 'ExecStart');

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: NODES });
    cluster = operator.cluster;
  });

  afterAll(async () => {
    rec?.stop();
    await operator?.stop();
  });

  it('rollout status waits for the first rollout and exits 0 with "rollout complete"', async () => {
    await apply(cluster, rcYaml(1));
    const r = await sdw(['rollout', 'status', 'rc', '--timeout', '120s']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout.trim().split('\n').at(-1)).toBe(
      'systemdworkload.systemd.operators.dev/rc rollout complete: 3 of 3 nodes updated and available',
    );
    for (const n of NAMES) expect(await execStart(n)).toContain('86401');
  });

  it('partition 2 of 3: exactly one node (the first of zone a) updates and the rollout holds; promote updates the rest, zone a first', async () => {
    const before = await childHashes();
    rec = new ChildRecorder(cluster, 'rc').start();
    await apply(cluster, rcYaml(2, { partition: 2, zoneOrder: true }));
    const held = await sdw(['rollout', 'status', 'rc', '--timeout', '120s']);
    expect(held.code).toBe(0);
    expect(held.stdout).toContain(
      'partitioned rollout complete: held at partition 2: 1 of 3 nodes updated, 2 kept on the old version until kubectl sdw rollout promote',
    );
    const wl = await waitForWorkload(
      cluster,
      'rc',
      'held at the partition',
      (w) => w.status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'PartitionedRollout') === true,
    );
    const v2 = wl.status!.hash!;
    const hashes = await childHashes();
    expect(NAMES.filter((n) => hashes.get(n) === v2)).toEqual(['rc-1']);
    expect(hashes.get('rc-2')).toBe(before.get('rc-2'));
    expect(hashes.get('rc-3')).toBe(before.get('rc-3'));
    expect(await execStart('rc-1')).toContain('86402');
    expect(await execStart('rc-2')).toContain('86401');
    expect(await execStart('rc-3')).toContain('86401');
    expect((await eventsFor(cluster, 'SystemdWorkload', 'rc')).map((e) => e.reason)).toContain('PartitionedRollout');
    // Held: in every sample up to now, no node but the canary ever had the new version.
    const heldUntil = Date.now();
    const promote = await sdw(['rollout', 'promote', 'rc']);
    expect(promote).toMatchObject({ code: 0, stdout: 'systemdworkload.systemd.operators.dev/rc promoted (partition 2 -> 0)\n' });
    const done = await sdw(['rollout', 'status', 'rc', '--timeout', '120s']);
    expect(done.code).toBe(0);
    expect(done.stdout).toContain('rollout complete: 3 of 3 nodes updated and available');
    rec.stop();
    const early = rec.samples.filter((s) => s.at < heldUntil);
    expect(early.length).toBeGreaterThan(0);
    expect(new Set(early.flatMap((s) => s.children.filter((c) => c.specHash === v2).map((c) => c.node)))).toEqual(new Set(['rc-1']));
    // maxUnavailable 1 in zone order: rc-3 (zone a) updated and ready before rc-2 (zone b) is touched.
    const firstSeen = rec.firstSeenWithHash(v2);
    const readyAt = rec.readySinceFor(v2);
    expect(firstSeen.get('rc-2')!).toBeGreaterThanOrEqual(readyAt.get('rc-3')!);
    for (const n of NAMES) expect(await execStart(n)).toContain('86402');
  });

  it('nodeOrder by zone with maxUnavailable 2: both zone a nodes are updated and available before zone b is touched', async () => {
    rec = new ChildRecorder(cluster, 'rc').start();
    await apply(cluster, rcYaml(3, { maxUnavailable: 2, zoneOrder: true }));
    const r = await sdw(['rollout', 'status', 'rc', '--timeout', '120s']);
    rec.stop();
    expect(r.code).toBe(0);
    const v3 = (await waitForWorkload(cluster, 'rc', 'v3 everywhere', (w) => w.status?.updatedNodes === 3 && w.status.phase === 'Running'))
      .status!.hash!;
    const firstSeen = rec.firstSeenWithHash(v3);
    const readyAt = rec.readySinceFor(v3);
    expect([...firstSeen.keys()].sort()).toEqual(NAMES);
    // Zone b's first update comes after every zone a node reported ready on the new version ...
    expect(firstSeen.get('rc-2')!).toBeGreaterThanOrEqual(Math.max(readyAt.get('rc-1')!, readyAt.get('rc-3')!));
    // ... and in no sample does rc-2 run v3 while a zone a node does not.
    for (const s of rec.samples) {
      const at = new Map(s.children.map((c) => [c.node, c.specHash]));
      if (at.get('rc-2') === v3) expect([at.get('rc-1'), at.get('rc-3')]).toEqual([v3, v3]);
    }
    for (const n of NAMES) expect(await execStart(n)).toContain('86403');
  });

  it('rollout restart restarts every unit (new InvocationID) with at most maxUnavailable nodes down, and no spec change', async () => {
    await apply(cluster, rcYaml(3, { maxUnavailable: 1, zoneOrder: true }));
    const steady = await waitForWorkload(cluster, 'rc', 'steady', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 3);
    const before = new Map<string, string>();
    for (const n of NAMES) before.set(n, await invocationId(cluster.node(n), UNIT));
    rec = new ChildRecorder(cluster, 'rc').start();
    const restart = await sdw(['rollout', 'restart', 'rc']);
    expect(restart).toMatchObject({ code: 0, stdout: 'systemdworkload.systemd.operators.dev/rc restarted\n' });
    const r = await sdw(['rollout', 'status', 'rc', '--timeout', '120s']);
    rec.stop();
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rollout complete: 3 of 3 nodes updated and available');
    const after = await waitForWorkload(cluster, 'rc', 'restarted', (w) => w.status?.phase === 'Running' && w.status.updatedNodes === 3);
    expect(after.metadata.generation).toBe(steady.metadata.generation);
    expect(after.metadata.annotations?.['systemd.operators.dev/restartedAt']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(after.status!.hash).not.toBe(steady.status!.hash);
    expect(Math.max(...rec.unavailableCounts(0))).toBeLessThanOrEqual(1);
    for (const n of NAMES) {
      expect(await invocationId(cluster.node(n), UNIT)).not.toBe(before.get(n));
      expect(await execStart(n)).toContain('86403');
    }
  });

  it('pause holds a change (status --timeout exits 1); resume lets it finish (exit 0)', async () => {
    expect(await sdw(['rollout', 'pause', 'rc'])).toMatchObject({ code: 0, stdout: 'systemdworkload.systemd.operators.dev/rc paused\n' });
    const paused = await waitForWorkload(cluster, 'rc', 'paused', (w) => w.spec.paused === true);
    await cluster.kubectlOk([
      'patch',
      'sdw',
      'rc',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/units/0/command","value":["/bin/sleep","86404"]}]',
    ]);
    await waitForWorkload(cluster, 'rc', 'paused mid-change', (w) => w.status?.hash !== paused.status?.hash);
    const timedOut = await sdw(['rollout', 'status', 'rc', '--timeout', '3s']);
    expect(timedOut.code).toBe(1);
    expect(timedOut.stdout).toContain('paused with 0 of 3 nodes updated');
    expect(timedOut.stderr).toMatch(/^error: timed out waiting for the rollout of systemdworkload\.systemd\.operators\.dev\/rc/);
    for (const n of NAMES) expect(await execStart(n)).toContain('86403');
    expect(await sdw(['rollout', 'resume', 'rc'])).toMatchObject({ code: 0, stdout: 'systemdworkload.systemd.operators.dev/rc resumed\n' });
    expect((await sdw(['rollout', 'status', 'rc', '--timeout', '120s'])).code).toBe(0);
    for (const n of NAMES) expect(await execStart(n)).toContain('86404');
  });

  it('a partition above the node count: the controller says so (condition and Warning Event) and rollout status exits 1', async () => {
    await apply(cluster, rcYaml(5, { partition: 5 }));
    const wl = await waitForWorkload(
      cluster,
      'rc',
      'partition judged',
      (w) => w.status?.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'PartitionExceedsNodes') === true,
    );
    const message = wl.status!.conditions!.find((c) => c.type === 'Progressing')!.message;
    expect(message).toBe(
      'rollingUpdate.partition 5 is larger than the 3 matching nodes: no node is updated (lower it, or kubectl sdw rollout promote)',
    );
    // The controller records its Events after it writes the status: poll for it.
    const events = await waitFor('the PartitionExceedsNodes Event', async () => {
      const all = await eventsFor(cluster, 'SystemdWorkload', 'rc');
      return all.some((e) => e.reason === 'PartitionExceedsNodes') ? all : undefined;
    });
    expect(events).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'Warning', reason: 'PartitionExceedsNodes', message })]),
    );
    const r = await sdw(['rollout', 'status', 'rc', '--timeout', '60s']);
    expect(r.code).toBe(1);
    // Stalled (PartitionExceedsNodes) as kstatus reads it, with the condition's message.
    expect(r.stderr).toContain(`rollout stalled (PartitionExceedsNodes): ${message}`);
    for (const n of NAMES) expect(await execStart(n)).toContain('86404');
  });

  it('rollout status exits 1 when the workload goes Failed (a unit that fails on every node)', async () => {
    await apply(
      cluster,
      `apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: rc-bad, namespace: default}
spec:
  nodeSelector: {role: rc}
  units:
  - name: main
    dynamicUser: true
    restart: {policy: Never}
    command: ["/bin/sh", "-c", "exit 3"]
`,
    );
    const r = await sdw(['rollout', 'status', 'rc-bad', '--timeout', '120s']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: systemdworkload\.systemd\.operators\.dev\/rc-bad: rollout (failed: phase Failed|stalled)/);
  });
});
