// Readiness and liveness as a user sees them (issue 14): the controller and the
// agents on two real systemd nodes, kubectl as the client. A unit that is active
// but whose readiness probe fails reads READY 0 and not Running, and a rollout
// does not pass a node whose new version is not ready; a liveness probe that
// starts failing restarts the unit, counted with its reason; a type notify unit
// is ready only after READY=1; an exec probe runs as the unit's (dynamic) user.
// Every wait is on a condition the test causes (a file it creates or removes),
// never on time. Each node is a network namespace of its own: its units listen
// there, and the agent's network probes reach them there (src/probe/netns.ts).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SystemdUnitSet, UnitSpec } from '../../../src/api/types.js';
import type { Cluster } from '../../harness/cluster.js';
import { startOperatorCluster, type OperatorCluster } from '../../harness/operatorCluster.js';
import { activeState, apply, waitForWorkload } from '../../harness/assertions.js';
import { waitFor } from '../../harness/process.js';
import { getChild, waitForChild } from '../../harness/agentHelpers.js';

const NODES = ['pr-1', 'pr-2'];
const PORT = 18089;

function workload(name: string, units: UnitSpec[], spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: { nodeSelector: { role: 'pr' }, ...spec, units },
  });
}

/** A unit that serves HTTP on PORT in its node's network once `file` exists. */
function serverOnceFileExists(file: string, probe: Pick<UnitSpec, 'readinessProbe'>): UnitSpec {
  return {
    name: 'server',
    dynamicUser: true,
    command: ['/bin/sh', '-c', `while [ ! -f ${file} ]; do sleep 0.2; done; exec /usr/bin/python3 -m http.server --bind 127.0.0.1 ${PORT}`],
    ...probe,
  };
}

/** The workload's row as kubectl prints it: NAME DESIRED READY UP-TO-DATE RESTARTS PHASE AGE. */
async function row(cluster: Cluster, name: string): Promise<string[]> {
  return (await cluster.kubectlOk(['get', 'sdw', name, '--no-headers'])).trim().split(/\s+/);
}

const unit0 = (c: SystemdUnitSet | undefined) => c?.status?.units?.[0];

describe('probes on real nodes', () => {
  let cluster: Cluster;
  let operator: OperatorCluster | undefined;
  let work: string;

  beforeAll(async () => {
    operator = await startOperatorCluster({ nodes: NODES.map((name) => ({ name, labels: { role: 'pr' } })) });
    cluster = operator.cluster;
    // Outside /tmp, /run, /var/tmp (private to each node) and outside the cluster's
    // directory under /root (0700): a dynamic user must reach these files.
    work = await fs.mkdtemp('/var/lib/sdw-e2e-probes-');
    await fs.chmod(work, 0o755);
  });

  afterAll(async () => {
    await operator?.stop();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  it('an httpGet readiness probe keeps READY 0 and the phase off Running until the server answers, and holds a rollout', async () => {
    const listen = path.join(work, 'listen');
    const readinessProbe = { httpGet: { port: PORT, path: '/' }, periodSeconds: 1, failureThreshold: 1 };
    await apply(cluster, workload('web', [serverOnceFileExists(listen, { readinessProbe })]));
    // Active, probed, refused: the unit runs but is not ready.
    for (const node of NODES) {
      const child = await waitForChild(cluster, 'web', node, 'active with a failing readiness probe', (c) => {
        const u = unit0(c);
        return u?.activeState === 'active' && /ECONNREFUSED/.test(u.probes?.readiness?.message ?? '');
      });
      expect(unit0(child)).toMatchObject({ ready: false, probes: { readiness: { result: 'Failure' } } });
      expect(child.status?.phase).toBe('Pending');
    }
    const before = await waitForWorkload(cluster, 'web', 'status seen', (w) => w.status?.desiredNodes === 2);
    expect(before.status?.readyNodes ?? 0).toBe(0);
    expect(before.status?.phase).not.toBe('Running');
    const [, desired, ready, , , phase] = await row(cluster, 'web');
    expect([desired, ready]).toEqual(['2', '0']);
    expect(phase).not.toBe('Running');

    await fs.writeFile(listen, '');
    await waitForWorkload(cluster, 'web', 'Running with READY 2', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2);
    for (const node of NODES) {
      expect(unit0(await getChild(cluster, 'web', node))).toMatchObject({
        ready: true,
        probes: { readiness: { result: 'Success', message: `GET http://127.0.0.1:${PORT}/: HTTP 200` } },
      });
    }
    expect((await row(cluster, 'web')).slice(1, 3)).toEqual(['2', '2']);

    // A new version that is active but not ready: the rollout (one node at a time) stops at its first node.
    const listenV2 = path.join(work, 'listen-v2');
    await apply(cluster, workload('web', [serverOnceFileExists(listenV2, { readinessProbe })]));
    const v2 = await waitForWorkload(cluster, 'web', 'one node updated', (w) => w.status?.updatedNodes === 1);
    const children = await Promise.all(NODES.map((n) => getChild(cluster, 'web', n)));
    const updated = children.find((c) => c?.spec.hash === v2.status?.hash)!;
    const held = children.find((c) => c?.spec.hash !== v2.status?.hash)!;
    expect(updated).toBeDefined();
    await waitForChild(cluster, 'web', updated.spec.nodeName, 'the new version active and refused', (c) => {
      const u = unit0(c);
      return c.status?.appliedHash === v2.status?.hash && u?.activeState === 'active' && u.probes?.readiness?.result === 'Failure';
    });
    const stuck = await waitForWorkload(cluster, 'web', 'the held node still ready', (w) => w.status?.readyNodes === 1);
    expect(stuck.status).toMatchObject({ updatedNodes: 1, readyNodes: 1 });
    expect((await getChild(cluster, 'web', held.spec.nodeName))?.spec.hash).toBe(held.spec.hash);

    await fs.writeFile(listenV2, '');
    await waitForWorkload(
      cluster,
      'web',
      'the rollout completed',
      (w) => w.status?.phase === 'Running' && w.status.updatedNodes === 2 && w.status.readyNodes === 2,
      90_000,
    );
    await cluster.kubectlOk(['delete', 'sdw', 'web', '--wait=true']);
  });

  it('a tcpSocket readiness probe holds once a connection is accepted', async () => {
    const listen = path.join(work, 'listen-tcp');
    await apply(
      cluster,
      workload('tcp', [
        serverOnceFileExists(listen, { readinessProbe: { tcpSocket: { port: PORT }, periodSeconds: 1, failureThreshold: 1 } }),
      ]),
    );
    const refused = await waitForChild(cluster, 'tcp', NODES[0]!, 'refused', (c) =>
      /ECONNREFUSED/.test(unit0(c)?.probes?.readiness?.message ?? ''),
    );
    expect(unit0(refused)).toMatchObject({ activeState: 'active', ready: false });
    await fs.writeFile(listen, '');
    await waitForWorkload(cluster, 'tcp', 'Running with READY 2', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2);
    expect(unit0(await getChild(cluster, 'tcp', NODES[0]!))?.probes?.readiness).toEqual({
      result: 'Success',
      message: `tcp 127.0.0.1:${PORT}: connected`,
    });
    await cluster.kubectlOk(['delete', 'sdw', 'tcp', '--wait=true']);
  });

  it("an exec probe runs as the unit's dynamic user", async () => {
    // The probe holds only if a process of its own UID runs the unit's command:
    // run as any other user (a dynamic user of its own, root) it fails. The
    // workload's name makes a unit name too long to be a user name, so systemd
    // names the dynamic user by a hash (src/render/dynamicUser.ts).
    await apply(
      cluster,
      workload('exec-as-unit-user', [
        {
          name: 'app',
          dynamicUser: true,
          command: ['/bin/sleep', '86401'],
          readinessProbe: {
            exec: { command: ['/bin/sh', '-c', 'pgrep -u "$(id -u)" -fx "/bin/sleep 86401"'] },
            periodSeconds: 1,
            timeoutSeconds: 5,
          },
        },
      ]),
    );
    await waitForWorkload(
      cluster,
      'exec-as-unit-user',
      'Running with READY 2',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
    );
    expect(unit0(await getChild(cluster, 'exec-as-unit-user', NODES[1]!))).toMatchObject({
      ready: true,
      probes: { readiness: { result: 'Success', message: expect.stringMatching(/: exit 0$/) } },
    });
    await cluster.kubectlOk(['delete', 'sdw', 'exec-as-unit-user', '--wait=true']);
  });

  it('a liveness probe that starts failing restarts the unit, counted with reason LivenessProbeFailed and an Event', async () => {
    const alive = path.join(work, 'alive');
    await fs.writeFile(alive, '');
    await fs.chmod(alive, 0o644);
    await apply(
      cluster,
      workload('live', [
        {
          name: 'app',
          dynamicUser: true,
          command: ['/bin/sleep', 'infinity'],
          livenessProbe: { exec: { command: ['/usr/bin/test', '-f', alive] }, periodSeconds: 1, failureThreshold: 2, timeoutSeconds: 5 },
        },
      ]),
    );
    // A probe that ran and held (not only the initial state) on every node, before the file goes.
    for (const node of NODES) {
      const ok = await waitForChild(cluster, 'live', node, 'liveness probe held', (c) =>
        /: exit 0$/.test(unit0(c)?.probes?.liveness?.message ?? ''),
      );
      expect(unit0(ok)).toMatchObject({ restarts: 0, ready: true, probes: { liveness: { result: 'Success' } } });
    }
    await waitForWorkload(cluster, 'live', 'Running on both nodes', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2);

    await fs.rm(alive);
    const restarted = await waitForChild(
      cluster,
      'live',
      NODES[0]!,
      'restarted by its liveness probe',
      (c) => (unit0(c)?.restarts ?? 0) >= 1,
    );
    expect(unit0(restarted)?.lastTermination?.reason).toBe('LivenessProbeFailed');
    const events = await cluster.kubectlOk(['get', 'events', '--field-selector', 'reason=LivenessProbeFailed', '-o', 'name']);
    expect(events.trim()).not.toBe('');
    await waitForWorkload(cluster, 'live', 'restarts counted on both nodes', (w) => (w.status?.restarts ?? 0) >= 2);
    await fs.writeFile(alive, '');
    await cluster.kubectlOk(['delete', 'sdw', 'live', '--wait=true']);
  });

  it('a type notify unit is ready only after it sends READY=1', async () => {
    const go = path.join(work, 'notify');
    await apply(
      cluster,
      workload('notify', [
        {
          name: 'svc',
          type: 'notify',
          dynamicUser: true,
          command: ['/bin/sh', '-c', `while [ ! -f ${go} ]; do sleep 0.2; done; /bin/systemd-notify --ready; exec sleep infinity`],
        },
      ]),
    );
    // Its process runs, waiting for the file, and has not sent READY=1: the start job is still pending.
    await waitFor('systemd: the notify unit activating', async () =>
      (await activeState(cluster.node(NODES[0]!), 'sdw-default_notify_svc.service')) === 'activating' ? true : undefined,
    );
    const starting = await waitForChild(cluster, 'notify', NODES[0]!, 'reported', (c) => unit0(c) !== undefined);
    expect(unit0(starting)?.ready).toBe(false);
    expect(starting.status?.phase).toBe('Pending');
    const before = await waitForWorkload(cluster, 'notify', 'status seen', (w) => w.status?.desiredNodes === 2);
    expect(before.status?.readyNodes ?? 0).toBe(0);
    expect(before.status?.phase).not.toBe('Running');

    await fs.writeFile(go, '');
    await waitForWorkload(cluster, 'notify', 'Running on both nodes', (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2);
    expect(unit0(await getChild(cluster, 'notify', NODES[1]!))).toMatchObject({ activeState: 'active', ready: true });
  });
});
