// /metrics as the manifests serve it (--metrics-bind-address): HTTPS, and only
// for a token the API server authenticates whose user may `get /metrics`, the
// ClusterRole config/rbac/metrics_reader_role.yaml grants. Checked with curl
// and tokens minted by kubectl, as an operator would check a scrape, against
// the real controller and a real agent on a real node.
import { execFile } from 'node:child_process';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../harness/binaries.js';
import { Cluster } from '../../harness/cluster.js';
import { startAgent, startController, type OperatorProcess } from '../../harness/operator.js';
import { freePort, waitFor } from '../../harness/process.js';
import { workloadYaml } from '../../harness/controllerHelpers.js';

const run = promisify(execFile);

/** curl -k (the certificate is self-signed; checked apart below): status and body. */
async function scrape(port: number, token?: string): Promise<{ status: number; body: string }> {
  const args = ['-sk', '--max-time', '20', '-w', '\n%{http_code}', `https://127.0.0.1:${port}/metrics`];
  if (token !== undefined) args.push('-H', `Authorization: Bearer ${token}`);
  const { stdout } = await run('curl', args, { maxBuffer: 64 << 20 });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut).trimEnd() };
}

function peerCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(new X509Certificate(s.getPeerCertificate().raw));
      s.end();
    });
    s.on('error', reject);
  });
}

describe('metrics over HTTPS for authorized scrapers only', () => {
  let cluster: Cluster;
  let controller: OperatorProcess;
  let agent: OperatorProcess;
  const ports = { controller: 0, agent: 0 };
  let reader = '';
  let stranger = '';

  beforeAll(async () => {
    cluster = await Cluster.start({ nodes: [{ name: 'm1' }] });
    ports.controller = await freePort();
    ports.agent = await freePort();
    controller = await startController(cluster, { extraArgs: [`--metrics-bind-address=127.0.0.1:${ports.controller}`] });
    agent = await startAgent(cluster, 'm1', { extraArgs: [`--metrics-bind-address=127.0.0.1:${ports.agent}`] });
    await cluster.kubectlOk(['apply', '-f', path.join(repoRoot, 'config', 'rbac', 'metrics_reader_role.yaml')]);
    await cluster.kubectlOk(['create', 'namespace', 'monitoring']);
    await cluster.kubectlOk(['create', 'serviceaccount', 'prometheus', '-n', 'monitoring']);
    await cluster.kubectlOk(['create', 'serviceaccount', 'stranger', '-n', 'monitoring']);
    await cluster.kubectlOk([
      'create',
      'clusterrolebinding',
      'prometheus-sdw-metrics',
      '--clusterrole=systemd-workload-metrics-reader',
      '--serviceaccount=monitoring:prometheus',
    ]);
    reader = (await cluster.kubectlOk(['create', 'token', 'prometheus', '-n', 'monitoring'])).trim();
    stranger = (await cluster.kubectlOk(['create', 'token', 'stranger', '-n', 'monitoring'])).trim();
    await cluster.kubectlOk(['apply', '-f', '-'], { input: workloadYaml('scraped') });
  });
  afterAll(async () => {
    await agent?.stop();
    await controller?.stop();
    await cluster?.stop();
  });

  it.each(['controller', 'agent'] as const)(
    'the %s answers a token bound to systemd-workload-metrics-reader with its metrics',
    async (who) => {
      const series = who === 'controller' ? 'controller_runtime_reconcile_total' : 'sdw_unit_active';
      const body = await waitFor(
        `${who} metrics with ${series}`,
        async () => {
          const r = await scrape(ports[who], reader);
          expect(r.status).toBe(200);
          return r.body.includes(`\n${series}{`) ? r.body : undefined;
        },
        60_000,
        1000,
      );
      if (who === 'agent') expect(body).toMatch(/^sdw_unit_active\{[^}]*workload="scraped"[^}]*\} 1$/m);
      // The controller's requests pass its client-side limit (--kube-api-qps, default 20): each one is counted.
      if (who === 'controller')
        expect(body).toMatch(/^rest_client_rate_limiter_duration_seconds_count\{verb="(GET|POST|PATCH)",host="127\.0\.0\.1:\d+"\} [1-9]/m);
    },
  );

  it.each(['controller', 'agent'] as const)('the %s refuses a valid token without the role with 403, naming the user', async (who) => {
    const r = await scrape(ports[who], stranger);
    expect(r).toEqual({ status: 403, body: 'Forbidden: user "system:serviceaccount:monitoring:stranger" cannot get path "/metrics"' });
  });

  it.each(['controller', 'agent'] as const)('the %s refuses no token and a forged one with 401', async (who) => {
    expect(await scrape(ports[who])).toEqual({ status: 401, body: 'Unauthorized: a bearer token is required' });
    expect(await scrape(ports[who], `${reader.slice(0, -4)}AAAA`)).toEqual({ status: 401, body: 'Unauthorized: the token is not valid' });
  });

  it('serves a self-signed certificate for the address it was reached on', async () => {
    const cert = await peerCertificate(ports.controller);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('keeps /healthz and /readyz on the plain probe port for the kubelet, and no longer serves /metrics there', async () => {
    for (const p of [controller, agent]) {
      expect((await p.get('/healthz')).status).toBe(200);
      expect((await p.get('/readyz')).status).toBe(200);
      expect((await p.get('/metrics')).status).toBe(404);
    }
  });
});
