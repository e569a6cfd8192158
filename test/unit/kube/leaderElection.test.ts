// A leader whose renewal hangs (etcd gone under the API server: requests are
// accepted and never answered) must still stop leading once the renew deadline
// passes, not when (if ever) the request returns. Found by the etcd game day
// (test/e2e/faults/control-plane.test.ts).
import * as k8s from '@kubernetes/client-node';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LeaderElector } from '../../../src/kube/leaderElection.js';
import { createLogger } from '../../../src/observability/log.js';

/** A Lease endpoint in memory; with hang set it accepts requests and never answers. */
function leaseServer(): { server: http.Server; state: { hang: boolean; lease?: Record<string, unknown> }; held: http.ServerResponse[] } {
  const state: { hang: boolean; lease?: Record<string, unknown> } = { hang: false };
  const held: http.ServerResponse[] = [];
  let rv = 1;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (state.hang) {
        held.push(res);
        return;
      }
      const send = (code: number, obj: unknown): void => {
        res.writeHead(code, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(obj));
      };
      if (req.method === 'GET') {
        if (!state.lease) return send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
        return send(200, state.lease);
      }
      const lease = JSON.parse(body) as { metadata: Record<string, unknown> };
      lease.metadata.resourceVersion = String(++rv);
      state.lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease };
      return send(req.method === 'POST' ? 201 : 200, state.lease);
    });
  });
  return { server, state, held };
}

describe('LeaderElector', () => {
  it('stops leading at the renew deadline even when the renewal request never returns', async () => {
    const { server, state, held } = leaseServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    let started = 0;
    let stoppedAt = 0;
    const elector = new LeaderElector(kc, {
      namespace: 'ns',
      name: 'lease',
      identity: 'me',
      leaseDurationSeconds: 2,
      renewDeadlineMs: 1000,
      retryPeriodMs: 200,
      log: createLogger({}, 'error'),
      onStartedLeading: () => started++,
      onStoppedLeading: () => (stoppedAt = Date.now()),
    });
    try {
      elector.start();
      for (let i = 0; i < 100 && !started; i++) await new Promise((r) => setTimeout(r, 50));
      expect(started).toBe(1);
      const hungAt = Date.now();
      state.hang = true;
      for (let i = 0; i < 200 && !stoppedAt; i++) await new Promise((r) => setTimeout(r, 50));
      expect(stoppedAt).toBeGreaterThan(0); // gave up (without the bound it waits forever)
      expect(stoppedAt - hungAt).toBeLessThan(10_000);
      expect(elector.isLeader).toBe(false);
    } finally {
      await elector.stop().catch(() => undefined);
      held.forEach((r) => r.destroy());
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  }, 30_000);
});
