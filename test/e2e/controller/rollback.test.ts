// Revisions and rollback on real systemd nodes with the real controller and
// agents: kubectl sdw rollout history lists the ControllerRevisions after two
// edits, rollout undo --to-revision puts an earlier one back on every node, and
// with autoRevert a version that crashes on start never gets past the first
// node and is taken back there (systemd's own ExecStart, sampled every 500 ms).
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, eventsFor, unitProperty, waitForWorkload } from '../../harness/assertions.js';
import { runCli } from '../../harness/cliHelpers.js';
import type { SystemdWorkload } from '../../../src/api/types.js';

const NODES = ['rb-1', 'rb-2', 'rb-3'];
const UNIT = 'sdw-default_rb_main.service';

/** The workload with its unit's command echoing VERSION, then sleeping; `crash` exits 3 a second after start. */
function workload(version: string, opts: { crash?: boolean; autoRevert?: boolean; neverReady?: boolean; deadline?: number } = {}): string {
  const script = opts.crash ? `echo ${version}; sleep 1; exit 3` : `echo ${version}; exec sleep infinity`;
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name: 'rb', namespace: 'default' },
    spec: {
      nodeSelector: { role: 'rb' },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, autoRevert: opts.autoRevert ?? false } },
      minReadySeconds: 5,
      ...(opts.deadline ? { progressDeadlineSeconds: opts.deadline } : {}),
      units: [
        {
          name: 'main',
          command: ['/bin/sh', '-c', script],
          dynamicUser: true,
          restart: { policy: 'Always', delaySeconds: 1 },
          // A readiness probe that never holds: the unit runs, and is never ready.
          ...(opts.neverReady ? { readinessProbe: { exec: { command: ['/bin/false'] }, periodSeconds: 1 } } : {}),
        },
      ],
    },
  });
}

const rolledOut = (w: SystemdWorkload): boolean =>
  w.status?.updatedNodes === 3 &&
  w.status.readyNodes === 3 &&
  w.status.phase === 'Running' &&
  w.status.currentRevision === w.status.updateRevision;

describe('controller: revisions, undo and auto-revert on real nodes', () => {
  let cluster: Cluster;
  let operator: OperatorCluster | undefined;
  const cli = (args: string[]) => runCli(args, { kubeconfig: cluster.kubeconfigPath });
  /** The version each node's systemd runs, read from the unit's ExecStart. */
  const versionOn = async (node: string): Promise<string | undefined> =>
    /echo (v\d+)/.exec(await unitProperty(cluster.node(node), UNIT, 'Service', 'ExecStart'))?.[1];

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: NODES.map((name) => ({ name, labels: { role: 'rb' } })) });
    cluster = operator.cluster;
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it('history lists a revision per edit; undo --to-revision 1 restores the first version on every node', async () => {
    for (const v of ['v1', 'v2', 'v3']) {
      await apply(cluster, workload(v));
      await waitForWorkload(cluster, 'rb', `${v} rolled out`, rolledOut, 180_000);
    }
    const history = await cli(['rollout', 'history', 'rb']);
    expect(history).toMatchObject({ code: 0, stderr: '' });
    const rows = history.stdout.trim().split('\n').slice(2);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['1', '2', '3']);
    expect(rows[2]).toMatch(/current,update$/);
    const one = await cli(['rollout', 'history', 'rb', '--revision', '1']);
    expect(one.stdout).toContain('echo v1; exec sleep infinity');

    const revisions = JSON.parse(await cluster.kubectlOk(['get', 'controllerrevisions', '-n', 'default', '-o', 'json'])) as {
      items: Array<{
        metadata: { name: string; ownerReferences: Array<{ kind: string; name: string; controller: boolean }> };
        revision: number;
      }>;
    };
    expect(revisions.items).toHaveLength(3);
    for (const r of revisions.items) {
      expect(r.metadata.name).toMatch(/^rb-[0-9a-f]{10}$/);
      expect(r.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'SystemdWorkload', name: 'rb', controller: true })]);
    }

    const undo = await cli(['rollout', 'undo', 'rb', '--to-revision', '1']);
    expect(undo).toMatchObject({ code: 0, stdout: expect.stringMatching(/rolled back to revision 1/) });
    const back = await waitForWorkload(
      cluster,
      'rb',
      'v1 back everywhere',
      (w) => rolledOut(w) && w.status?.updateRevisionNumber === 4,
      180_000,
    );
    for (const n of NODES) expect(await versionOn(n)).toBe('v1');
    expect(back.spec.units[0]!.command[2]).toBe('echo v1; exec sleep infinity');
    // The revision restored is the newest now (renumbered, not copied).
    const after = await cli(['rollout', 'history', 'rb']);
    expect(
      after.stdout
        .trim()
        .split('\n')
        .slice(2)
        .map((r) => r.split(/\s+/)[0]),
    ).toEqual(['2', '3', '4']);
  });

  it('autoRevert: a version that crashes on start reaches only the first node and is taken back there', async () => {
    await apply(cluster, workload('v1', { autoRevert: true }));
    const stable = await waitForWorkload(cluster, 'rb', 'v1 with autoRevert', rolledOut, 180_000);

    const ranBad = new Set<string>();
    let sampling = true;
    const samples = (async () => {
      while (sampling) {
        for (const n of NODES) {
          // A read that fails (the unit mid-reload) is not a sample; the next one, 500 ms on, is.
          if ((await versionOn(n).catch(() => undefined)) === 'v9') ranBad.add(n);
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await apply(cluster, workload('v9', { crash: true, autoRevert: true }));
    const reverted = await waitForWorkload(
      cluster,
      'rb',
      'rolled back and Available',
      (w) =>
        w.status?.conditions?.some((c) => c.type === 'RolledBack' && c.status === 'True') === true &&
        w.status.readyNodes === 3 &&
        w.status.updatedNodes === 3 &&
        w.status.conditions.some((c) => c.type === 'Available' && c.status === 'True'),
      180_000,
    );
    sampling = false;
    await samples;

    expect(ranBad.size).toBe(1);
    const [firstBatch] = [...ranBad];
    for (const n of NODES) expect(await versionOn(n)).toBe('v1');
    expect(reverted.status!.currentRevision).toBe(stable.status!.currentRevision);
    const rolledBack = reverted.status!.conditions!.find((c) => c.type === 'RolledBack')!;
    expect(rolledBack.message).toMatch(
      new RegExp(
        `^revision \\d+ \\(rb-[0-9a-f]{10}\\) failed on node ${firstBatch}: unit main (restarted|failed).*returned to revision \\d+ \\(${stable.status!.currentRevision}\\)`,
      ),
    );
    const events = await eventsFor(cluster, 'SystemdWorkload', 'rb');
    expect(events).toContainEqual(expect.objectContaining({ type: 'Warning', reason: 'RolledBack', message: rolledBack.message }));
    // The spec stays as the user wrote it.
    expect(reverted.spec.units[0]!.command[2]).toContain('v9');
  });

  it('autoRevert: a version that runs but is never ready is taken back from its first node at the progress deadline', async () => {
    await apply(cluster, workload('v1', { autoRevert: true, deadline: 30 }));
    const stable = await waitForWorkload(cluster, 'rb', 'v1 again, deadline 30 s', rolledOut, 180_000);
    const ranBad = new Set<string>();
    let sampling = true;
    const samples = (async () => {
      while (sampling) {
        for (const n of NODES) if ((await versionOn(n).catch(() => undefined)) === 'v8') ranBad.add(n);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    await apply(cluster, workload('v8', { autoRevert: true, neverReady: true, deadline: 30 }));
    const reverted = await waitForWorkload(
      cluster,
      'rb',
      'rolled back at the deadline and Available',
      (w) =>
        w.status?.conditions?.some((c) => c.type === 'RolledBack' && c.status === 'True' && c.reason === 'ProgressDeadlineExceeded') ===
          true &&
        w.status.readyNodes === 3 &&
        w.status.updatedNodes === 3 &&
        w.status.conditions.some((c) => c.type === 'Available' && c.status === 'True'),
      240_000,
    );
    sampling = false;
    await samples;
    expect(ranBad.size).toBe(1);
    for (const n of NODES) expect(await versionOn(n)).toBe('v1');
    expect(reverted.status!.currentRevision).toBe(stable.status!.currentRevision);
    expect(reverted.status!.conditions!.find((c) => c.type === 'RolledBack')!.message).toMatch(
      new RegExp(`^revision \\d+ \\(rb-[0-9a-f]{10}\\) was not ready on node ${[...ranBad][0]} within progressDeadlineSeconds`),
    );
  });
});
