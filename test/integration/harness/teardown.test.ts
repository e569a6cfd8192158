// The harness must leave the host as it found it: no process, mount, cgroup
// directory or run directory behind, the host's /tmp untouched and its
// /sys/fs/cgroup still writable.
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cluster } from '../../harness/cluster.js';
import { alive } from '../../harness/process.js';
import { findCgroupDirs } from '../../harness/systemdNode.js';

describe('harness teardown', () => {
  it('starts a control plane and two systemd nodes, then leaves a clean host', async () => {
    const sentinel = path.join(os.tmpdir(), `sdw-sentinel-${process.pid}`);
    await fs.writeFile(sentinel, 'host /tmp must survive a node boot');

    const cluster = await Cluster.start({
      nodes: [{ name: 'td-a', labels: { role: 'a' } }, { name: 'td-b' }],
      crds: false,
    });
    const pids: number[] = [];
    const cgroupNames: string[] = [];
    let runDir = '';
    try {
      runDir = cluster.dir;
      for (const p of [cluster.controlPlane.etcd, cluster.controlPlane.apiserver, cluster.controlPlane.controllerManager]) {
        expect(p?.pid).toBeGreaterThan(0);
        pids.push(p!.pid!);
      }
      for (const n of cluster.nodes.values()) {
        const inside = await n.processes();
        // systemd, dbus-daemon and journald at least
        expect(inside.length).toBeGreaterThanOrEqual(3);
        pids.push(...inside);
        cgroupNames.push(n.cgroupName);
        expect((await findCgroupDirs(n.cgroupName)).length).toBeGreaterThan(0);
        expect(await n.systemState()).toBe('running');
      }
      // The Node objects exist with the hostname label and are Ready.
      const nodes = JSON.parse(await cluster.kubectlOk(['get', 'nodes', '-o', 'json'])) as {
        items: Array<{
          metadata: { name: string; labels: Record<string, string> };
          status: { conditions: Array<{ type: string; status: string }> };
        }>;
      };
      const byName = new Map(nodes.items.map((n) => [n.metadata.name, n]));
      expect(byName.get('td-a')?.metadata.labels['kubernetes.io/hostname']).toBe('td-a');
      expect(byName.get('td-a')?.metadata.labels.role).toBe('a');
      expect(byName.get('td-b')?.status.conditions.find((c) => c.type === 'Ready')?.status).toBe('True');
      // The two nodes are isolated: different pid namespaces.
      const [a, b] = [...cluster.nodes.values()];
      expect(await fs.readlink(`/proc/${a!.systemdPid}/ns/pid`)).not.toBe(await fs.readlink(`/proc/${b!.systemdPid}/ns/pid`));
    } finally {
      await cluster.stop();
    }

    for (const pid of pids) expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
    for (const name of cgroupNames) expect(await findCgroupDirs(name)).toEqual([]);
    expect(existsSync(runDir)).toBe(false);
    const mounts = await fs.readFile('/proc/self/mounts', 'utf8');
    expect(mounts.split('\n').filter((l) => l.includes(runDir))).toEqual([]);
    expect(mounts).not.toMatch(/ \/sys\/fs\/cgroup tmpfs ro[, ]/);
    expect(await fs.readFile(sentinel, 'utf8')).toBe('host /tmp must survive a node boot');
    await fs.rm(sentinel);
  });
});
