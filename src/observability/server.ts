// /healthz (the process loop is alive), /readyz (caches synced, can serve its
// purpose) and /metrics on one small HTTP server, as controller-runtime's
// probe and metrics endpoints.
import http from 'node:http';
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
      if (url.pathname === '/metrics') {
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
