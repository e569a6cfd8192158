// The project's agent inside a VM node, as it runs on a production host without
// a kubelet: a systemd unit (enabled, so it comes back after a reboot), from the
// project's own build, with a node-bound service-account token.
//
// The build reaches the guest by virtio-9p, read-only: the repository (dist/,
// node_modules/, package.json) at /opt/sdw/app and the host's node binary at
// /opt/sdw/node (both sides are Debian 12, so it runs as is). Sharing rather
// than copying into the overlay: no per-VM copy of ~200 MB of node_modules
// through the guest agent, the agent always runs the build under test, and the
// guest image never depends on the project's code (it is cached by its package
// inputs alone).
import { createHash } from 'node:crypto';
import { existsSync, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot, repoRoot } from './binaries.js';
import type { Cluster } from './cluster.js';
import { agentTokenForNode } from './agentHelpers.js';
import { metricValue, OPERATOR_NAMESPACE } from './operator.js';
import { waitFor } from './process.js';
import { HOST_FROM_GUEST, VmNode, type VmShare } from './vmNode.js';

/** The agent's unit in the guest. No sdw- prefix: that namespace is the agent's own units'. */
export const VM_AGENT_UNIT = 'workload-agent.service';
const AGENT_PROBE_PORT = 8082;
/** A name the API server's self-signed certificate covers; the guest's /etc/hosts points it at the host. */
const APISERVER_NAME = 'kubernetes.default.svc';

/** The host's node binary in a directory of its own (a 9p share is a directory), hard-linked when it can be. */
async function nodeBinaryDir(): Promise<string> {
  const st = statSync(process.execPath);
  const key = createHash('sha256').update(`${process.execPath} ${process.version} ${st.size} ${st.mtimeMs}`).digest('hex').slice(0, 12);
  const dir = path.join(cacheRoot(), 'vm', `node-${process.version}-${key}`);
  const bin = path.join(dir, 'node');
  if (!existsSync(bin)) {
    await fs.mkdir(dir, { recursive: true });
    const tmp = `${bin}.${process.pid}`;
    await fs.link(process.execPath, tmp).catch(() => fs.copyFile(process.execPath, tmp));
    await fs.rename(tmp, bin);
  }
  return dir;
}

/** The shares vmAgent needs; pass them to VmNode.start. */
export async function agentShares(): Promise<VmShare[]> {
  if (!existsSync(path.join(repoRoot, 'dist', 'src', 'agent', 'main.js'))) {
    throw new Error(`${repoRoot}/dist/src/agent/main.js is missing: run 'make build' before the VM tests`);
  }
  return [
    { tag: 'sdw-app', hostPath: repoRoot },
    { tag: 'sdw-node', hostPath: await nodeBinaryDir() },
  ];
}

export const AGENT_GUEST_PORTS = [AGENT_PROBE_PORT];

function mountUnit(tag: string, where: string): string {
  // cache=loose: the shared build does not change while a test runs, and TCG
  // makes every 9p round trip expensive.
  return [
    '[Unit]',
    `Description=${tag} (read-only, from the host)`,
    '',
    '[Mount]',
    `What=${tag}`,
    `Where=${where}`,
    'Type=9p',
    'Options=ro,trans=virtio,version=9p2000.L,msize=262144,cache=loose',
    '',
  ].join('\n');
}

function agentUnit(nodeName: string, hostPort: number): string {
  return [
    '[Unit]',
    'Description=systemd-workload-operator agent',
    'Wants=network-online.target',
    'After=network-online.target',
    'RequiresMountsFor=/opt/sdw/app /opt/sdw/node',
    '',
    '[Service]',
    'Environment=KUBECONFIG=/etc/sdw-agent/kubeconfig LOG_LEVEL=info',
    [
      'ExecStart=/opt/sdw/node/node /opt/sdw/app/dist/src/agent/main.js',
      `--node-name=${nodeName}`,
      `--probe-port=${AGENT_PROBE_PORT}`,
      `--heartbeat-namespace=${OPERATOR_NAMESPACE}`,
      '--usage-period=2',
      '--heartbeat-period=2',
      '--resync-period=10',
      // Where the host (kubectl sdw logs) reaches this agent: QEMU's port forward.
      `--advertise-url=http://127.0.0.1:${hostPort}`,
    ].join(' '),
    'Restart=always',
    'RestartSec=2',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}

/** The agent of a VM node, seen from the host through QEMU's port forward. */
export class VmAgent {
  constructor(
    readonly vm: VmNode,
    readonly probeUrl: string,
  ) {}

  async get(pathname: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`${this.probeUrl}${pathname}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  }

  async waitReady(timeoutMs = 300_000): Promise<void> {
    try {
      await waitFor(
        `agent of VM ${this.vm.name} /readyz`,
        async () => (await this.get('/readyz').catch(() => undefined))?.status === 200,
        timeoutMs,
        1000,
      );
    } catch (err) {
      const journal = await this.vm
        .exec(['journalctl', '-u', VM_AGENT_UNIT, '-n', '40', '--no-pager'])
        .catch((e: Error) => ({ stdout: e.message }));
      throw new Error(`${(err as Error).message}\nagent journal in the guest:\n${journal.stdout}`);
    }
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    return metricValue((await this.get('/metrics')).body, name, labels);
  }

  /** The agent unit's MainPID and ActiveState in the guest (systemd's word). */
  async unitState(): Promise<{ mainPid: string; activeState: string }> {
    const out = await this.vm.sh(`systemctl show ${VM_AGENT_UNIT} -p MainPID -p ActiveState --value`);
    const [mainPid = '', activeState = ''] = out.trim().split('\n');
    return { mainPid, activeState };
  }
}

/**
 * Installs the operator's RBAC and node-identity policy (config/default, as a
 * user does), mints a token bound to the VM's Node object, writes the agent's
 * kubeconfig, mounts and unit into the guest, enables and starts it, and waits
 * until the agent is ready. The Node object must exist (a token is bound to it).
 */
export async function startVmAgent(cluster: Cluster, vm: VmNode): Promise<VmAgent> {
  const token = await agentTokenForNode(cluster, vm.name, ['--duration=24h']);
  const ca = await fs.readFile(cluster.controlPlane.caFile);
  const kubeconfig = [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: cluster',
    '  cluster:',
    `    server: https://${APISERVER_NAME}:${cluster.controlPlane.apiserverPort}`,
    `    certificate-authority-data: ${ca.toString('base64')}`,
    'users:',
    '- name: agent',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: agent',
    '  context: {cluster: cluster, user: agent}',
    'current-context: agent',
    '',
  ].join('\n');
  const hostPort = vm.ports.get(AGENT_PROBE_PORT);
  if (!hostPort) throw new Error(`VM ${vm.name} was started without forwarding the agent's port (AGENT_GUEST_PORTS)`);

  await vm.guest.writeFile('/etc/sdw-agent/kubeconfig', kubeconfig, '0600');
  await vm.guest.writeFile('/etc/systemd/system/opt-sdw-app.mount', mountUnit('sdw-app', '/opt/sdw/app'));
  await vm.guest.writeFile('/etc/systemd/system/opt-sdw-node.mount', mountUnit('sdw-node', '/opt/sdw/node'));
  await vm.guest.writeFile(`/etc/systemd/system/${VM_AGENT_UNIT}`, agentUnit(vm.name, hostPort));
  await vm.sh(`grep -q ' ${APISERVER_NAME}$' /etc/hosts || echo '${HOST_FROM_GUEST} ${APISERVER_NAME}' >> /etc/hosts`);
  await vm.sh(`systemctl daemon-reload && systemctl enable --now ${VM_AGENT_UNIT}`, 120_000);
  const agent = new VmAgent(vm, `http://127.0.0.1:${hostPort}`);
  await agent.waitReady();
  return agent;
}
