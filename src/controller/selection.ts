// Which nodes a workload belongs on: its nodeSelector against the Node's labels,
// and its tolerations against the Node's taints (NoSchedule and NoExecute must
// be tolerated; PreferNoSchedule is a preference and never excludes a node).
// Readiness plays no part: a NotReady node keeps its units (no mass eviction),
// and the condition taints Kubernetes puts on such nodes are tolerated.
import type { SystemdWorkloadSpec, Toleration } from '../api/types.js';

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
}

/**
 * Taints every workload tolerates implicitly, as the DaemonSet controller adds
 * them to its pods: the node lifecycle controller puts not-ready/unreachable
 * (NoExecute) on a node that stops reporting, and honouring those would remove
 * the units of every node that flaps: the mass eviction we must never cause.
 */
export const IMPLICITLY_TOLERATED = new Set([
  'node.kubernetes.io/not-ready',
  'node.kubernetes.io/unreachable',
  'node.kubernetes.io/disk-pressure',
  'node.kubernetes.io/memory-pressure',
  'node.kubernetes.io/pid-pressure',
  'node.kubernetes.io/unschedulable',
  'node.kubernetes.io/network-unavailable',
]);

export function tolerates(t: Toleration, taint: NodeInfo['taints'][number]): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (!t.key) return t.operator === 'Exists'; // empty key + Exists tolerates everything
  if (t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export function nodeMatches(spec: Pick<SystemdWorkloadSpec, 'nodeSelector' | 'tolerations'>, node: NodeInfo): boolean {
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    if (node.labels[k] !== v) return false;
  }
  for (const taint of node.taints) {
    if (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') continue;
    if (IMPLICITLY_TOLERATED.has(taint.key)) continue;
    if (!(spec.tolerations ?? []).some((t) => tolerates(t, taint))) return false;
  }
  return true;
}
