// The platform is real: the project's CRDs are served by a real API server and
// kubectl (built from the pinned release) talks to it; a real systemd node runs
// a unit written into its unit directory, and its state is read back over D-Bus
// through the project's own adapter.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { Cluster } from '../harness/cluster.js';
import { waitFor } from '../harness/process.js';
import { SystemdBus } from '../../src/systemd/bus.js';

describe('platform', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [{ name: 'plat-1', labels: { role: 'storage' } }] });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('serves the CRDs, and kubectl lists systemdworkloads with the printer columns', async () => {
    const crds = await cluster.kubectlOk(['get', 'crd', '-o', 'name']);
    expect(crds).toContain('systemdworkloads.systemd.operators.dev');
    expect(crds).toContain('systemdunitsets.systemd.operators.dev');
    const empty = await cluster.kubectl(['get', 'systemdworkloads', '-A']);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toMatch(/No resources found/);

    await cluster.kubectlOk(['apply', '-f', '-'], {
      input: [
        'apiVersion: systemd.operators.dev/v1alpha1',
        'kind: SystemdWorkload',
        'metadata: {name: exporter, namespace: default}',
        'spec:',
        '  nodeSelector: {role: storage}',
        '  units:',
        '  - name: main',
        '    command: ["/bin/sleep", "infinity"]',
      ].join('\n'),
    });
    const table = await cluster.kubectlOk(['get', 'sdw']);
    expect(table.split('\n')[0]).toMatch(/^NAME\s+DESIRED\s+READY\s+UP-TO-DATE\s+RESTARTS\s+PHASE\s+AGE$/);
    expect(table).toMatch(/^exporter\s/m);
    const version = await cluster.kubectlOk(['version', '-o', 'json']);
    const v = JSON.parse(version) as { clientVersion: { gitVersion: string }; serverVersion: { gitVersion: string } };
    expect(v.clientVersion.gitVersion).toBe(cluster.controlPlane.bin.k8sVersion);
    expect(v.serverVersion.gitVersion).toBe(cluster.controlPlane.bin.k8sVersion);
  });

  it('starts a unit on a real systemd node over D-Bus and reads its state back', async () => {
    const node = cluster.node('plat-1');
    await fs.writeFile(
      path.join(node.unitDir, 'platform-probe.service'),
      ['[Unit]', 'Description=platform probe', '', '[Service]', 'ExecStart=/bin/sleep infinity', ''].join('\n'),
    );
    const bus = await SystemdBus.connect(node.busAddress);
    try {
      await bus.reload();
      expect(await bus.startUnit('platform-probe.service')).toBe('done');
      const st = await waitFor('unit running', async () => {
        const s = await bus.getUnitState('platform-probe.service');
        return s.subState === 'running' ? s : undefined;
      });
      expect(st.activeState).toBe('active');
      expect(st.nRestarts).toBe(0);
      expect(st.mainPid).toBeGreaterThan(1);
      // Figures systemd can account are numbers; UINT64_MAX ("not available") is undefined.
      for (const figure of [st.memoryCurrent, st.tasksCurrent, st.cpuUsageNSec]) {
        if (figure !== undefined) {
          expect(Number.isFinite(figure)).toBe(true);
          expect(figure).toBeLessThan(2 ** 63);
        }
      }
      expect(st.tasksCurrent).toBeGreaterThanOrEqual(1);
      // Cross-check with busctl, independently of our adapter.
      const raw = await node.busctl(
        'get-property',
        'org.freedesktop.systemd1',
        '/org/freedesktop/systemd1/unit/platform_2dprobe_2eservice',
        'org.freedesktop.systemd1.Unit',
        'ActiveState',
      );
      expect(raw.trim()).toBe('s "active"');
    } finally {
      await bus.close();
    }
  });
});
