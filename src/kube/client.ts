// Thin helpers over @kubernetes/client-node: config loading, typed custom
// object calls for our group, merge patches, and error classification.
import * as k8s from '@kubernetes/client-node';
import type http from 'node:http';
import type https from 'node:https';
import { GROUP, VERSION } from '../api/types.js';
import type { ReviewApi } from './delegatedAuth.js';
import type { EventWriter } from './events.js';

// Free of client-node (the agent imports them directly); re-exported for the controller, the CLI and tests.
export { isConflict, isNotFound, statusCode } from './apiErrors.js';
export { topLevelMergePatch, writeStatusIfChanged, type StatusPatcher } from './statusWrite.js';

export function loadKubeConfig(): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  // KUBECONFIG or ~/.kube/config, else the in-cluster service account.
  kc.loadFromDefault();
  return reuseConnections(kc);
}

type AgentFactory = (cluster: k8s.Cluster | null, opts: https.AgentOptions) => http.Agent;

/**
 * client-node 1.x builds a new https.Agent for every request (KubeConfig.createAgent,
 * called from applySecurityAuthentication), so every API call opens a new TCP
 * connection and does a full TLS handshake: measured in bench/client-reuse.ts, that
 * alone bounded the controller's fan-out. This memoizes one keep-alive agent per
 * (server, CA, client certificate): connections are reused as client-go reuses them.
 * Requests that set a socket timeout, and proxied clusters, keep the library's path.
 *
 * No maxSockets cap (callers bound their own concurrency): with a cap, a request waits
 * in the agent's queue and takes a socket the moment the previous response ends, and
 * node-fetch 2.x (client-node's HTTP client) then sees a 'data' listener on that socket
 * when the previous response closes and fails it with a false "Premature close" although
 * the API server applied the write (node-fetch/node-fetch#1767). Measured with a cap of
 * 64: 591 of 1,000 status patches from one client "failed" that way
 * (test/integration/kube/client.test.ts holds the reproduction).
 */
export function reuseConnections(kc: k8s.KubeConfig, maxSockets = Infinity): k8s.KubeConfig {
  const target = kc as unknown as { createAgent: AgentFactory };
  const original: AgentFactory = target.createAgent.bind(kc);
  const agents = new Map<string, http.Agent>();
  target.createAgent = (cluster, opts) => {
    if (cluster?.proxyUrl || opts.timeout !== undefined) return original(cluster, opts);
    const key = JSON.stringify([cluster?.server, pemText(opts.ca), pemText(opts.cert), pemText(opts.key), opts.rejectUnauthorized]);
    let agent = agents.get(key);
    if (!agent) {
      // A rotated client certificate makes a new key: drop the old agents (their sockets close when idle).
      for (const old of agents.values()) old.destroy();
      agents.clear();
      agent = original(cluster, { ...opts, keepAlive: true, maxSockets });
      agents.set(key, agent);
    }
    return agent;
  };
  return kc;
}

/** A CA, certificate or key option as text (PEM strings or Buffers, or a list of them). */
function pemText(v: unknown): string {
  if (typeof v === 'string' || Buffer.isBuffer(v)) return v.toString();
  return Array.isArray(v) ? v.map(pemText).join(',') : '';
}

export const mergePatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch);

/** An EventRecorder's writes through client-node (the controller's; the agent's go through rest.ts). */
export function clientNodeEventWriter(kc: k8s.KubeConfig): EventWriter {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return {
    create: (namespace, body) => core.createNamespacedEvent({ namespace, body }),
    mergePatch: (namespace, name, body) => core.patchNamespacedEvent({ namespace, name, body }, mergePatch),
  };
}

/** Delegated auth's reviews through client-node (the controller's, rate limited with its other requests; the agent's go through rest.ts). */
export function clientNodeReviewApi(kc: k8s.KubeConfig): ReviewApi {
  const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  return {
    createTokenReview: (body) => authn.createTokenReview({ body }),
    createSubjectAccessReview: (body) => authz.createSubjectAccessReview({ body }),
  };
}

/** Custom objects of our API group, one plural at a time. */
export class CustomObjects<T extends object> {
  private readonly api: k8s.CustomObjectsApi;

  constructor(
    kc: k8s.KubeConfig,
    readonly plural: string,
  ) {
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
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body },
      mergePatch,
    )) as T;
  }

  async patchStatus(namespace: string, name: string, body: object): Promise<T> {
    return (await this.api.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: this.plural, name, body },
      mergePatch,
    )) as T;
  }

  async delete(namespace: string, name: string, uid?: string): Promise<void> {
    await this.api.deleteNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: this.plural,
      name,
      propagationPolicy: 'Background',
      // a precondition: never delete a same-named successor by mistake
      body: uid ? { preconditions: { uid } } : undefined,
    });
  }
}
