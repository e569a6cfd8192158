// `kubectl sdw rollout undo` and files (README "Revisions and rollback"), on a
// real systemd node with the real controller and agent: undo brings an inline
// file's old content back to the node and restarts the unit that uses it. A
// revision keeps a ConfigMap-sourced file as its reference, not its content, so
// after an edit of the ConfigMap itself undo finds the spec unchanged and rolls
// nothing back; undo of a switch to another ConfigMap brings the reference back,
// with that ConfigMap's content as it is now.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { SystemdWorkload } from '../../../src/api/types.js';
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { apply, getWorkload, invocationId, waitForWorkload } from '../../harness/assertions.js';
import { runCli } from '../../harness/cliHelpers.js';
import { waitFor } from '../../harness/process.js';

const NODE = 'ru-1';

const workload = (name: string, file: object): string =>
  JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: {
      files: [{ name: 'conf', path: `/etc/sdw/default/${name}/app.conf`, ...file }],
      units: [{ name: 'app', user: 'nobody', files: [{ name: 'conf' }], command: ['/bin/sleep', 'infinity'] }],
    },
  });
const configMap = (name: string, content: string): string =>
  JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { 'app.conf': content } });

describe('rollout undo and files on a real node', () => {
  let operator: OperatorCluster | undefined;
  let cluster: Cluster;
  const cli = (args: string[]) => runCli(args, { kubeconfig: cluster.kubeconfigPath });
  const onNode = (name: string) => readFileSync(path.join(cluster.node(NODE).filesDir, `default/${name}/app.conf`), 'utf8');
  const unitId = (name: string) => invocationId(cluster.node(NODE), `sdw-default_${name}_app.service`);
  /** Rolled out and settled at revision number `n` (a ConfigMap edit makes a revision without a new generation). */
  const atRevision = (name: string, n: number) =>
    waitForWorkload(
      cluster,
      name,
      `revision ${n} rolled out`,
      (w: SystemdWorkload) =>
        w.status?.updateRevisionNumber === n &&
        w.status.currentRevision === w.status.updateRevision &&
        w.status.updatedNodes === 1 &&
        w.status.readyNodes === 1 &&
        w.status.phase === 'Running',
      120_000,
    );

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: [{ name: NODE }] });
    cluster = operator.cluster;
  });

  afterAll(async () => {
    await operator?.stop();
  });

  it("undo brings an inline file's old content back to the node and restarts the unit that uses it", async () => {
    await apply(cluster, workload('inl', { content: 'level = v1\n' }));
    await atRevision('inl', 1);
    expect(onNode('inl')).toBe('level = v1\n');

    await apply(cluster, workload('inl', { content: 'level = v2\n' }));
    await atRevision('inl', 2);
    expect(onNode('inl')).toBe('level = v2\n');
    const runningV2 = await unitId('inl');

    const undo = await cli(['rollout', 'undo', 'inl']);
    expect(undo).toMatchObject({ code: 0, stderr: '', stdout: expect.stringMatching(/rolled back to revision 1 \(inl-[0-9a-f]{10}\)/) });
    const back = await atRevision('inl', 3);
    expect(back.spec.files).toEqual([{ name: 'conf', path: '/etc/sdw/default/inl/app.conf', content: 'level = v1\n' }]);
    expect(onNode('inl')).toBe('level = v1\n');
    await waitFor('the unit restarted for the old file', async () => (await unitId('inl')) !== runningV2, 30_000, 250);
  });

  it('a ConfigMap edit is not undone (the revision keeps the reference); undo of a switch to another ConfigMap is', async () => {
    await apply(cluster, configMap('cfg-a', 'a1\n'));
    await apply(cluster, workload('cm', { configMapKeyRef: { name: 'cfg-a', key: 'app.conf' } }));
    await atRevision('cm', 1);
    expect(onNode('cm')).toBe('a1\n');

    // An edit of the ConfigMap: a new revision (its digest is in the unit), the same spec.
    await cluster.kubectlOk(['patch', 'configmap', 'cfg-a', '--type', 'merge', '-p', '{"data":{"app.conf":"a2\\n"}}']);
    await atRevision('cm', 2);
    expect(onNode('cm')).toBe('a2\n');
    const runningA2 = await unitId('cm');
    const skipped = await cli(['rollout', 'undo', 'cm']);
    expect(skipped).toMatchObject({
      code: 0,
      stderr: '',
      stdout: 'systemdworkload.systemd.operators.dev/cm skipped rollback (current template already matches revision 1)\n',
    });
    const unchanged = await getWorkload(cluster, 'cm');
    expect(unchanged?.metadata.generation).toBe(1);
    expect(unchanged?.status?.updateRevisionNumber).toBe(2);
    expect(onNode('cm')).toBe('a2\n');
    expect(await unitId('cm')).toBe(runningA2);

    // A switch to another ConfigMap is a spec change: undo switches the reference back,
    // and the file gets cfg-a's content as it is now (a2, not a1).
    await apply(cluster, configMap('cfg-b', 'b1\n'));
    await apply(cluster, workload('cm', { configMapKeyRef: { name: 'cfg-b', key: 'app.conf' } }));
    await atRevision('cm', 3);
    expect(onNode('cm')).toBe('b1\n');
    const runningB1 = await unitId('cm');
    const undo = await cli(['rollout', 'undo', 'cm']);
    expect(undo).toMatchObject({ code: 0, stdout: expect.stringMatching(/rolled back to revision 2 \(cm-[0-9a-f]{10}\)/) });
    const back = await atRevision('cm', 4);
    expect(back.spec.files![0]!.configMapKeyRef).toEqual({ name: 'cfg-a', key: 'app.conf' });
    expect(onNode('cm')).toBe('a2\n');
    await waitFor('the unit restarted for the old file', async () => (await unitId('cm')) !== runningB1, 30_000, 250);
  });
});
