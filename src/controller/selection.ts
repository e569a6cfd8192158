// Which nodes a workload belongs on: its nodeSelector against the Node's labels,
// and its tolerations against the Node's taints (NoSchedule and NoExecute must
// be tolerated; PreferNoSchedule is a preference and never excludes a node).
// Readiness plays no part: a NotReady node keeps its units (no mass eviction).
import type { SystemdWorkloadSpec, Toleration } from '../api/types.js';

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
}

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
    if (!(spec.tolerations ?? []).some((t) => tolerates(t, taint))) return false;
  }
  return true;
}
