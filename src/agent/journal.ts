// The agent's journal endpoint, read by the aggregated logs API in the
// controller (src/logsapi), never by users directly:
//
//   GET /logs?unit=<systemd unit>[&unit=...]&tailLines=N&sinceSeconds=S&timestamps=true&follow=true
//   Authorization: Bearer <the caller's Kubernetes token>
//
// -> text/plain, one line per journal entry (`[unit ][timestamp ]message`, the
//    unit's spec name first when several were asked for), streamed while
//    follow=true until the client goes away.
//
// Protection:
// 0. Transport: served only over TLS (agent/main.ts), with a certificate the
//    agent makes at start and publishes on its heartbeat Lease, which callers
//    pin: the bearer token never crosses the network in clear text and goes only
//    to the agent that holds the key.
// 1. Authentication: the bearer token is sent to the API server in a TokenReview;
//    no token or an unauthenticated one -> 401. The agent never trusts a token
//    it cannot have the API server confirm, and keeps nothing.
// 2. Authorization: for every unit asked for, the owner namespace/workload is
//    read from the unit name (sdw-<ns>_<workload>_<unit>.service|timer, an
//    injective name), and a SubjectAccessReview asks whether the reviewed user
//    may `get` `systemdworkloads/log` of that workload in that namespace in the
//    logs group (src/api/logs.ts): the permission users need for
//    `kubectl sdw logs`, which the controller's service account holds
//    cluster-wide as the proxy that serves it. Denied -> 403.
// 3. Scope: only units this agent owns are served: the name must parse as one
//    of the operator's (the sdw- prefix) and unitOwned(unit) must confirm it
//    (ownedUnitChecker: the file in the unit directory carries the X-SDW-Owner
//    marker of the same namespace/workload). Anything else -> 404, checked only
//    after authentication, so an anonymous caller learns nothing about units.
// 4. No shell: journalctl is spawned with an argv built from validated unit
//    names and integers; at most maxFollowers concurrent follows (429 beyond).
// The agent needs RBAC to create tokenreviews and subjectaccessreviews
// (authentication.k8s.io, authorization.k8s.io), as system:auth-delegator grants.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import * as k8s from '@kubernetes/client-node';
import { WORKLOAD_PLURAL } from '../api/types.js';
import { LOGS_GROUP, LOG_SUBRESOURCE, MAX_TAIL_LINES, parseLogOptions, type LogOptions } from '../api/logs.js';
import { parseOwnerMarker } from '../api/markers.js';
import { parseUnitFileName } from '../api/names.js';
import type { Logger } from '../observability/log.js';

export interface Caller {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface Authorizer {
  /** The caller behind a bearer token, or undefined when the API server does not authenticate it. */
  authenticate(token: string): Promise<Caller | undefined>;
  /** Whether the caller may get systemdworkloads/log of namespace/workload. */
  allowed(caller: Caller, namespace: string, workload: string): Promise<boolean>;
}

export interface JournalHandlerOptions {
  /** journalctl --directory=<journalDir>; undefined reads the host's journal. */
  journalDir?: string;
  /** Whether this agent wrote the unit (marker check). */
  unitOwned: (unit: string) => boolean | Promise<boolean>;
  authorizer: Authorizer;
  journalctl?: string;
  maxFollowers?: number;
  log?: Logger;
}

/** TokenReview + SubjectAccessReview against the API server, with the agent's own credentials. */
export function apiServerAuthorizer(kc: k8s.KubeConfig): Authorizer {
  const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  return {
    async authenticate(token) {
      const r = await authn.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
      const u = r.status?.user;
      if (!r.status?.authenticated || !u?.username) return undefined;
      return { username: u.username, uid: u.uid, groups: u.groups, extra: u.extra };
    },
    async allowed(caller, namespace, workload) {
      const r = await authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: caller.username,
            uid: caller.uid,
            groups: caller.groups,
            extra: caller.extra,
            resourceAttributes: {
              group: LOGS_GROUP,
              resource: WORKLOAD_PLURAL,
              subresource: LOG_SUBRESOURCE,
              verb: 'get',
              namespace,
              name: workload,
            },
          },
        },
      });
      return r.status?.allowed === true;
    },
  };
}

/** unitOwned for a unit directory: the unit's file carries the marker of the namespace/workload its name says. */
export function ownedUnitChecker(unitDir: string): (unit: string) => Promise<boolean> {
  return async (unit) => {
    const parsed = parseUnitFileName(unit);
    if (!parsed) return false;
    let content: string;
    try {
      content = await fs.readFile(path.join(unitDir, unit), 'utf8');
    } catch {
      return false;
    }
    const owner = parseOwnerMarker(content);
    return owner?.namespace === parsed.namespace && owner.workload === parsed.workload;
  };
}

export interface LogsRequest extends LogOptions {
  units: string[];
}

/** Parses and validates the query; a string is the 400 message. */
export function parseLogsQuery(q: URLSearchParams): LogsRequest | string {
  const units = q.getAll('unit');
  if (units.length === 0) return 'unit is required';
  if (units.length > 32) return 'at most 32 units';
  for (const u of units) if (!parseUnitFileName(u)) return `unit '${u}' is not a unit of systemd-workload-operator`;
  const o = parseLogOptions(q);
  if (typeof o === 'string') return o;
  return { ...o, units: [...new Set(units)] };
}

/** journalctl's argv for a request (pure); `now` in ms for sinceSeconds. */
export function journalctlArgs(r: LogsRequest, journalDir: string | undefined, now: number): string[] {
  const args: string[] = [];
  if (journalDir) args.push(`--directory=${journalDir}`);
  for (const u of r.units) args.push(`--unit=${u}`);
  // JSON, so the agent formats each line itself: the message alone (as kubectl logs), the unit and time on request.
  // Without --lines, --follow would show only 10: all is "all up to the cap".
  args.push('--output=json', '--no-pager', '--quiet', `--lines=${r.tailLines ?? MAX_TAIL_LINES}`);
  if (r.sinceSeconds !== undefined) args.push(`--since=@${Math.floor(now / 1000) - r.sinceSeconds}`);
  if (r.follow) args.push('--follow');
  return args;
}

interface JournalEntry {
  __REALTIME_TIMESTAMP?: string;
  MESSAGE?: string | number[] | null;
  UNIT?: string;
  _SYSTEMD_UNIT?: string;
}

/** One journalctl JSON line as the line users read; undefined for a line that is not an entry. */
export function formatEntry(json: string, r: Pick<LogsRequest, 'timestamps' | 'units'>): string | undefined {
  let e: JournalEntry;
  try {
    e = JSON.parse(json) as JournalEntry;
  } catch {
    return undefined;
  }
  const m = e.MESSAGE;
  const message = typeof m === 'string' ? m : Array.isArray(m) ? Buffer.from(m).toString('utf8') : '';
  let prefix = '';
  if (r.units.length > 1) {
    // systemd's own lines about a unit carry UNIT=, the unit's output _SYSTEMD_UNIT=.
    const unit = [e.UNIT, e._SYSTEMD_UNIT].find((u) => u !== undefined && r.units.includes(u));
    prefix += `${(unit && parseUnitFileName(unit)?.unit) ?? '-'} `;
  }
  if (r.timestamps) {
    const us = Number(e.__REALTIME_TIMESTAMP ?? 0);
    prefix += new Date(Math.floor(us / 1000)).toISOString().replace(/\.(\d{3})Z$/, `.$1${String(us % 1000).padStart(3, '0')}Z`) + ' ';
  }
  return prefix + message.replace(/\n$/, '') + '\n';
}

function bearer(req: http.IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  const m = h ? /^Bearer\s+(\S+)\s*$/i.exec(h) : null;
  return m?.[1];
}

function reply(res: http.ServerResponse, code: number, message: string, headers: Record<string, string> = {}): true {
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', ...headers }).end(message.endsWith('\n') ? message : message + '\n');
  return true;
}

/** The request handler for the agent's HTTP server (ServerOptions.extra): true when it handled the request. */
export function journalHandler(opts: JournalHandlerOptions): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<boolean> {
  const maxFollowers = opts.maxFollowers ?? 16;
  let followers = 0;
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://agent');
    if (url.pathname !== '/logs') return false;
    if (req.method !== 'GET') return reply(res, 405, 'only GET', { Allow: 'GET' });
    const token = bearer(req);
    if (!token) return reply(res, 401, 'a bearer token is required', { 'WWW-Authenticate': 'Bearer' });
    let caller: Caller | undefined;
    try {
      caller = await opts.authorizer.authenticate(token);
    } catch (err) {
      opts.log?.warn('token review failed', { error: String(err) });
      return reply(res, 503, 'cannot reach the API server to authenticate the request');
    }
    if (!caller) return reply(res, 401, 'the token was not accepted by the API server', { 'WWW-Authenticate': 'Bearer' });

    const parsed = parseLogsQuery(url.searchParams);
    if (typeof parsed === 'string') return reply(res, 400, parsed);
    const owners = new Map<string, { namespace: string; workload: string }>();
    for (const u of parsed.units) {
      const p = parseUnitFileName(u)!;
      owners.set(`${p.namespace}/${p.workload}`, p);
    }
    try {
      for (const [key, o] of owners) {
        if (!(await opts.authorizer.allowed(caller, o.namespace, o.workload))) {
          opts.log?.info('logs request denied', { user: caller.username, workload: key });
          return reply(
            res,
            403,
            `user '${caller.username}' may not get ${WORKLOAD_PLURAL}/${LOG_SUBRESOURCE} '${o.workload}' in namespace '${o.namespace}' (API group ${LOGS_GROUP})`,
          );
        }
      }
    } catch (err) {
      opts.log?.warn('subject access review failed', { error: String(err) });
      return reply(res, 503, 'cannot reach the API server to authorize the request');
    }
    for (const u of parsed.units) {
      if (!(await opts.unitOwned(u))) return reply(res, 404, `unit ${u} is not managed by this agent`);
    }
    if (parsed.follow && followers >= maxFollowers) return reply(res, 429, 'too many followers; try again later');

    opts.log?.info('serving logs', { user: caller.username, units: parsed.units, tailLines: parsed.tailLines, follow: parsed.follow });
    const child = spawn(opts.journalctl ?? 'journalctl', journalctlArgs(parsed, opts.journalDir, Date.now()), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (parsed.follow) followers++;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      if (stderr.length < 4096) stderr += c.toString();
    });
    const stop = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    };
    res.on('close', stop);
    const started = (): void => {
      if (!res.headersSent) {
        res.writeHead(200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Cache-Control': 'no-store',
          'X-Content-Type-Options': 'nosniff',
        });
        res.flushHeaders();
      }
    };
    if (parsed.follow) started();
    let pending = '';
    const decoder = new StringDecoder('utf8');
    child.stdout.on('data', (c: Buffer) => {
      started();
      const lines = (pending + decoder.write(c)).split('\n');
      pending = lines.pop()!;
      const text = lines.map((l) => formatEntry(l, parsed) ?? '').join('');
      if (text) res.write(text);
    });
    await new Promise<void>((resolve) => {
      child.once('error', (err) => {
        stderr += String(err);
        resolve();
      });
      child.once('close', () => resolve());
    });
    if (parsed.follow) followers--;
    res.off('close', stop);
    const failed = child.exitCode !== 0 && child.signalCode === null;
    if (!res.headersSent) {
      if (failed) return reply(res, 500, `journalctl failed: ${stderr.trim() || `exit ${child.exitCode}`}`);
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    } else if (failed && !res.destroyed) {
      res.write(`journalctl failed: ${stderr.trim() || `exit ${child.exitCode}`}\n`);
    }
    res.end();
    return true;
  };
}
