// What a user checks, as helpers: kubectl output and systemd's own answers
// (through busctl, independent of the agent's D-Bus code).
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { SystemdWorkload, UnitSpec } from '../../src/api/types.js';
import type { Cluster } from './cluster.js';
import { waitFor } from './process.js';
import type { SystemdNode } from './systemdNode.js';

export async function apply(cluster: Cluster, yaml: string): Promise<void> {
  await cluster.kubectlOk(['apply', '-f', '-'], { input: yaml });
}

/** A SystemdWorkload in namespace default whose units go to one node, as kubectl apply input. */
export function workloadOnNode(node: string, name: string, units: UnitSpec[]): string {
  return JSON.stringify({
    apiVersion: 'systemd.operators.dev/v1alpha1',
    kind: 'SystemdWorkload',
    metadata: { name, namespace: 'default' },
    spec: { nodeSelector: { 'kubernetes.io/hostname': node }, units },
  });
}

export async function getWorkload(cluster: Cluster, name: string, ns = 'default'): Promise<SystemdWorkload | undefined> {
  const r = await cluster.kubectl(['get', 'sdw', name, '-n', ns, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as SystemdWorkload) : undefined;
}

export async function waitForWorkload(
  cluster: Cluster,
  name: string,
  what: string,
  pred: (w: SystemdWorkload) => boolean,
  timeoutMs = 60_000,
  ns = 'default',
): Promise<SystemdWorkload> {
  let last: SystemdWorkload | undefined;
  try {
    return await waitFor(
      `workload ${name}: ${what}`,
      async () => {
        last = await getWorkload(cluster, name, ns);
        return last && last.status?.observedGeneration === last.metadata.generation && pred(last) ? last : undefined;
      },
      timeoutMs,
      250,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}\nlast status: ${JSON.stringify(last?.status, null, 1)}`);
  }
}

/** A unit property as systemd reports it (busctl's text, e.g. 's "active"' -> active). */
export async function unitProperty(node: SystemdNode, unit: string, iface: string, prop: string): Promise<string> {
  const objPath =
    '/org/freedesktop/systemd1/unit/' + unit.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  const out = (await node.busctl('get-property', 'org.freedesktop.systemd1', objPath, `org.freedesktop.systemd1.${iface}`, prop)).trim();
  const m = /^\S+ (.*)$/.exec(out);
  const v = m?.[1] ?? out;
  return v.startsWith('"') ? v.slice(1, -1) : v;
}

export async function activeState(node: SystemdNode, unit: string): Promise<string> {
  return unitProperty(node, unit, 'Unit', 'ActiveState');
}

export async function invocationId(node: SystemdNode, unit: string): Promise<string> {
  return unitProperty(node, unit, 'Unit', 'InvocationID');
}

export function unitFileExists(node: SystemdNode, unit: string): boolean {
  return existsSync(path.join(node.unitDir, unit));
}

export async function eventsFor(
  cluster: Cluster,
  kind: string,
  name: string,
  ns = 'default',
): Promise<Array<{ reason: string; message: string; type: string }>> {
  const out = await cluster.kubectlOk([
    'get',
    'events',
    '-n',
    ns,
    '--field-selector',
    `involvedObject.kind=${kind},involvedObject.name=${name}`,
    '-o',
    'json',
  ]);
  return (JSON.parse(out) as { items: Array<{ reason: string; message: string; type: string }> }).items;
}
