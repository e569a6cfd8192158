// A workload's child (one SystemdUnitSet per matching node, as a Pod of a
// DaemonSet): its name, labels and owner reference, from the workload's identity.
import { createHash } from 'node:crypto';
import {
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

export function newChild(owner: WorkloadRef, node: string, spec: SystemdUnitSetSpec): SystemdUnitSet {
  return {
    apiVersion: API_VERSION,
    kind: UNITSET_KIND,
    metadata: {
      name: childName(owner.name, node),
      namespace: owner.namespace,
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
