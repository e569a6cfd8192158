// `kubectl sdw logs` through the API server, as a user on a laptop runs it:
// kubectl finds the plugin, the plugin sends one GET of the workload's log
// subresource to the API server with the kubeconfig's credentials (a client
// certificate, or a token), the API server authorizes it by RBAC and proxies
// it to the controller's aggregated logs API (config/logsapi as shipped, pointed
// at the controller process: test/harness/logsApi.ts), which reads each node's
// real journal from its real agent over pinned TLS.
import { promises as fs } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { Cluster } from '../../harness/cluster.js';
import { binaries } from '../../harness/binaries.js';
import { createLogsApiHost, registerLogsApi, type LogsApiHost } from '../../harness/logsApi.js';
import { waitFor } from '../../harness/process.js';
import { OPERATOR_NAMESPACE, startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { apply, waitForWorkload } from '../../harness/assertions.js';
import { kubectlSdw, spawnCli } from '../../harness/cliHelpers.js';

const NODES = ['logs-1', 'logs-2'];
const FORBIDDEN = 'cannot get resource "systemdworkloads/log" in API group "subresources.systemd.operators.dev" in the namespace "default"';

const WORKLOAD = `
apiVersion: systemd.operators.dev/v1alpha1
kind: SystemdWorkload
metadata: {name: talker, namespace: default}
spec:
  units:
  - name: server
    command: ["/bin/sh", "-c", "echo run $INVOCATION_ID; exec sleep infinity"]
  - name: side
    command: ["/bin/sh", "-c", "echo side up; exec sleep infinity"]
`;

describe('kubectl sdw logs through the aggregated API', () => {
  let host: LogsApiHost | undefined;
  let cluster: Cluster;
  let controller: OperatorProcess;
  const agents: OperatorProcess[] = [];
  let binDir: string;
  let certConfig: string;
  let tokenConfig: string;

  const sdw = (args: string[], kubeconfig: string) => kubectlSdw(binaries().kubectl, binDir, ['logs', 'talker', ...args], { kubeconfig });

  beforeAll(async () => {
    host = await createLogsApiHost();
    cluster = await Cluster.start({ nodes: NODES.map((name) => ({ name })), aggregation: true });
    controller = await startController(cluster, { logsApi: host.listen });
    for (const n of NODES) agents.push(await startAgent(cluster, n, { extraArgs: [`--journal-dir=${cluster.node(n).journalDir}`] }));

    await registerLogsApi(cluster, host, () => `controller log:\n${controller.logTail()}`);

    // Two users as kubeconfigs kubectl accepts: a client certificate (alice), a service-account token (bob).
    const cp = cluster.controlPlane;
    const alice = await cp.userPki!.issue('alice', '/CN=alice/O=logs-e2e', 'clientAuth');
    await cluster.kubectlOk(['create', 'serviceaccount', 'bob', '-n', 'default']);
    const token = (await cluster.kubectlOk(['create', 'token', 'bob', '-n', 'default'])).trim();
    const kubeconfig = (user: string) =>
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: c, cluster: {server: "${cp.server}", certificate-authority: "${cp.caFile}"}}]`,
        `users: [{name: u, user: ${user}}]`,
        'contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]',
        'current-context: c',
        '',
      ].join('\n');
    certConfig = path.join(cluster.dir, 'alice.kubeconfig');
    tokenConfig = path.join(cluster.dir, 'bob.kubeconfig');
    await fs.writeFile(certConfig, kubeconfig(`{client-certificate: "${alice.cert}", client-key: "${alice.key}"}`));
    await fs.writeFile(tokenConfig, kubeconfig(`{token: "${token}"}`));
    binDir = path.join(cluster.dir, 'bin');

    await apply(cluster, WORKLOAD);
    await waitForWorkload(
      cluster,
      'talker',
      'Running on both nodes',
      (w) => w.status?.phase === 'Running' && w.status.readyNodes === 2,
      120_000,
    );
  });

  afterAll(async () => {
    for (const a of agents) await a.stop();
    await controller?.stop();
    await cluster?.stop();
    await host?.bridge.remove();
  });

  it('refuses both users with 403 naming the missing permission until RBAC grants it', async () => {
    for (const [kubeconfig, user] of [
      [certConfig, 'alice'],
      [tokenConfig, 'system:serviceaccount:default:bob'],
    ] as const) {
      const r = await sdw([], kubeconfig);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('HTTP 403');
      expect(r.stderr).toContain(`User "${user}" ${FORBIDDEN}`);
      expect(r.stderr).toContain('resources: [systemdworkloads/log], verbs: [get]');
    }
  });

  it('serves every node, prefixed with its name, to a client certificate and to a token once granted per namespace', async () => {
    await cluster.kubectlOk([
      'create',
      'rolebinding',
      'log-readers',
      '-n',
      'default',
      '--clusterrole=systemd-workload-viewer',
      '--user=alice',
    ]);
    await cluster.kubectlOk([
      'create',
      'rolebinding',
      'log-readers-sa',
      '-n',
      'default',
      '--clusterrole=systemd-workload-viewer',
      '--serviceaccount=default:bob',
    ]);
    for (const kubeconfig of [certConfig, tokenConfig]) {
      const r = await waitFor(
        'both nodes, both units',
        async () => {
          const x = await sdw([], kubeconfig);
          return x.code === 0 && NODES.every((n) => x.stdout.includes(`${n} server run `) && x.stdout.includes(`${n} side side up`))
            ? x
            : undefined;
        },
        60_000,
        500,
      );
      expect(r.stderr).toBe('');
    }
    // The grant is per namespace: another namespace is still refused.
    const other = await sdw(['-n', 'kube-system'], certConfig);
    expect(other.code).toBe(1);
    expect(other.stderr).toContain(FORBIDDEN.replace('"default"', '"kube-system"'));
  });

  it('--node, --unit, --tail and --timestamps narrow and shape the lines', async () => {
    const one = await sdw(['--node', 'logs-2', '--unit', 'server', '--tail', '1', '--timestamps', '--since', '1h'], tokenConfig);
    expect(one).toMatchObject({ code: 0, stderr: '' });
    // One line (the unit's own, or systemd's about it), with its time and no node or unit prefix.
    expect(one.stdout).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (?!logs-|server )\S[^\n]*\n$/);
    const missing = await sdw(['--node', 'nope'], certConfig);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("workload default/talker does not run on node 'nope' (nodes: logs-1, logs-2)");
  });

  it('-f keeps following the unit across a restart', async () => {
    const f = spawnCli(['logs', 'talker', '--node', 'logs-1', '--unit', 'server', '-f'], { kubeconfig: certConfig });
    try {
      const runs = (): string[] => [...f.output().matchAll(/^run ([0-9a-f]{32})$/gm)].map((m) => m[1]!);
      await waitFor('the current run', async () => runs().length > 0, 30_000);
      const before = new Set(runs());
      await cluster.kubectlOk([
        'annotate',
        'sdw',
        'talker',
        '--overwrite',
        `systemd.operators.dev/restartedAt=${new Date().toISOString()}`,
      ]);
      await waitFor('a line of the run after the restart', async () => runs().some((id) => !before.has(id)), 60_000, 250);
    } finally {
      f.child.kill('SIGINT');
    }
    expect(await f.exited).toBe(0);
  });

  it('the agent serves its journal only over TLS and only to callers the API server authenticates', async () => {
    const lease = JSON.parse(await cluster.kubectlOk(['get', 'lease', '-n', OPERATOR_NAMESPACE, 'sdw-agent-logs-1', '-o', 'json'])) as {
      metadata: { annotations: Record<string, string> };
    };
    const url = lease.metadata.annotations['systemd.operators.dev/agent-url']!;
    const ca = lease.metadata.annotations['systemd.operators.dev/agent-cert']!;
    expect(url).toMatch(/^https:\/\//);
    const status = (headers: Record<string, string>) =>
      new Promise<number>((resolve, reject) => {
        const req = https.get(
          `${url}/logs?unit=sdw-default_talker_server.service`,
          { ca, checkServerIdentity: () => undefined, headers },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
      });
    expect(await status({})).toBe(401);
    expect(await status({ Authorization: 'Bearer forged' })).toBe(401);
    await expect(fetch(`${url.replace('https:', 'http:')}/logs?unit=sdw-default_talker_server.service`)).rejects.toThrow();
  });
});
