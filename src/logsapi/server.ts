// The aggregated logs API (APIService v1alpha1.subresources.systemd.operators.dev),
// served by every controller replica (it needs no leader: it only reads):
//
//   GET /apis/subresources.systemd.operators.dev/v1alpha1/namespaces/NS/systemdworkloads/NAME/log
//
// The API server has already authenticated the user (any credential kubectl
// accepts) and authorized `get systemdworkloads/log` in NS (RBAC) before it
// proxies the request here over TLS with its front-proxy client certificate.
// This server believes the user only from that certificate (frontProxy.ts),
// asks a SubjectAccessReview again (delegated authorization: the port must not
// be a way around RBAC from inside the cluster), then reads the journal of the
// workload's units on each of its nodes from the node's agent, over TLS pinned
// to the certificate the agent published on its heartbeat Lease, with the
// controller's own token, and streams the lines back: each prefixed with its
// node when there are several (as stern prefixes pods).
import https from 'node:https';
import type http from 'node:http';
import { StringDecoder } from 'node:string_decoder';
import { LOGS_GROUP, LOGS_VERSION, LOG_RESOURCE, logQuery, parseLogOptions, type LogOptions } from '../api/logs.js';
import { unitFileName } from '../api/names.js';
import { WORKLOAD_PLURAL, type SystemdUnitSet, type SystemdWorkload } from '../api/types.js';
import type { Authorizer, Caller } from '../agent/journal.js';
import type { Logger } from '../observability/log.js';
import { frontProxyCaller, frontProxyRefusal, type RequestHeaderConfig } from './frontProxy.js';

/** Where a node's agent serves its journal, and the certificate to pin. */
export interface AgentEndpoint {
  url: string;
  cert: string;
}

export interface LogsApiDeps {
  workload(namespace: string, name: string): SystemdWorkload | undefined;
  children(workload: SystemdWorkload): SystemdUnitSet[];
  agent(node: string): AgentEndpoint | undefined;
  /** The Authorization header the controller sends to agents (its own token). */
  agentAuthorization(): Promise<string>;
  authorizer: Pick<Authorizer, 'allowed'>;
  requestHeader: RequestHeaderConfig;
  log: Logger;
}

const LOG_PATH = new RegExp(
  `^/apis/${LOGS_GROUP.replace(/\./g, '\\.')}/${LOGS_VERSION}/namespaces/([^/]+)/${WORKLOAD_PLURAL}/([^/]+)/log$`,
);

/** metav1.Status, which kubectl prints as the error. */
function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  res
    .writeHead(code, { 'Content-Type': 'application/json' })
    .end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code }) + '\n');
}

function json(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

const API_GROUP = {
  name: LOGS_GROUP,
  versions: [{ groupVersion: `${LOGS_GROUP}/${LOGS_VERSION}`, version: LOGS_VERSION }],
  preferredVersion: { groupVersion: `${LOGS_GROUP}/${LOGS_VERSION}`, version: LOGS_VERSION },
};

const DISCOVERY: Record<string, unknown> = {
  '/apis': { kind: 'APIGroupList', apiVersion: 'v1', groups: [API_GROUP] },
  [`/apis/${LOGS_GROUP}`]: { kind: 'APIGroup', apiVersion: 'v1', ...API_GROUP },
  [`/apis/${LOGS_GROUP}/${LOGS_VERSION}`]: {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: `${LOGS_GROUP}/${LOGS_VERSION}`,
    resources: [{ name: LOG_RESOURCE, singularName: '', namespaced: true, kind: 'SystemdWorkloadLog', verbs: ['get'] }],
  },
};

export interface LogTargets {
  nodes: string[];
  units: string[];
}

/** Pure: which nodes and unit files to read; a string is the 404/400 message. */
export function logTargets(w: SystemdWorkload, children: readonly SystemdUnitSet[], node?: string, unit?: string): LogTargets | string {
  const ns = w.metadata.namespace!;
  const name = w.metadata.name!;
  const unitNames = w.spec.units.map((u) => u.name);
  if (unit !== undefined && !unitNames.includes(unit))
    return `workload ${ns}/${name} has no unit '${unit}' (units: ${unitNames.join(', ')})`;
  const nodes = [...new Set(children.map((c) => c.spec.nodeName))].sort();
  if (node !== undefined && !nodes.includes(node)) {
    return `workload ${ns}/${name} does not run on node '${node}' (nodes: ${nodes.join(', ') || 'none'})`;
  }
  if (nodes.length === 0) return `workload ${ns}/${name} runs on no node yet`;
  return {
    nodes: node !== undefined ? [node] : nodes,
    units: (unit !== undefined ? [unit] : unitNames).map((u) => unitFileName(ns, name, u, 'service')),
  };
}

/** Opens one agent's stream: resolves with the 200 response, rejects with the reason (agent's message or the network's). */
function openAgent(ep: AgentEndpoint, query: URLSearchParams, authorization: string, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const url = new URL(`${ep.url.replace(/\/+$/, '')}/logs?${query.toString()}`);
    const req = https.request(
      url,
      {
        headers: { Authorization: authorization },
        // The published certificate is the only trust anchor; it names no host
        // that matters (the key is what is pinned), so no name check.
        ca: ep.cert,
        checkServerIdentity: () => undefined,
        minVersion: 'TLSv1.2',
        signal,
      },
      (res) => {
        if (res.statusCode === 200) return resolve(res);
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c.slice(0, 4096 - body.length)));
        res.on('end', () => reject(new Error(`HTTP ${res.statusCode}: ${body.trim()}`)));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function serveLog(req: http.IncomingMessage, res: http.ServerResponse, caller: Caller, ns: string, name: string, deps: LogsApiDeps) {
  const url = new URL(req.url ?? '/', 'https://x');
  const opts: LogOptions | string = parseLogOptions(url.searchParams);
  if (typeof opts === 'string') return status(res, 400, 'BadRequest', opts);
  if (!(await deps.authorizer.allowed(caller, ns, name))) {
    return status(
      res,
      403,
      'Forbidden',
      `User "${caller.username}" cannot get resource "${LOG_RESOURCE}" in API group "${LOGS_GROUP}" in the namespace "${ns}"`,
    );
  }
  const w = deps.workload(ns, name);
  if (!w) return status(res, 404, 'NotFound', `systemdworkloads.systemd.operators.dev "${name}" not found`);
  const targets = logTargets(w, deps.children(w), url.searchParams.get('node') ?? undefined, url.searchParams.get('unit') ?? undefined);
  if (typeof targets === 'string') return status(res, 404, 'NotFound', targets);

  const abort = new AbortController();
  res.on('close', () => abort.abort());
  const query = logQuery(opts, { unit: targets.units });
  const authorization = await deps.agentAuthorization();
  const opened = await Promise.allSettled(
    targets.nodes.map(async (node) => {
      const ep = deps.agent(node);
      if (!ep) throw new Error(`no agent address on its heartbeat Lease (is the agent running?)`);
      return openAgent(ep, query, authorization, abort.signal);
    }),
  );
  const failed = opened.flatMap((r, i) => (r.status === 'rejected' ? [`node ${targets.nodes[i]}: ${(r.reason as Error).message}`] : []));
  if (failed.length > 0) {
    abort.abort();
    deps.log.warn('logs: agent refused or unreachable', { workload: `${ns}/${name}`, failed });
    return status(res, 502, 'ServiceUnavailable', `cannot read the journal: ${failed.join('; ')}`);
  }
  deps.log.info('serving logs', { user: caller.username, workload: `${ns}/${name}`, nodes: targets.nodes, follow: opts.follow });
  res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
  res.flushHeaders();
  const prefixed = targets.nodes.length > 1;
  await Promise.all(
    opened.map(async (r, i) => {
      const stream = (r as PromiseFulfilledResult<http.IncomingMessage>).value;
      const prefix = prefixed ? `${targets.nodes[i]} ` : '';
      const decoder = new StringDecoder('utf8');
      let pending = '';
      try {
        for await (const chunk of stream as AsyncIterable<Buffer>) {
          const lines = (pending + decoder.write(chunk)).split('\n');
          pending = lines.pop()!;
          if (lines.length) res.write(lines.map((l) => prefix + l + '\n').join(''));
        }
      } catch {
        // The client went away (abort) or the agent's stream broke: that node's part ends.
      }
      if (pending) res.write(prefix + pending + '\n');
    }),
  );
  res.end();
}

/** The request handler (exported for tests); never rejects. */
export function logsApiHandler(deps: LogsApiDeps): (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> {
  return async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'https://x');
      if (['/healthz', '/readyz', '/livez'].includes(url.pathname)) {
        res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
        return;
      }
      const refused = frontProxyRefusal(req, deps.requestHeader);
      if (refused) return status(res, 401, 'Unauthorized', refused);
      if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', 'only GET');
      // Discovery is public (the built-in system:discovery role grants it to everyone).
      const discovery = DISCOVERY[url.pathname.replace(/\/+$/, '')];
      if (discovery) return json(res, discovery);
      const m = LOG_PATH.exec(url.pathname);
      if (!m) return status(res, 404, 'NotFound', `the server could not find the requested resource ${url.pathname}`);
      const caller = frontProxyCaller(req, deps.requestHeader);
      if (typeof caller === 'string') return status(res, 401, 'Unauthorized', caller);
      await serveLog(req, res, caller, decodeURIComponent(m[1]!), decodeURIComponent(m[2]!), deps);
    } catch (err) {
      deps.log.warn('logs request failed', { error: String(err) });
      if (!res.headersSent) status(res, 500, 'InternalError', String(err));
      else res.destroy();
    }
  };
}

export interface LogsApiServerOptions {
  port: number;
  host?: string;
  cert: string;
  key: string;
}

export async function startLogsApiServer(o: LogsApiServerOptions, deps: LogsApiDeps): Promise<https.Server> {
  const handler = logsApiHandler(deps);
  const server = https.createServer(
    {
      cert: o.cert,
      key: o.key,
      minVersion: 'TLSv1.2',
      // Ask for the front proxy's certificate; frontProxyCaller refuses a request without a valid one.
      requestCert: true,
      rejectUnauthorized: false,
      ca: deps.requestHeader.clientCa,
    },
    (req, res) => void handler(req, res),
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  return server;
}
