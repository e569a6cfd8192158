// Thin helpers over @kubernetes/client-node: config loading, typed custom
// object calls for our group, merge patches, and error classification.
import * as k8s from '@kubernetes/client-node';
import { GROUP, VERSION } from '../api/types.js';

export function loadKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  // KUBECONFIG or ~/.kube/config, else the in-cluster service account.
  kc.loadFromDefault();
  return kc;
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number };
  return typeof e?.code === 'number' ? e.code : e?.statusCode;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;

/** Custom objects of our API group, one plural at a time. */
export class CustomObjects<T extends object> {
  private readonly api: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig, readonly plural: string) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async create(namespace: string, body: T): Promise<T> {
    return (await this.api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: this.plural, body })) as T;
  }

  async get(namespace: string, name: string): Promise<T> {
    return (await this.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: this.plural, name })) as T;
  }

  async patch(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body }, mergePatch,
    )) as T;
  }

  async patchStatus(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body }, mergePatch,
    )) as T;
  }

  async delete(namespace: string, name: string, uid?: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace, plural: this.plural, name,
      propagationPolicy: 'Background',
      // a precondition: never delete a same-named successor by mistake
      body: uid ? { preconditions: { uid } } : undefined,
    });
  }
}

/**
 * A merge patch that turns `from` into `to` at the top level of an object:
 * changed keys carry their new value, removed keys are set to null.
 */
export function topLevelMergePatch(from: Record<string, unknown> | undefined, to: Record<string, unknown>): Record<string, unknown> {
  const patch: Record<string, unknown> = { ...to };
  for (const k of Object.keys(from ?? {})) if (!(k in to)) patch[k] = null;
  return patch;
}
