// Kubelet nodes: two nodes whose kubelets register themselves and run a
// DaemonSet pod each (pause image and test image from the project's busybox
// archive), and after teardown nothing is left on the host: no process,
// mount, veth or bridge, namespace, cgroup or run directory, and the host's
// kernel settings that kubelet writes at start are unchanged.
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUSYBOX_IMAGE, Cluster, waitFor } from '../../harness/cluster.js';
import { KUBELET_NODE_DIRS, KUBELET_SYSCTLS } from '../../harness/kubeletNode.js';
import { linkExists } from '../../harness/nodeBridge.js';
import { alive } from '../../harness/process.js';
import { findCgroupDirs } from '../../harness/systemdNode.js';

const DAEMONSET = `
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: probe, namespace: default}
spec:
  selector: {matchLabels: {app: probe}}
  template:
    metadata: {labels: {app: probe}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: probe
        image: ${BUSYBOX_IMAGE}
        imagePullPolicy: Never
        command: ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"]
`;

/** Every process in a node's cgroups: also those in pod containers, which have pid namespaces of their own. */
async function cgroupProcesses(cgroupName: string): Promise<number[]> {
  const pids = new Set<number>();
  const walk = async (dir: string): Promise<void> => {
    const procs = await fs.readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => '');
    for (const p of procs.split('\n').filter(Boolean)) pids.add(Number(p));
    for (const e of await fs.readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (e.isDirectory()) await walk(path.join(dir, e.name));
    }
  };
  for (const root of await findCgroupDirs(cgroupName)) await walk(root);
  return [...pids];
}

const sysctlPath = (key: string): string => `/proc/sys/${key.replaceAll('.', '/')}`;

/** Every namespace (net, pid, mnt) some process on the host is in. */
async function namespacesInUse(): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const ns of ['net', 'pid', 'mnt']) {
      try {
        ids.add(await fs.readlink(`/proc/${entry}/ns/${ns}`));
      } catch {
        /* gone */
      }
    }
  }
  return ids;
}

interface Pod {
  metadata: { name: string };
  spec: { nodeName?: string };
  status: { phase?: string; podIP?: string; containerStatuses?: Array<{ ready: boolean }> };
}

describe('kubelet node teardown', () => {
  it('runs a DaemonSet pod on each of two kubelet nodes, then leaves a clean host', async () => {
    const sentinel = path.join(os.tmpdir(), `sdw-sentinel-${process.pid}`);
    await fs.writeFile(sentinel, 'host /tmp must survive a node boot');
    const sysctlsBefore = await Promise.all(Object.keys(KUBELET_SYSCTLS).map((k) => fs.readFile(sysctlPath(k), 'utf8')));

    const cluster = await Cluster.start({ kubeletNodes: [{ name: 'kt-a', labels: { role: 'a' } }, { name: 'kt-b' }], crds: false });
    const pids: number[] = [];
    const cgroupNames: string[] = [];
    const links: string[] = [];
    const namespaces: string[] = [];
    let runDir = '';
    try {
      runDir = cluster.dir;
      const cp = cluster.controlPlane;
      for (const p of [cp.etcd, cp.apiserver, cp.controllerManager, cp.scheduler]) {
        expect(p?.pid).toBeGreaterThan(0);
        pids.push(p!.pid!);
      }
      links.push(cluster.bridge!.name);

      // The kubelets registered the Nodes themselves, at the control plane's release, with the labels asked for.
      const nodes = JSON.parse(await cluster.kubectlOk(['get', 'nodes', '-o', 'json'])) as {
        items: Array<{
          metadata: { name: string; labels: Record<string, string> };
          status: { nodeInfo: { kubeletVersion: string; containerRuntimeVersion: string } };
        }>;
      };
      expect(nodes.items.map((n) => n.metadata.name).sort()).toEqual(['kt-a', 'kt-b']);
      for (const n of nodes.items) {
        expect(n.status.nodeInfo.kubeletVersion).toBe(cp.bin.k8sVersion);
        expect(n.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
      }
      expect(nodes.items.find((n) => n.metadata.name === 'kt-a')?.metadata.labels.role).toBe('a');

      await cluster.kubectlOk(['apply', '-f', '-'], { input: DAEMONSET });
      const pods = await waitFor(
        'a ready probe pod on each node',
        async () => {
          const list = JSON.parse(await cluster.kubectlOk(['get', 'pods', '-l', 'app=probe', '-o', 'json'])) as { items: Pod[] };
          const ready = list.items.filter((p) => p.status.containerStatuses?.[0]?.ready);
          return ready.length === 2 ? ready : undefined;
        },
        120_000,
        500,
      );
      expect(pods.map((p) => p.spec.nodeName).sort()).toEqual(['kt-a', 'kt-b']);
      // kubectl exec goes API server -> kubelet over the bridge: the pod's network is the node's CNI bridge.
      const addr = await cluster.kubectlOk(['exec', pods[0]!.metadata.name, '--', 'ip', 'addr', 'show', 'eth0']);
      expect(addr).toContain(pods[0]!.status.podIP!);

      for (const n of cluster.kubeletNodes.values()) {
        // Figures for the notes: boot to Ready, and what the node with one pod costs in memory.
        console.log(
          `KUBELET-NODE-RESULT ${JSON.stringify({ node: n.name, bootToReadyMs: n.readyAt - n.startedAt, memoryMiB: +((await n.memoryBytes()) / 2 ** 20).toFixed(1) })}`,
        );
        const inside = await cgroupProcesses(n.systemd.cgroupName);
        const comms = await Promise.all(
          inside.map((p) =>
            fs.readFile(`/proc/${p}/comm`, 'utf8').then(
              (c) => c.trim(),
              () => '',
            ),
          ),
        );
        // The node's systemd, containerd and kubelet, and the pod's pause and probe containers.
        expect(comms).toEqual(expect.arrayContaining(['systemd', 'containerd', 'kubelet', 'containerd-shim', 'sh', 'sleep']));
        pids.push(...inside);
        cgroupNames.push(n.systemd.cgroupName);
        expect((await findCgroupDirs(n.systemd.cgroupName)).length).toBeGreaterThan(0);
        links.push(cluster.bridge!.vethOf(n.name)!);
        for (const ns of ['net', 'pid', 'mnt']) namespaces.push(await fs.readlink(`/proc/${n.systemd.systemdPid}/ns/${ns}`));
      }
      for (const l of links) expect({ link: l, exists: await linkExists(l) }).toEqual({ link: l, exists: true });
    } finally {
      await cluster.stop();
    }

    for (const pid of pids) expect({ pid, alive: alive(pid) }).toEqual({ pid, alive: false });
    for (const name of cgroupNames) expect(await findCgroupDirs(name)).toEqual([]);
    for (const l of links) expect({ link: l, exists: await linkExists(l) }).toEqual({ link: l, exists: false });
    const inUse = await namespacesInUse();
    for (const ns of namespaces) expect({ ns, inUse: inUse.has(ns) }).toEqual({ ns, inUse: false });
    expect(existsSync(runDir)).toBe(false);
    const mounts = (await fs.readFile('/proc/self/mounts', 'utf8')).split('\n');
    expect(mounts.filter((l) => l.includes(runDir))).toEqual([]);
    for (const d of KUBELET_NODE_DIRS) expect(mounts.filter((l) => l.split(' ')[1] === d)).toEqual([]);
    expect(mounts.filter((l) => l.split(' ')[1]?.startsWith('/proc/sys/'))).toEqual([]);
    expect(await Promise.all(Object.keys(KUBELET_SYSCTLS).map((k) => fs.readFile(sysctlPath(k), 'utf8')))).toEqual(sysctlsBefore);
    expect(await fs.readFile(sentinel, 'utf8')).toBe('host /tmp must survive a node boot');
    await fs.rm(sentinel);
  });
});
