// The agent's journal endpoint: GET /logs on the agent's HTTP server (the probe
// and metrics port), read by `kubectl sdw logs`.
//
//   GET /logs?unit=<systemd unit>[&unit=...]&lines=N&follow=1
//   Authorization: Bearer <the caller's Kubernetes token>
//
// -> text/plain, journalctl's `-o short-iso` lines, streamed (chunked) while
//    follow=1 until the client goes away.
//
// Protection (as the kubelet protects pods/log, with the API server deciding):
// 1. Authentication: the bearer token is sent to the API server in a TokenReview;
//    no token or an unauthenticated one -> 401. The agent never trusts a token
//    it cannot have the API server confirm, and keeps nothing.
// 2. Authorization: for every unit asked for, the owner namespace/workload is
//    read from the unit name (sdw-<ns>_<workload>_<unit>.service|timer, an
//    injective name), and a SubjectAccessReview asks whether the reviewed user
//    may `get` the `systemdworkloads/log` subresource of that workload in that
//    namespace (group systemd.operators.dev). Denied -> 403. Grant it with a
//    Role rule {apiGroups: [systemd.operators.dev], resources:
//    [systemdworkloads/log], verbs: [get]} (config/rbac/user_roles.yaml).
// 3. Scope: only units this agent owns are served: the name must parse as one
//    of the operator's (the sdw- prefix) and unitOwned(unit) must confirm it
//    (ownedUnitChecker: the file in the unit directory carries the X-SDW-Owner
//    marker of the same namespace/workload). Anything else -> 404, checked only
//    after authentication, so an anonymous caller learns nothing about units.
// 4. No shell: journalctl is spawned with an argv built from validated unit
//    names and an integer line count; at most maxFollowers concurrent follows
//    (429 beyond), lines capped at maxLines.
// The agent needs RBAC to create tokenreviews and subjectaccessreviews
// (authentication.k8s.io, authorization.k8s.io), as system:auth-delegator grants.
// The port is plain HTTP, like /metrics; put it behind TLS (or keep it on a
// trusted pod network) in production: a bearer token crosses it.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { GROUP, WORKLOAD_PLURAL } from '../api/types.js';
import { parseOwnerMarker } from '../api/markers.js';
import { parseUnitFileName } from '../api/names.js';
import type { V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node';
import type { KubeRest } from '../kube/rest.js';
import type { Logger } from '../observability/log.js';

export const LOG_SUBRESOURCE = 'log';
export const DEFAULT_LINES = 100;

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
  maxLines?: number;
  maxFollowers?: number;
  log?: Logger;
}

/** TokenReview + SubjectAccessReview against the API server, with the agent's own credentials. */
export function apiServerAuthorizer(rest: KubeRest): Authorizer {
  return {
    async authenticate(token) {
      const r = await rest.create<V1TokenReview>('/apis/authentication.k8s.io/v1/tokenreviews', {
        apiVersion: 'authentication.k8s.io/v1',
        kind: 'TokenReview',
        spec: { token },
      });
      const u = r.status?.user;
      if (!r.status?.authenticated || !u?.username) return undefined;
      return { username: u.username, uid: u.uid, groups: u.groups, extra: u.extra };
    },
    async allowed(caller, namespace, workload) {
      const r = await rest.create<V1SubjectAccessReview>('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: caller.username,
          uid: caller.uid,
          groups: caller.groups,
          extra: caller.extra,
          resourceAttributes: {
            group: GROUP,
            resource: WORKLOAD_PLURAL,
            subresource: LOG_SUBRESOURCE,
            verb: 'get',
            namespace,
            name: workload,
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

export interface LogsRequest {
  units: string[];
  lines: number;
  follow: boolean;
}

/** Parses and validates the query; a string is the 400 message. */
export function parseLogsQuery(q: URLSearchParams, maxLines = 10_000): LogsRequest | string {
  const units = q.getAll('unit');
  if (units.length === 0) return 'unit is required';
  if (units.length > 32) return 'at most 32 units';
  for (const u of units) if (!parseUnitFileName(u)) return `unit '${u}' is not a unit of systemd-workload-operator`;
  const rawLines = q.get('lines');
  let lines = DEFAULT_LINES;
  if (rawLines !== null) {
    if (!/^\d{1,9}$/.test(rawLines)) return 'lines must be a non-negative integer';
    lines = Math.min(Number(rawLines), maxLines);
  }
  const f = q.get('follow');
  if (f !== null && !['0', '1', 'true', 'false'].includes(f)) return 'follow must be 1 or 0';
  return { units: [...new Set(units)], lines, follow: f === '1' || f === 'true' };
}

/** journalctl's argv for a request (pure). */
export function journalctlArgs(r: LogsRequest, journalDir?: string): string[] {
  const args: string[] = [];
  if (journalDir) args.push(`--directory=${journalDir}`);
  for (const u of r.units) args.push(`--unit=${u}`);
  args.push('--output=short-iso', '--no-pager', '--quiet', `--lines=${r.lines}`);
  if (r.follow) args.push('--follow');
  return args;
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
  const maxLines = opts.maxLines ?? 10_000;
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

    const parsed = parseLogsQuery(url.searchParams, maxLines);
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
            `user '${caller.username}' may not get systemdworkloads/log '${o.workload}' in namespace '${o.namespace}'`,
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

    opts.log?.info('serving logs', { user: caller.username, units: parsed.units, lines: parsed.lines, follow: parsed.follow });
    const child = spawn(opts.journalctl ?? 'journalctl', journalctlArgs(parsed, opts.journalDir), { stdio: ['ignore', 'pipe', 'pipe'] });
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
    child.stdout.on('data', (c: Buffer) => {
      started();
      res.write(c);
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
