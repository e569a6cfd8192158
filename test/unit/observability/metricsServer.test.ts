// The dedicated /metrics server: a self-signed certificate a TLS client accepts
// for the names it was made for (and refuses for others), the guard's verdicts
// as status codes, and plain HTTP only when asked for (--metrics-secure=false).
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Metrics } from '../../../src/observability/metrics.js';
import { selfSignedCert } from '../../../src/observability/selfSignedCert.js';
import { parseBindAddress, startMetricsServer, type MetricsGuard } from '../../../src/observability/server.js';

describe('selfSignedCert', () => {
  it('is an X.509 v3 certificate signed by its own key, for the names and addresses given', () => {
    const now = new Date('2026-11-30T12:00:00Z');
    const { cert, key } = selfSignedCert(['metrics.sdw.svc', '127.0.0.1', '::1'], 365, now);
    const x = new X509Certificate(cert);
    expect(x.subject).toBe('CN=metrics.sdw.svc');
    expect(x.issuer).toBe(x.subject);
    expect(x.subjectAltName).toBe('DNS:metrics.sdw.svc, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(x.verify(x.publicKey)).toBe(true);
    expect(x.ca).toBe(false);
    expect(x.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']);
    expect(new Date(x.validFrom).getTime()).toBe(now.getTime() - 3600_000);
    expect(new Date(x.validTo).getTime()).toBe(now.getTime() + 365 * 86400_000);
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
  });

  it('parses every time: 2,000 certificates, none with a serial OpenSSL refuses (illegal padding: one in 256 did)', () => {
    for (let i = 0; i < 2000; i++) {
      const x = new X509Certificate(selfSignedCert(['localhost']).cert);
      expect(x.serialNumber).toMatch(/^[4-7][0-9A-F]{31}$/);
    }
  });

  it('makes a new key and serial each time', () => {
    const a = new X509Certificate(selfSignedCert(['a']).cert);
    const b = new X509Certificate(selfSignedCert(['a']).cert);
    expect(a.serialNumber).not.toBe(b.serialNumber);
    expect(a.fingerprint256).not.toBe(b.fingerprint256);
  });
});

describe('parseBindAddress', () => {
  it.each([
    [':8443', { host: '0.0.0.0', port: 8443 }],
    ['127.0.0.1:9000', { host: '127.0.0.1', port: 9000 }],
    ['[::1]:8443', { host: '::1', port: 8443 }],
  ])('%s', (a, want) => expect(parseBindAddress(a)).toEqual(want));
  it.each(['8443', 'host:', ':99999', 'x'])('refuses %s', (a) => expect(() => parseBindAddress(a)).toThrow(/--metrics-bind-address/));
});

function request(
  port: number,
  opts: { ca?: string; servername?: string; token?: string; path?: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(
        {
          host: '127.0.0.1',
          port,
          path: opts.path ?? '/metrics',
          ca: opts.ca,
          servername: opts.servername,
          headers: opts.token ? { Authorization: `Bearer ${opts.token}` } : {},
        },
        (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      )
      .on('error', reject);
  });
}

describe('startMetricsServer', () => {
  const guard: MetricsGuard = async (h) =>
    h === 'Bearer good'
      ? { status: 200 }
      : h === 'Bearer other'
        ? { status: 403, message: 'Forbidden: no' }
        : { status: 401, message: 'Unauthorized: who' };

  it('serves /metrics over TLS to the guard’s allowed callers only', async () => {
    const { cert, key } = selfSignedCert(['127.0.0.1']);
    // A mounted certificate (--metrics-cert-dir) so the client can verify it.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-cert-'));
    writeFileSync(path.join(dir, 'tls.crt'), cert);
    writeFileSync(path.join(dir, 'tls.key'), key);
    const metrics = new Metrics();
    metrics.reconcile.total.inc({ controller: 'c', result: 'success' });
    const server = await startMetricsServer({ address: '127.0.0.1:0', metrics, secure: { guard, certDir: dir, hosts: [] } });
    try {
      const { port } = server.address() as AddressInfo;
      const ok = await request(port, { ca: cert, token: 'good' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatch(/^controller_runtime_reconcile_total\{controller="c",result="success"\} 1$/m);
      expect(await request(port, { ca: cert, token: 'other' })).toEqual({ status: 403, body: 'Forbidden: no\n' });
      expect(await request(port, { ca: cert })).toEqual({ status: 401, body: 'Unauthorized: who\n' });
      expect((await request(port, { ca: cert, token: 'good', path: '/healthz' })).status).toBe(404);
      // Not trusted without the certificate: the client refuses the handshake.
      await expect(request(port, { token: 'good' })).rejects.toThrow(/self.signed|unable to verify/i);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
