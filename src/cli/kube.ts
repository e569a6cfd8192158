// API access for kubectl-sdw (the only cluster I/O besides the agent's /logs).
import * as k8s from '@kubernetes/client-node';
import type https from 'node:https';
import { mergePatch } from '../kube/client.js';
import { GROUP, UNITSET_PLURAL, VERSION, WORKLOAD_PLURAL, type SystemdUnitSet, type SystemdWorkload } from '../api/types.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
}

export function loadConfig(f: ClusterFlags): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (f.kubeconfig) kc.loadFromFile(f.kubeconfig);
  else kc.loadFromDefault(); // honours KUBECONFIG
  if (f.context) {
    if (!kc.getContextObject(f.context)) throw new Error(`context "${f.context}" not found in kubeconfig`);
    kc.setCurrentContext(f.context);
  }
  return kc;
}

/** The namespace of the current context, else "default" (as kubectl). */
export function contextNamespace(kc: k8s.KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
}

/** The API server's own message for a failed call ("... not found"), else the error's text. */
export function apiErrorMessage(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  let body = e?.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      /* plain text */
    }
  }
  const msg = (body as { message?: string } | undefined)?.message;
  if (msg) return msg;
  return e?.message ?? String(err);
}

export { isNotFound } from '../kube/client.js';

interface List<T> {
  items: T[];
  metadata?: { continue?: string };
}

export class SdwClient {
  private readonly api: k8s.CustomObjectsApi;
  readonly coord: k8s.CoordinationV1Api;

  constructor(readonly kc: k8s.KubeConfig) {
    this.api = kc.makeApiClient(k8s.CustomObjectsApi);
    this.coord = kc.makeApiClient(k8s.CoordinationV1Api);
  }

  async getWorkload(namespace: string, name: string): Promise<SystemdWorkload> {
    return (await this.api.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: WORKLOAD_PLURAL,
      name,
    })) as SystemdWorkload;
  }

  /** A JSON merge patch of the workload (spec fields, annotations). */
  async patchWorkload(namespace: string, name: string, body: object): Promise<SystemdWorkload> {
    return (await this.api.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: WORKLOAD_PLURAL, name, body },
      mergePatch,
    )) as SystemdWorkload;
  }

  private async list<T>(plural: string, namespace: string | undefined, labelSelector?: string): Promise<T[]> {
    const items: T[] = [];
    let cont: string | undefined;
    do {
      const page = (
        namespace === undefined
          ? await this.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural, labelSelector, limit: 500, _continue: cont })
          : await this.api.listNamespacedCustomObject({
              group: GROUP,
              version: VERSION,
              namespace,
              plural,
              labelSelector,
              limit: 500,
              _continue: cont,
            })
      ) as List<T>;
      items.push(...page.items);
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return items;
  }

  listWorkloads(namespace?: string): Promise<SystemdWorkload[]> {
    return this.list<SystemdWorkload>(WORKLOAD_PLURAL, namespace);
  }

  listUnitSets(namespace?: string, labelSelector?: string): Promise<SystemdUnitSet[]> {
    return this.list<SystemdUnitSet>(UNITSET_PLURAL, namespace, labelSelector);
  }

  /** The Authorization header value the kubeconfig user would send (token, token file, exec plugin). */
  async bearerHeader(): Promise<string | undefined> {
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    const h =
      (opts.headers as Record<string, unknown> | undefined)?.Authorization ??
      (opts.headers as Record<string, unknown> | undefined)?.authorization;
    return typeof h === 'string' && /^Bearer /i.test(h) ? h : undefined;
  }
}
