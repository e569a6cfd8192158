// Helpers for the fault ("game day") tests: what systemd says about every
// managed unit (to prove nothing was stopped or restarted), the exact list of
// children (to prove nothing was duplicated or lost), and the one-line JSON
// result each scenario prints for the table of figures.
import { promises as fs } from 'node:fs';
import type { SystemdUnitSet } from '../../src/api/types.js';
import { unitProperty } from './assertions.js';
import type { Cluster } from './cluster.js';
import { listChildren } from './controllerHelpers.js';
import type { SystemdNode } from './systemdNode.js';

export interface UnitSnapshot {
  node: string;
  unit: string;
  activeState: string;
  invocationId: string;
  nRestarts: string;
  activeEnter: string;
}

/** The managed unit files (ownership prefix sdw-) in a node's unit directory. */
export async function managedUnitFiles(node: SystemdNode): Promise<string[]> {
  return (await fs.readdir(node.unitDir)).filter((f) => f.startsWith('sdw-') && f.endsWith('.service')).sort();
}

async function snapOne(node: SystemdNode, unit: string): Promise<UnitSnapshot> {
  const [activeState, invocationId, nRestarts, activeEnter] = await Promise.all([
    unitProperty(node, unit, 'Unit', 'ActiveState'),
    unitProperty(node, unit, 'Unit', 'InvocationID'),
    unitProperty(node, unit, 'Service', 'NRestarts'),
    unitProperty(node, unit, 'Unit', 'ActiveEnterTimestamp'),
  ]);
  return { node: node.name, unit, activeState, invocationId, nRestarts, activeEnter };
}

/** systemd's view of every managed service on the given nodes (all of the cluster's nodes by default). */
export async function snapshotUnits(cluster: Cluster, nodes = [...cluster.nodes.keys()], exclude: RegExp[] = []): Promise<UnitSnapshot[]> {
  const out: UnitSnapshot[] = [];
  for (const n of nodes) {
    const node = cluster.node(n);
    for (const unit of await managedUnitFiles(node)) {
      if (exclude.some((r) => r.test(unit))) continue;
      out.push(await snapOne(node, unit));
    }
  }
  return out;
}

/** Units of `before` that are no longer the same invocation (stopped, restarted, or gone) in `after`. */
export function restartedUnits(before: UnitSnapshot[], after: UnitSnapshot[]): Array<{ before: UnitSnapshot; after?: UnitSnapshot }> {
  const byKey = new Map(after.map((u) => [`${u.node}/${u.unit}`, u]));
  const out: Array<{ before: UnitSnapshot; after?: UnitSnapshot }> = [];
  for (const b of before) {
    const a = byKey.get(`${b.node}/${b.unit}`);
    if (
      !a ||
      a.invocationId !== b.invocationId ||
      a.nRestarts !== b.nRestarts ||
      a.activeEnter !== b.activeEnter ||
      a.activeState !== 'active'
    ) {
      out.push({ before: b, after: a });
    }
  }
  return out;
}

/** Re-reads the units of `before` and returns those not the same running invocation. */
export async function unitsChangedSince(
  cluster: Cluster,
  before: UnitSnapshot[],
): Promise<Array<{ before: UnitSnapshot; after?: UnitSnapshot }>> {
  const after: UnitSnapshot[] = [];
  for (const b of before) {
    after.push(await snapOne(cluster.node(b.node), b.unit).catch(() => ({ ...b, activeState: 'gone', invocationId: '' })));
  }
  return restartedUnits(before, after);
}

export interface ChildId {
  key: string;
  node: string;
  uid: string;
  hash: string;
}

/** Every SystemdUnitSet of the namespace, identified by name, node, uid and spec hash (sorted). */
export async function childIds(cluster: Cluster, ns = 'default'): Promise<ChildId[]> {
  const items: SystemdUnitSet[] = await listChildren(cluster, ns);
  return items
    .map((c) => ({ key: `${c.metadata.namespace}/${c.metadata.name}`, node: c.spec.nodeName, uid: c.metadata.uid!, hash: c.spec.hash }))
    .sort((a, b) => a.key.localeCompare(b.key));
}

/** Prints one scenario's measurements as a single line the lead can grep: FAULT-RESULT {...}. */
export function faultResult(result: Record<string, unknown>): void {
  console.log(`FAULT-RESULT ${JSON.stringify(result)}`);
}

/** Milliseconds since t, as a whole number. */
export function since(t: number): number {
  return Date.now() - t;
}
