// `kubectl sdw logs`: one GET of the workload's log subresource on the API
// server (src/api/logs.ts), with the kubeconfig's own credentials, whatever
// they are (token, client certificate, exec plugin), over the kubeconfig's TLS.
// The API server authorizes it (RBAC) and proxies it to the operator's
// aggregated logs API, which reads each node's journal from its agent.
import https from 'node:https';
import type http from 'node:http';
import type * as k8s from '@kubernetes/client-node';
import { LOGS_GROUP, LOG_RESOURCE, logPath, logQuery, type LogOptions } from '../api/logs.js';

export interface LogsOptions extends LogOptions {
  namespace: string;
  name: string;
  node?: string;
  unit?: string;
}

export class CliError extends Error {}

const UNIT_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** kubectl's --since: a Go duration (5s, 2m, 1h30m) in whole seconds, at least 1. */
export function parseSince(value: string): number {
  let rest = value;
  let seconds = 0;
  if (!rest) throw new CliError(`invalid --since '${value}': a duration such as 30s, 5m or 1h`);
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (!m) throw new CliError(`invalid --since '${value}': a duration such as 30s, 5m or 1h`);
    seconds += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.max(1, Math.ceil(seconds));
}

/** kubectl's --tail: -1 (the default) is all. */
export function parseTail(value: string | undefined): number | undefined {
  if (value === undefined || value === '-1') return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new CliError(`invalid --tail '${value}': a number of lines, or -1 for all`);
  return Number(value);
}

/** The API server's message from a failed response body (metav1.Status), with what to do about a 403. */
export function failureMessage(code: number, body: string): string {
  let message = body.trim();
  try {
    const s = JSON.parse(body) as { message?: string };
    if (s.message) message = s.message;
  } catch {
    /* plain text */
  }
  if (code === 403) {
    message += `\n(grant it with a Role rule {apiGroups: [${LOGS_GROUP}], resources: [${LOG_RESOURCE}], verbs: [get]}; the built-in view role includes it)`;
  } else if (code === 404 && /could not find the requested resource|the server could not find/i.test(message)) {
    message += `\n(is the operator's logs API installed? kubectl get apiservice v1alpha1.${LOGS_GROUP})`;
  }
  return `HTTP ${code}: ${message}`;
}

function request(kc: k8s.KubeConfig, url: URL, signal: AbortSignal): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const opts: https.RequestOptions = { signal };
    kc.applyToHTTPSOptions(opts).then(
      () => {
        const req = https.request(url, opts, resolve);
        req.on('error', reject);
        req.end();
      },
      (err: unknown) => reject(err instanceof Error ? err : new Error(String(err))),
    );
  });
}

export async function runLogs(kc: k8s.KubeConfig, o: LogsOptions, out: (s: string) => void, signal: AbortSignal): Promise<void> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new CliError('the kubeconfig has no current cluster');
  const url = new URL(server.replace(/\/+$/, '') + logPath(o.namespace, o.name));
  url.search = logQuery(o, { node: o.node, unit: o.unit }).toString();
  let res: http.IncomingMessage;
  try {
    res = await request(kc, url, signal);
  } catch (err) {
    if (signal.aborted) return;
    throw new CliError(`cannot reach the API server at ${url.origin}: ${(err as Error).message}`);
  }
  res.setEncoding('utf8');
  if (res.statusCode !== 200) {
    let body = '';
    for await (const c of res as AsyncIterable<string>) body += c;
    throw new CliError(failureMessage(res.statusCode ?? 0, body));
  }
  try {
    for await (const chunk of res as AsyncIterable<string>) out(chunk);
  } catch (err) {
    if (!signal.aborted) throw new CliError(`the log stream broke: ${(err as Error).message}`);
  }
}
