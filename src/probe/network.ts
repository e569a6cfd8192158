// The network probe handlers, as the kubelet runs them: httpGet (a status from
// 200 to 399 is success, redirects are not followed, HTTPS certificates are not
// verified) and tcpSocket (an accepted connection is success). Each resolves to
// an outcome and never throws: a refused connection or a timeout is a failure
// with a message that says which.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Probe } from '../api/types.js';

export interface ProbeOutcome {
  ok: boolean;
  message: string;
}

const ms = (seconds: number | undefined): number => (seconds ?? 1) * 1000;

export function httpGetProbe(h: NonNullable<Probe['httpGet']>, timeoutSeconds?: number): Promise<ProbeOutcome> {
  const scheme = h.scheme ?? 'HTTP';
  const host = h.host ?? '127.0.0.1';
  const path = h.path ?? '/';
  const url = `${scheme.toLowerCase()}://${host.includes(':') ? `[${host}]` : host}:${h.port}${path}`;
  const get = scheme === 'HTTPS' ? https.get : http.get;
  return new Promise((resolve) => {
    const req = get(
      { host, port: h.port, path, timeout: ms(timeoutSeconds), rejectUnauthorized: false, headers: { 'User-Agent': 'sdw-probe/1.0' } },
      (res) => {
        res.resume(); // the body is not read: only the status counts, as for the kubelet
        const code = res.statusCode ?? 0;
        resolve({ ok: code >= 200 && code < 400, message: `GET ${url}: HTTP ${code}` });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${timeoutSeconds ?? 1}s`)));
    req.on('error', (e) => resolve({ ok: false, message: `GET ${url}: ${e.message}` }));
  });
}

export function tcpSocketProbe(t: NonNullable<Probe['tcpSocket']>, timeoutSeconds?: number): Promise<ProbeOutcome> {
  const host = t.host ?? '127.0.0.1';
  const where = `tcp ${host}:${t.port}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host, port: t.port });
    const done = (o: ProbeOutcome) => {
      socket.destroy();
      resolve(o);
    };
    socket.setTimeout(ms(timeoutSeconds), () => done({ ok: false, message: `${where}: no connection within ${timeoutSeconds ?? 1}s` }));
    socket.once('connect', () => done({ ok: true, message: `${where}: connected` }));
    socket.once('error', (e) => done({ ok: false, message: `${where}: ${e.message}` }));
  });
}

/** The network handler of a probe (httpGet or tcpSocket), run from this process's network namespace. */
export type NetworkProbe = Pick<Probe, 'httpGet' | 'tcpSocket'>;

export function networkProbe(p: NetworkProbe, timeoutSeconds?: number): Promise<ProbeOutcome> {
  if (p.httpGet) return httpGetProbe(p.httpGet, timeoutSeconds);
  if (p.tcpSocket) return tcpSocketProbe(p.tcpSocket, timeoutSeconds);
  return Promise.resolve({ ok: false, message: 'no httpGet or tcpSocket handler' });
}
