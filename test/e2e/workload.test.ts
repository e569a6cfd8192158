// A workload's life on real nodes: the controller and one agent per node run as
// processes; kubectl is the client; systemd's answers are read with busctl.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { waitFor } from '../harness/process.js';
import { startAgent, startController, type OperatorProcess } from '../harness/operator.js';
import {
  activeState,
  apply,
  eventsFor,
  getWorkload,
  invocationId,
  unitFileExists,
  unitProperty,
  waitForWorkload,
} from '../harness/assertions.js';

const WEB = 'sdw-default_web_server.service';
const SIDE = 'sdw-default_web_sidecar.service';

function webYaml(serverArgs: string, sidecarArgs = 'infinity', memory = '64Mi'): string {
  return `
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: web, namespace: default}
spec:
  nodeSelector: {role: web}
  units:
  - name: server
    command: ["/bin/sleep", "${serverArgs}"]
    resources: {limits: {memory: ${memory}, cpu: 500m, tasks: 50}}
  - name: sidecar
    command: ["/bin/sleep", "${sidecarArgs}"]
`;
}

describe('workload lifecycle on real nodes', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents = new Map<string, OperatorProcess>();

  beforeAll(async () => {
    cluster = await Cluster.start({
      nodes: [
        { name: 'wl-1', labels: { role: 'web' } },
        { name: 'wl-2', labels: { role: 'web' } },
        { name: 'wl-3', labels: { role: 'db' } },
      ],
    });
    controller = await startController(cluster);
    for (const n of ['wl-1', 'wl-2', 'wl-3']) agents.set(n, await startAgent(cluster, n));
  });

  afterAll(async () => {
    for (const a of agents.values()) await a.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  it('runs the units on the selected nodes only and reports them Running', async () => {
    // A foreign unit next to ours: it must survive everything below.
    const foreign = path.join(cluster.node('wl-1').unitDir, 'foreign.service');
    await fs.writeFile(foreign, '[Service]\nExecStart=/bin/sleep infinity\n');
    await cluster
      .node('wl-1')
      .busctl('call', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'Reload');
    await cluster
      .node('wl-1')
      .busctl(
        'call',
        'org.freedesktop.systemd1',
        '/org/freedesktop/systemd1',
        'org.freedesktop.systemd1.Manager',
        'StartUnit',
        'ss',
        'foreign.service',
        'replace',
      );

    await apply(cluster, webYaml('infinity'));
    const wl = await waitForWorkload(
      cluster,
      'web',
      'Running on 2 nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
    );
    expect(wl.status).toMatchObject({ desiredNodes: 2, currentNodes: 2, readyNodes: 2, updatedNodes: 2, failedNodes: 0 });
    const table = await cluster.kubectlOk(['get', 'sdw', 'web']);
    expect(table).toMatch(/^web\s+2\s+2\s+2\s+0\s+Running\s/m);
    for (const n of ['wl-1', 'wl-2']) {
      expect(await activeState(cluster.node(n), WEB)).toBe('active');
      expect(await unitProperty(cluster.node(n), WEB, 'Service', 'MemoryMax')).toBe(String(64 * 1024 * 1024));
      expect(await unitProperty(cluster.node(n), WEB, 'Service', 'TasksMax')).toBe('50');
    }
    expect(unitFileExists(cluster.node('wl-3'), WEB)).toBe(false);
    // One child per matching node, owned by the workload.
    const children = JSON.parse(await cluster.kubectlOk(['get', 'systemdunitsets', '-o', 'json'])) as {
      items: Array<{ spec: { nodeName: string }; metadata: { ownerReferences: Array<{ name: string; controller: boolean }> } }>;
    };
    expect(children.items.map((c) => c.spec.nodeName).sort()).toEqual(['wl-1', 'wl-2']);
    expect(children.items.every((c) => c.metadata.ownerReferences[0]?.name === 'web' && c.metadata.ownerReferences[0].controller)).toBe(
      true,
    );
  });

  it('follows a node that gains the label', async () => {
    await cluster.kubectlOk(['label', 'node', 'wl-3', 'role=web', '--overwrite']);
    await waitForWorkload(cluster, 'web', 'Running on 3 nodes', (w) => w.status?.readyNodes === 3 && w.status.phase === 'Running');
    expect(await activeState(cluster.node('wl-3'), WEB)).toBe('active');
  });

  it('applies a memory change live and restarts only the unit whose command changed', async () => {
    const node = cluster.node('wl-1');
    const serverBefore = await invocationId(node, WEB);
    const sideBefore = await invocationId(node, SIDE);
    // Only the memory limit: applied without a restart.
    await apply(cluster, webYaml('infinity', 'infinity', '96Mi'));
    await waitFor(
      'MemoryMax 96Mi on wl-1',
      async () => (await unitProperty(node, WEB, 'Service', 'MemoryMax')) === String(96 * 1024 * 1024),
    );
    await waitForWorkload(cluster, 'web', 'rolled out', (w) => w.status?.updatedNodes === 3 && w.status.readyNodes === 3, 90_000);
    expect(await invocationId(node, WEB)).toBe(serverBefore);
    expect(await invocationId(node, SIDE)).toBe(sideBefore);
    // The sidecar's command: only the sidecar restarts.
    await apply(cluster, webYaml('infinity', '86400', '96Mi'));
    await waitForWorkload(cluster, 'web', 'rolled out', (w) => w.status?.updatedNodes === 3 && w.status.readyNodes === 3, 90_000);
    expect(await invocationId(node, SIDE)).not.toBe(sideBefore);
    expect(await invocationId(node, WEB)).toBe(serverBefore);
    const events = await eventsFor(cluster, 'SystemdWorkload', 'web');
    expect(events.map((e) => e.reason)).toEqual(expect.arrayContaining(['RolloutStarted', 'RolloutComplete']));
  });

  it('repairs a managed unit stopped by hand and reports it', async () => {
    const node = cluster.node('wl-2');
    await node.busctl(
      'call',
      'org.freedesktop.systemd1',
      '/org/freedesktop/systemd1',
      'org.freedesktop.systemd1.Manager',
      'StopUnit',
      'ss',
      WEB,
      'replace',
    );
    await waitFor('server active again on wl-2', async () => (await activeState(node, WEB)) === 'active', 30_000);
    const children = JSON.parse(
      await cluster.kubectlOk(['get', 'systemdunitsets', '-l', 'systemd.operators.dev/node=wl-2', '-o', 'json']),
    ) as { items: Array<{ metadata: { name: string } }> };
    // The agent records the Event after the start it repaired with returns: poll for it.
    await waitFor('the DriftRepaired Event', async () =>
      (await eventsFor(cluster, 'SystemdUnitSet', children.items[0]!.metadata.name)).some(
        (e) => e.reason === 'DriftRepaired' && e.message.includes(WEB),
      ),
    );
  });

  it('survives an agent killed with SIGKILL: no managed unit restarted', async () => {
    const node = cluster.node('wl-1');
    const before = await invocationId(node, WEB);
    const nrBefore = await unitProperty(node, WEB, 'Service', 'NRestarts');
    await agents.get('wl-1')!.kill();
    agents.set('wl-1', await startAgent(cluster, 'wl-1'));
    // The restarted agent adopts its units and reports them ready again.
    await waitForWorkload(cluster, 'web', 'ready after agent restart', (w) => w.status?.readyNodes === 3);
    // The workload may still read 3 ready from before the kill: wait for the new agent's own
    // first successful sync (a single read raced it under load), then check nothing restarted.
    const restarted = agents.get('wl-1')!;
    await waitFor(
      'the restarted agent completed a successful sync',
      async () => ((await restarted.metric('sdw_agent_syncs_total', { result: 'success' })) ?? 0) > 0,
      30_000,
    );
    expect(await invocationId(node, WEB)).toBe(before);
    expect(await unitProperty(node, WEB, 'Service', 'NRestarts')).toBe(nrBefore);
  });

  it('reports a crash-looping unit with its restarts and exit code', async () => {
    await apply(
      cluster,
      `
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: crasher, namespace: default}
spec:
  nodeSelector: {kubernetes.io/hostname: wl-2}
  units:
  - name: main
    command: ["/bin/sh", "-c", "sleep 0.3; exit 3"]
    restart: {policy: Always, delaySeconds: 1}
`,
    );
    const wl = await waitForWorkload(
      cluster,
      'crasher',
      'restarts reported',
      (w) => (w.status?.restarts ?? 0) >= 2 && w.status?.nodes?.[0]?.exitCode === 3,
      60_000,
    );
    expect(wl.status?.nodes?.[0]).toMatchObject({ node: 'wl-2', exitCode: 3 });
    await waitFor('UnitRestarting event', async () =>
      (await eventsFor(cluster, 'SystemdWorkload', 'crasher')).some((e) => e.reason === 'UnitRestarting'),
    );
    await cluster.kubectlOk(['delete', 'sdw', 'crasher', '--wait=true']);
    // --wait waits for the workload only: its child goes by garbage collection, which
    // may not know the CRD for up to its 30 s discovery period; the next test counts
    // every sdw- unit left on the nodes, so wait until the agent removed this one.
    await waitFor(
      'crasher removed from wl-2',
      async () => !unitFileExists(cluster.node('wl-2'), 'sdw-default_crasher_main.service'),
      90_000,
    );
  });

  it('removes every file and unit on deletion, and leaves the foreign unit alone', async () => {
    await cluster.kubectlOk(['delete', 'sdw', 'web', '--wait=true']);
    for (const n of ['wl-1', 'wl-2', 'wl-3']) {
      const node = cluster.node(n);
      await waitFor(`${n} cleaned`, async () => !unitFileExists(node, WEB) && !unitFileExists(node, SIDE), 60_000);
      await waitFor(
        `${n} unit unloaded`,
        async () => {
          const r = await node
            .busctl(
              'call',
              'org.freedesktop.systemd1',
              '/org/freedesktop/systemd1',
              'org.freedesktop.systemd1.Manager',
              'GetUnit',
              's',
              WEB,
            )
            .catch((e: Error) => e.message);
          return /not loaded|NoSuchUnit/.test(r);
        },
        30_000,
      );
      const wants = await fs.readdir(path.join(node.unitDir, 'multi-user.target.wants')).catch(() => []);
      expect(wants.filter((f) => f.startsWith('sdw-'))).toEqual([]);
    }
    expect(await getWorkload(cluster, 'web')).toBeUndefined();
    await waitFor(
      'children garbage-collected',
      async () => (await cluster.kubectlOk(['get', 'systemdunitsets', '-o', 'name'])).trim() === '',
    );
    expect(await activeState(cluster.node('wl-1'), 'foreign.service')).toBe('active');
    expect(unitFileExists(cluster.node('wl-1'), 'foreign.service')).toBe(true);
  });
});
