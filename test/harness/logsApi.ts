// The aggregated logs API in a harness cluster (started with aggregation: true):
// the controller process serves it on a host bridge made for the purpose (an
// EndpointSlice may not name a loopback address), and the shipped APIService
// and Service (config/logsapi) point at it through an EndpointSlice, since
// there are no controller pods to select.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { repoRoot } from './binaries.js';
import type { Cluster } from './cluster.js';
import { NodeBridge } from './nodeBridge.js';
import { OPERATOR_NAMESPACE } from './operator.js';
import { freePort, waitFor } from './process.js';

export const LOGS_APISERVICE = 'v1alpha1.subresources.systemd.operators.dev';

export interface LogsApiHost {
  bridge: NodeBridge;
  /** Where the controller serves: startController(cluster, { logsApi: host.listen }). */
  listen: { host: string; port: number };
}

/** A host bridge and a free port for the controller's logs API; remove with host.bridge.remove(). */
export async function createLogsApiHost(): Promise<LogsApiHost> {
  const bridge = await NodeBridge.create(randomBytes(4).toString('hex'));
  return { bridge, listen: { host: bridge.address, port: await freePort() } };
}

/**
 * Applies config/logsapi (its Service without a selector) and the user roles,
 * an EndpointSlice naming the controller process, and waits until the API
 * server reports the APIService Available. `diagnose` adds, say, the controller's log to a timeout.
 */
export async function registerLogsApi(cluster: Cluster, host: LogsApiHost, diagnose: () => string = () => ''): Promise<void> {
  const shipped = loadAllYaml(await fs.readFile(path.join(repoRoot, 'config', 'logsapi', 'apiservice.yaml'), 'utf8')) as Array<{
    metadata: { namespace?: string };
    spec: { service?: { namespace: string }; selector?: unknown };
  }>;
  for (const o of shipped) {
    if (o.metadata.namespace) o.metadata.namespace = OPERATOR_NAMESPACE;
    if (o.spec.service) o.spec.service.namespace = OPERATOR_NAMESPACE;
    delete o.spec.selector;
  }
  // The aggregator routes by EndpointSlice (no controller mirrors Endpoints here).
  const slice = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: 'systemd-workload-logs-api-host',
      namespace: OPERATOR_NAMESPACE,
      labels: { 'kubernetes.io/service-name': 'systemd-workload-logs-api' },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: [host.listen.host], conditions: { ready: true } }],
    ports: [{ name: 'https', port: host.listen.port, protocol: 'TCP' }],
  };
  await cluster.kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...shipped, slice] }) });
  await cluster.kubectlOk(['apply', '-f', path.join(repoRoot, 'config', 'rbac', 'user_roles.yaml')]);
  await waitFor(
    `APIService ${LOGS_APISERVICE} Available`,
    async () => {
      const r = await cluster.kubectl([
        'get',
        'apiservice',
        LOGS_APISERVICE,
        '-o',
        'jsonpath={.status.conditions[?(@.type=="Available")].status} {.status.conditions[?(@.type=="Available")].message}',
      ]);
      if (r.stdout.startsWith('True')) return true;
      throw new Error(`${r.stdout}${r.stderr}\n${diagnose()}`);
    },
    60_000,
    500,
  );
}
