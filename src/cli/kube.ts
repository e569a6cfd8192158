// API access for kubectl-sdw (the only cluster I/O besides the agent's /logs).
import * as k8s from '@kubernetes/client-node';
import type https from 'node:https';
import { mergePatch } from '../kube/client.js';
import { GROUP, UNITSET_PLURAL, VERSION, WORKLOAD_PLURAL, type SystemdUnitSet, type SystemdWorkload } from '../api/types.js';

export interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  /** --as: the user to impersonate (Impersonate-User). */
  as?: string;
  /** --as-group: groups to impersonate (Impersonate-Group, one header line each). */
  asGroups?: readonly string[];
  /** --request-timeout in milliseconds; 0 or undefined waits for ever (kubectl's default). */
  requestTimeoutMs?: number;
}

/**
 * A KubeConfig that adds kubectl's per-invocation settings to every request it
 * authenticates: impersonation headers and a request timeout. Both request paths
 * of client-node go through it: the generated API clients call
 * applySecurityAuthentication per request, Watch (and logs' fetches) call
 * applyToHTTPSOptions.
 */
class PluginKubeConfig extends k8s.KubeConfig {
  constructor(private readonly extra: Pick<ClusterFlags, 'as' | 'asGroups' | 'requestTimeoutMs'>) {
    super();
  }

  override async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    await super.applyToHTTPSOptions(opts);
    const headers = (opts.headers ?? {}) as Record<string, string | string[]>;
    if (this.extra.as !== undefined) headers['Impersonate-User'] = this.extra.as;
    if (this.extra.asGroups?.length) headers['Impersonate-Group'] = [...this.extra.asGroups];
    opts.headers = headers;
  }

  override async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    if (this.extra.as !== undefined) context.setHeaderParam('Impersonate-User', this.extra.as);
    // The request context holds one value per header name, and the API server reads
    // each Impersonate-Group line as one group (it does not split at commas).
    // Header names are case-insensitive, so each group gets its own spelling of the
    // name, and node-fetch sends them as separate lines of the same header.
    (this.extra.asGroups ?? []).forEach((g, i) => context.setHeaderParam(headerSpelling('impersonate-group', i), g));
    if (this.extra.requestTimeoutMs) context.setSignal(AbortSignal.timeout(this.extra.requestTimeoutMs));
  }
}

/** The i-th distinct upper/lower-case spelling of name (i in binary over its letters). */
function headerSpelling(name: string, i: number): string {
  let bit = 0;
  return name.replace(/[a-z]/g, (c) => ((i >> bit++) & 1 ? c.toUpperCase() : c));
}

export function loadConfig(f: ClusterFlags): k8s.KubeConfig {
  const kc = new PluginKubeConfig({ as: f.as, asGroups: f.asGroups, requestTimeoutMs: f.requestTimeoutMs });
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

/** apiErrorMessage with the HTTP status and reason kubectl shows ("Error from server (Forbidden)"). */
export function serverErrorMessage(err: unknown): string {
  const e = err as { code?: unknown; body?: unknown };
  let reason: string | undefined;
  try {
    reason = (JSON.parse(typeof e?.body === 'string' ? e.body : '{}') as { reason?: string }).reason;
  } catch {
    /* plain text */
  }
  const code = typeof e?.code === 'number' && e.code >= 400 ? e.code : undefined;
  return code ? `${apiErrorMessage(err)} (HTTP ${code}${reason ? ` ${reason}` : ''})` : apiErrorMessage(err);
}

export { isConflict, isNotFound } from '../kube/client.js';

interface List<T> {
  items: T[];
  metadata?: { continue?: string; resourceVersion?: string };
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

  /** Every page of a list, and the resourceVersion to watch from. */
  private async list<T>(
    plural: string,
    namespace: string | undefined,
    labelSelector?: string,
    fieldSelector?: string,
  ): Promise<{ items: T[]; resourceVersion: string }> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = '';
    do {
      const query = { group: GROUP, version: VERSION, plural, labelSelector, fieldSelector, limit: 500, _continue: cont };
      const page = (
        namespace === undefined
          ? await this.api.listClusterCustomObject(query)
          : await this.api.listNamespacedCustomObject({ ...query, namespace })
      ) as List<T>;
      items.push(...page.items);
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  async listWorkloads(namespace?: string, labelSelector?: string): Promise<SystemdWorkload[]> {
    return (await this.list<SystemdWorkload>(WORKLOAD_PLURAL, namespace, labelSelector)).items;
  }

  /** The workloads (one by name, or by label selector) and the version a watch of them starts from. */
  listWorkloadsForWatch(
    namespace: string | undefined,
    sel: { labelSelector?: string; name?: string },
  ): Promise<{ items: SystemdWorkload[]; resourceVersion: string }> {
    const fieldSelector = sel.name === undefined ? undefined : `metadata.name=${sel.name}`;
    return this.list<SystemdWorkload>(WORKLOAD_PLURAL, namespace, sel.labelSelector, fieldSelector);
  }

  async listUnitSets(namespace?: string, labelSelector?: string): Promise<SystemdUnitSet[]> {
    return (await this.list<SystemdUnitSet>(UNITSET_PLURAL, namespace, labelSelector)).items;
  }

  /**
   * Watch workloads from resourceVersion until signal aborts, or timeoutSeconds
   * (the server ends the watch then); calls onEvent per change. Resolves with the
   * last resourceVersion seen, rejects with the watch's error (403, 410 Gone).
   */
  watchWorkloads(
    namespace: string | undefined,
    q: { labelSelector?: string; name?: string; resourceVersion: string; timeoutSeconds?: number },
    onEvent: (type: string, w: SystemdWorkload) => void,
    signal: AbortSignal,
  ): Promise<string> {
    const path =
      namespace === undefined
        ? `/apis/${GROUP}/${VERSION}/${WORKLOAD_PLURAL}`
        : `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${WORKLOAD_PLURAL}`;
    let last = q.resourceVersion;
    return new Promise((resolve, reject) => {
      let stop: AbortController | undefined;
      const onAbort = (): void => stop?.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      const finish = (err: unknown): void => {
        signal.removeEventListener('abort', onAbort);
        // A refused watch arrives as an HTTP status without the API server's message.
        const status = (err as { statusCode?: number } | null)?.statusCode;
        if (err && !signal.aborted)
          reject(
            status
              ? new Error(`watch refused: HTTP ${status} ${(err as Error).message}`)
              : err instanceof Error
                ? err
                : new Error(JSON.stringify(err)),
          );
        else resolve(last);
      };
      new k8s.Watch(this.kc)
        .watch(
          path,
          {
            labelSelector: q.labelSelector,
            fieldSelector: q.name === undefined ? undefined : `metadata.name=${q.name}`,
            resourceVersion: q.resourceVersion,
            timeoutSeconds: q.timeoutSeconds,
          },
          (type, obj: SystemdWorkload & { code?: number; message?: string }) => {
            if (type === 'ERROR') return finish(new Error(obj.message ?? 'watch error'));
            if (type === 'BOOKMARK') return;
            last = obj.metadata?.resourceVersion ?? last;
            onEvent(type, obj);
          },
          finish,
        )
        .then((c) => {
          stop = c;
          if (signal.aborted) c.abort();
        }, finish);
    });
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
