// `kubectl sdw logs`: finds the workload's nodes and units, the agent of each
// node, and streams GET /logs from it (see src/agent/journal.ts for the endpoint
// and how it is protected).
import { LABEL_WORKLOAD_UID, type SystemdUnitSet, type SystemdWorkload } from '../api/types.js';
import { AGENT_URL_ANNOTATION, heartbeatLeaseName } from '../kube/heartbeat.js';
import { unitFileName } from '../api/names.js';
import { childrenOf } from './statusView.js';
import { SdwClient, apiErrorMessage } from './kube.js';

export { AGENT_URL_ANNOTATION };
export const DEFAULT_OPERATOR_NAMESPACE = 'systemd-workload-operator';

export interface LogsOptions {
  namespace: string;
  name: string;
  node?: string;
  unit?: string;
  follow: boolean;
  lines: number;
  agentUrl?: string;
  operatorNamespace: string;
  token?: string;
}

export class CliError extends Error {}

/** Pure: which nodes and systemd units to ask for. */
export function logTargets(
  w: SystemdWorkload,
  children: readonly SystemdUnitSet[],
  o: Pick<LogsOptions, 'node' | 'unit'>,
): { nodes: string[]; units: string[] } {
  const ns = w.metadata.namespace!;
  const name = w.metadata.name!;
  const unitNames = w.spec.units.map((u) => u.name);
  let units = unitNames;
  if (o.unit !== undefined) {
    if (!unitNames.includes(o.unit)) throw new CliError(`workload ${ns}/${name} has no unit '${o.unit}' (units: ${unitNames.join(', ')})`);
    units = [o.unit];
  }
  const nodes = [...new Set(children.map((c) => c.spec.nodeName))].sort();
  if (o.node !== undefined) {
    if (!nodes.includes(o.node)) {
      throw new CliError(`workload ${ns}/${name} does not run on node '${o.node}' (nodes: ${nodes.join(', ') || 'none'})`);
    }
    return { nodes: [o.node], units: units.map((u) => unitFileName(ns, name, u, 'service')) };
  }
  if (nodes.length === 0) throw new CliError(`workload ${ns}/${name} runs on no node yet`);
  return { nodes, units: units.map((u) => unitFileName(ns, name, u, 'service')) };
}

export function logsUrl(base: string, units: readonly string[], lines: number, follow: boolean): string {
  const q = new URLSearchParams();
  for (const u of units) q.append('unit', u);
  q.set('lines', String(lines));
  if (follow) q.set('follow', '1');
  return `${base.replace(/\/+$/, '')}/logs?${q.toString()}`;
}

async function agentUrl(client: SdwClient, node: string, o: LogsOptions): Promise<string> {
  if (o.agentUrl) return o.agentUrl;
  let lease;
  try {
    lease = await client.coord.readNamespacedLease({ name: heartbeatLeaseName(node), namespace: o.operatorNamespace });
  } catch (err) {
    throw new CliError(
      `cannot find the agent of node ${node}: Lease ${o.operatorNamespace}/${heartbeatLeaseName(node)}: ${apiErrorMessage(err)} (pass --agent-url)`,
    );
  }
  const url = lease.metadata?.annotations?.[AGENT_URL_ANNOTATION];
  if (!url)
    throw new CliError(
      `the agent of node ${node} does not advertise its address (annotation ${AGENT_URL_ANNOTATION} on Lease ${o.operatorNamespace}/${heartbeatLeaseName(node)}); pass --agent-url`,
    );
  return url;
}

/** Streams one node's lines to out, each prefixed; resolves when the agent ends the response. */
async function streamNode(
  url: string,
  auth: string,
  prefix: string,
  out: (s: string) => void,
  node: string,
  signal: AbortSignal,
): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { Authorization: auth }, signal });
  } catch (err) {
    if (signal.aborted) return;
    const e = err as Error;
    throw new CliError(
      `cannot reach the agent of node ${node} at ${new URL(url).origin}: ${e.cause instanceof Error ? String(e.cause) : e.message}`,
    );
  }
  if (res.status !== 200) {
    const body = (await res.text()).trim();
    throw new CliError(`agent of node ${node}: HTTP ${res.status}: ${body}`);
  }
  if (!res.body) return;
  const decoder = new TextDecoder();
  let buf = '';
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      const nl = buf.lastIndexOf('\n');
      if (nl >= 0) {
        out(
          buf
            .slice(0, nl + 1)
            .split('\n')
            .slice(0, -1)
            .map((l) => prefix + l + '\n')
            .join(''),
        );
        buf = buf.slice(nl + 1);
      }
    }
  } catch (err) {
    if (!signal.aborted) throw err;
  }
  if (buf) out(prefix + buf + '\n');
}

export async function runLogs(client: SdwClient, o: LogsOptions, out: (s: string) => void, signal: AbortSignal): Promise<void> {
  let w: SystemdWorkload;
  try {
    w = await client.getWorkload(o.namespace, o.name);
  } catch (err) {
    throw new CliError(apiErrorMessage(err));
  }
  const children = childrenOf(w, await client.listUnitSets(o.namespace, `${LABEL_WORKLOAD_UID}=${w.metadata.uid}`));
  const { nodes, units } = logTargets(w, children, o);
  const auth = o.token ? `Bearer ${o.token}` : await client.bearerHeader();
  if (!auth)
    throw new CliError(
      'the kubeconfig user has no bearer token (the agent authenticates tokens); pass --token, e.g. from "kubectl create token"',
    );
  const targets = await Promise.all(
    nodes.map(async (node) => ({ node, url: logsUrl(await agentUrl(client, node, o), units, o.lines, o.follow) })),
  );
  const prefixed = nodes.length > 1;
  const run = (t: { node: string; url: string }): Promise<void> =>
    streamNode(t.url, auth, prefixed ? `[${t.node}] ` : '', out, t.node, signal);
  if (o.follow) await Promise.all(targets.map(run));
  else for (const t of targets) await run(t);
}
