// Additive helpers for the agent's end-to-end tests: a child's status as kubectl
// shows it, systemd calls through busctl, a node's cgroup files from the host,
// and an agent started without waiting for readiness (API server down).
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { SystemdUnitSet } from '../../src/api/types.js';
import type { Cluster } from './cluster.js';
import { repoRoot } from './binaries.js';
import { OPERATOR_NAMESPACE, ensureOperatorNamespace } from './operator.js';
import { waitFor } from './process.js';
import { findCgroupDirs, type SystemdNode } from './systemdNode.js';

const SD = ['org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'] as const;

/** Manager.<method>(...) on the node's systemd through busctl. */
export function managerCall(node: SystemdNode, method: string, signature = '', ...args: string[]): Promise<string> {
  return node.busctl('call', ...SD, method, ...(signature ? [signature, ...args] : []));
}

/** The node's child of a workload, read with kubectl. */
export async function getChild(cluster: Cluster, workload: string, node: string, ns = 'default'): Promise<SystemdUnitSet | undefined> {
  const out = await cluster.kubectlOk([
    'get',
    'systemdunitsets',
    '-n',
    ns,
    '-l',
    `systemd.operators.dev/workload=${workload},systemd.operators.dev/node=${node}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: SystemdUnitSet[] }).items[0];
}

export async function waitForChild(
  cluster: Cluster,
  workload: string,
  node: string,
  what: string,
  pred: (c: SystemdUnitSet) => boolean,
  timeoutMs = 60_000,
  ns = 'default',
): Promise<SystemdUnitSet> {
  let last: SystemdUnitSet | undefined;
  try {
    return await waitFor(
      `child of ${workload} on ${node}: ${what}`,
      async () => {
        last = await getChild(cluster, workload, node, ns);
        return last && pred(last) ? last : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
  }
}

/** A cgroup attribute of a unit of the node (v1 hierarchy name, e.g. 'cpu', 'pids', 'memory'). */
export async function cgroupAttr(node: SystemdNode, hierarchy: string, unit: string, file: string): Promise<string> {
  const roots = await findCgroupDirs(node.cgroupName);
  for (const r of roots) {
    const parts = r.split(path.sep);
    const h = parts[parts.indexOf('cgroup') + 1] ?? '';
    if (h !== hierarchy && !h.split(',').includes(hierarchy)) continue;
    try {
      return (await fs.readFile(path.join(r, 'system.slice', unit, file), 'utf8')).trim();
    } catch {
      /* another root of the same name */
    }
  }
  throw new Error(`no ${hierarchy} cgroup file ${file} for ${unit} on ${node.name} (roots: ${roots.join(', ')})`);
}

export { spawnAgent as startAgentNoWait } from './operator.js';

export { ensureOperatorNamespace };

/**
 * The operator's RBAC and node-identity policy (config/default, as a user installs
 * it), and a token of the agent's service account bound to a Node, as Kubernetes
 * mints it (`kubectl create token --bound-object-kind Node`).
 */
export async function agentTokenForNode(cluster: Cluster, node: string, extraArgs: string[] = []): Promise<string> {
  await cluster.kubectlOk(['apply', '--server-side', '--force-conflicts', '-k', path.join(repoRoot, 'config', 'default')]);
  const args = ['create', 'token', 'systemd-workload-agent', '-n', OPERATOR_NAMESPACE, '--bound-object-kind', 'Node'];
  return (await cluster.kubectlOk([...args, '--bound-object-name', node, ...extraArgs])).trim();
}
