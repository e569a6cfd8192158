// A workload's child (one SystemdUnitSet per matching node, as a Pod of a
// DaemonSet): its name, labels and owner reference, from the workload's identity.
import { createHash } from 'node:crypto';
import {
  ANNOTATION_RESTARTED_AT,
  API_VERSION,
  LABEL_NODE,
  LABEL_WORKLOAD,
  LABEL_WORKLOAD_UID,
  UNITSET_KIND,
  WORKLOAD_KIND,
  type SystemdUnitSet,
  type SystemdUnitSetSpec,
  type SystemdWorkload,
} from '../api/types.js';

/** Who owns the children: what a workload from the API server always has, checked once. */
export interface WorkloadRef {
  namespace: string;
  name: string;
  uid: string;
}

/** The workload's identity, or undefined for an object without one (never stored by the API server). */
export function workloadRef(wl: SystemdWorkload): WorkloadRef | undefined {
  const { namespace, name, uid } = wl.metadata;
  return namespace && name && uid ? { namespace, name, uid } : undefined;
}

/** A child's name: readable, within 253 characters, unique per (workload, node). */
export function childName(workload: string, node: string): string {
  const h = createHash('sha256').update(`${workload}/${node}`).digest('hex').slice(0, 6);
  return `${workload.slice(0, 100)}-${node.slice(0, 140)}-${h}`;
}

/** A node name as a label value: itself when it fits (63 chars), else a stable digest. */
export function labelValue(node: string): string {
  if (node.length <= 63) return node;
  return `${node.slice(0, 50)}-${createHash('sha256').update(node).digest('hex').slice(0, 12)}`;
}

/**
 * The restart stamp the units are rendered with: the workload's restartedAt
 * annotation. A new value changes every unit file (X-SDW-Restarted-At=), so the
 * children's hash changes and the rollout restarts the units at its own pace.
 */
export function restartStamp(wl: SystemdWorkload): string | undefined {
  const v = wl.metadata.annotations?.[ANNOTATION_RESTARTED_AT];
  return v === undefined || v === '' ? undefined : v;
}

/** The workload's annotations its children carry: the restart stamp (so `kubectl get sdus -o yaml` shows why they changed). */
export function childAnnotations(wl: SystemdWorkload): Record<string, string> | undefined {
  const stamp = restartStamp(wl);
  return stamp === undefined ? undefined : { [ANNOTATION_RESTARTED_AT]: stamp };
}

export function newChild(owner: WorkloadRef, node: string, spec: SystemdUnitSetSpec, annotations?: Record<string, string>): SystemdUnitSet {
  return {
    apiVersion: API_VERSION,
    kind: UNITSET_KIND,
    metadata: {
      name: childName(owner.name, node),
      namespace: owner.namespace,
      ...(annotations ? { annotations } : {}),
      labels: {
        [LABEL_NODE]: labelValue(node),
        [LABEL_WORKLOAD]: owner.name.slice(0, 63),
        [LABEL_WORKLOAD_UID]: owner.uid,
      },
      ownerReferences: [
        {
          apiVersion: API_VERSION,
          kind: WORKLOAD_KIND,
          name: owner.name,
          uid: owner.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec,
  };
}
