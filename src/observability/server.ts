// /healthz (the process loop is alive), /readyz (caches synced, can serve its
// purpose) and /metrics on one small HTTP server, as controller-runtime's
// probe and metrics endpoints. With --metrics-bind-address, /metrics moves to
// its own server (startMetricsServer): HTTPS, and only for callers the API
// server authenticates and authorizes, as controller-runtime's secure metrics.
import { readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { selfSignedCert } from './selfSignedCert.js';
import type { Metrics } from './metrics.js';

export interface Check {
  name: string;
  check: () => boolean | string;
}

export interface ServerOptions {
  port: number;
  host?: string;
  metrics: Metrics;
  healthz: Check[];
  readyz: Check[];
  /** False when /metrics has its own server (startMetricsServer). Default true. */
  serveMetrics?: boolean;
  /** Extra routes (e.g. the agent's journal endpoint). Return false when not handled. */
  extra?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean | Promise<boolean>;
}

function runChecks(checks: Check[]): { ok: boolean; body: string } {
  const lines: string[] = [];
  let ok = true;
  for (const c of checks) {
    let r: boolean | string;
    try {
      r = c.check();
    } catch (err) {
      r = String(err);
    }
    if (r === true) lines.push(`[+]${c.name} ok`);
    else {
      ok = false;
      lines.push(`[-]${c.name} failed: ${r === false ? 'not ready' : r}`);
    }
  }
  lines.push(ok ? 'ok' : 'check failed');
  return { ok, body: lines.join('\n') + '\n' };
}

export async function startServer(opts: ServerOptions): Promise<http.Server> {
  // The handler never rejects (a failure answers 500), so the returned promise can be left alone.
  const server = http.createServer((req, res) => void handle(req, res));
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/healthz' || url.pathname === '/readyz') {
        const { ok, body } = runChecks(url.pathname === '/healthz' ? opts.healthz : opts.readyz);
        res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(body);
        return;
      }
      if (url.pathname === '/metrics' && opts.serveMetrics !== false) {
        const text = await opts.metrics.registry.metrics();
        res.writeHead(200, { 'Content-Type': opts.metrics.registry.contentType }).end(text);
        return;
      }
      if (opts.extra && (await opts.extra(req, res))) return;
      res.writeHead(404).end('not found\n');
    } catch (err) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  return server;
}

/** What the caller of /metrics may do; 401 and 403 carry the reason. */
export type MetricsVerdict = { status: 200 } | { status: 401 | 403 | 500; message: string };

/** Decides a request by its Authorization header (TokenReview + SubjectAccessReview in src/kube). */
export type MetricsGuard = (authorization: string | undefined) => Promise<MetricsVerdict>;

export interface MetricsServerOptions {
  /** "host:port" or ":port" (all interfaces), as --metrics-bind-address. */
  address: string;
  metrics: Metrics;
  /** Undefined: plain HTTP for anyone (--metrics-secure=false, e.g. behind a mesh). */
  secure?: {
    guard: MetricsGuard;
    /** A directory with tls.crt and tls.key (a mounted Secret); empty: a self-signed certificate. */
    certDir: string;
    /** Names the self-signed certificate is made for. */
    hosts: string[];
  };
}

export function parseBindAddress(address: string): { host: string; port: number } {
  const m = /^(.*):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new Error(`--metrics-bind-address '${address}' is not host:port or :port`);
  const host = m[1]!.replace(/^\[(.*)\]$/, '$1');
  return { host: host === '' ? '0.0.0.0' : host, port };
}

// A mounted certificate is rotated in place (cert-manager, kubelet's Secret
// refresh); it is read again when its files change, checked every 30 s.
function certSource(certDir: string, hosts: string[]): { current: () => { cert: string; key: string }; changed: () => boolean } {
  if (certDir === '') {
    const made = selfSignedCert(hosts);
    return { current: () => made, changed: () => false };
  }
  const files = ['tls.crt', 'tls.key'].map((f) => path.join(certDir, f));
  const stamp = () => files.map((f) => statSync(f).mtimeMs).join(',');
  let seen = stamp();
  return {
    current: () => ({ cert: readFileSync(files[0]!, 'utf8'), key: readFileSync(files[1]!, 'utf8') }),
    changed: () => {
      const now = stamp();
      if (now === seen) return false;
      seen = now;
      return true;
    },
  };
}

export async function startMetricsServer(opts: MetricsServerOptions): Promise<http.Server> {
  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname !== '/metrics') {
        res.writeHead(404).end('not found\n');
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET' }).end('method not allowed\n');
        return;
      }
      if (opts.secure) {
        const verdict = await opts.secure.guard(req.headers.authorization);
        if (verdict.status !== 200) {
          res.writeHead(verdict.status, { 'Content-Type': 'text/plain' }).end(`${verdict.message}\n`);
          return;
        }
      }
      const text = await opts.metrics.registry.metrics();
      res.writeHead(200, { 'Content-Type': opts.metrics.registry.contentType }).end(text);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(err));
    }
  };
  const { host, port } = parseBindAddress(opts.address);
  let server: http.Server;
  if (opts.secure) {
    const source = certSource(opts.secure.certDir, opts.secure.hosts);
    const tls = https.createServer({ ...source.current(), minVersion: 'TLSv1.2' }, (req, res) => void handle(req, res));
    const timer = setInterval(() => {
      try {
        if (source.changed()) tls.setSecureContext({ ...source.current(), minVersion: 'TLSv1.2' });
      } catch {
        // A rotation half-written: keep serving the old certificate, try again next tick.
      }
    }, 30_000);
    timer.unref();
    tls.once('close', () => clearInterval(timer));
    server = tls;
  } else {
    server = http.createServer((req, res) => void handle(req, res));
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}
