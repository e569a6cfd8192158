// apps/v1 ControllerRevisions through client-node's AppsV1Api: the calls the
// controller's revision step makes (create, renumber by merge patch, delete).
import * as k8s from '@kubernetes/client-node';
import type { ControllerRevision } from '../api/types.js';
import { mergePatch } from './client.js';

export class ControllerRevisions {
  private readonly api: k8s.AppsV1Api;

  constructor(kc: k8s.KubeConfig) {
    this.api = kc.makeApiClient(k8s.AppsV1Api);
  }

  async create(namespace: string, body: ControllerRevision): Promise<unknown> {
    return this.api.createNamespacedControllerRevision({ namespace, body: body as k8s.V1ControllerRevision });
  }

  async patch(namespace: string, name: string, body: object): Promise<unknown> {
    return this.api.patchNamespacedControllerRevision({ namespace, name, body }, mergePatch);
  }

  async delete(namespace: string, name: string, uid?: string): Promise<void> {
    await this.api.deleteNamespacedControllerRevision({ namespace, name, body: uid ? { preconditions: { uid } } : undefined });
  }
}
