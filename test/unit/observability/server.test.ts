// The probe and metrics server answers whatever a client sends: a request line
// the URL parser refuses ("GET //") gets an error answer, and the server (the
// whole controller or agent, were the rejection unhandled) keeps serving.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Metrics } from '../../../src/observability/metrics.js';
import { startServer } from '../../../src/observability/server.js';

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
      .on('error', reject);
  });
}

describe('startServer', () => {
  it('answers a request whose URL does not parse, and keeps serving', async () => {
    const server = await startServer({ port: 0, host: '127.0.0.1', metrics: new Metrics(), healthz: [], readyz: [] });
    try {
      const { port } = server.address() as AddressInfo;
      expect(await get(port, '//')).toBe(500);
      expect(await get(port, '/healthz')).toBe(200);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
