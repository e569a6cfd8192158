// Who is asking, for an aggregated API server: the user the API server
// authenticated, passed on in request headers by its front proxy. The headers
// are believed only on a connection whose client certificate the requestheader
// CA signed and whose CN is an allowed name: Kubernetes' delegated
// authentication (k8s.io/apiserver's RequestHeader authenticator, which
// metrics-server and KubeVirt's subresource server use). The CA, names and
// header names come from ConfigMap kube-system/extension-apiserver-authentication,
// which the API server publishes from its --requestheader-* flags.
import type http from 'node:http';
import type { TLSSocket } from 'node:tls';
import * as k8s from '@kubernetes/client-node';
import type { Caller } from '../agent/journal.js';

export interface RequestHeaderConfig {
  /** PEM bundle: the CA of the front proxy's client certificate. */
  clientCa: string;
  /** Allowed client certificate CNs; empty: any the CA signed. */
  allowedNames: string[];
  usernameHeaders: string[];
  groupHeaders: string[];
  extraHeaderPrefixes: string[];
}

function jsonList(v: string | undefined, fallback: string[]): string[] {
  if (!v) return fallback;
  const parsed = JSON.parse(v) as unknown;
  return Array.isArray(parsed) ? parsed.map(String) : fallback;
}

/** Reads the ConfigMap; throws with what is missing when the API server has no front proxy configured. */
export async function loadRequestHeaderConfig(kc: k8s.KubeConfig): Promise<RequestHeaderConfig> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const cm = await core.readNamespacedConfigMap({ namespace: 'kube-system', name: 'extension-apiserver-authentication' });
  const d = cm.data ?? {};
  const clientCa = d['requestheader-client-ca-file'];
  if (!clientCa) {
    throw new Error(
      'ConfigMap kube-system/extension-apiserver-authentication has no requestheader-client-ca-file: start kube-apiserver with --requestheader-client-ca-file and --proxy-client-cert-file/--proxy-client-key-file',
    );
  }
  return {
    clientCa,
    allowedNames: jsonList(d['requestheader-allowed-names'], []),
    usernameHeaders: jsonList(d['requestheader-username-headers'], ['X-Remote-User']),
    groupHeaders: jsonList(d['requestheader-group-headers'], ['X-Remote-Group']),
    extraHeaderPrefixes: jsonList(d['requestheader-extra-headers-prefix'], ['X-Remote-Extra-']),
  };
}

function values(req: http.IncomingMessage, header: string): string[] {
  const v = req.headers[header.toLowerCase()];
  return v === undefined ? [] : [v].flat().flatMap((x) => x.split(',').map((s) => s.trim()));
}

/**
 * Whether the request comes from the API server's front proxy: undefined if so,
 * else why not. The TLS server must request client certificates with
 * ca = config.clientCa (so socket.authorized means "the requestheader CA signed it").
 */
export function frontProxyRefusal(req: http.IncomingMessage, config: RequestHeaderConfig): string | undefined {
  const socket = req.socket as TLSSocket;
  const cert = socket.getPeerCertificate?.();
  if (!cert || !cert.subject) return 'no client certificate: only the API server may call this endpoint';
  if (!socket.authorized) return `client certificate not signed by the requestheader CA: ${String(socket.authorizationError)}`;
  const cn = cert.subject.CN;
  if (config.allowedNames.length > 0 && !config.allowedNames.includes(String(cn))) {
    return `client certificate CN '${String(cn)}' is not an allowed front-proxy name`;
  }
  return undefined;
}

/**
 * The user the front proxy passes on, or why there is none. (The aggregator's
 * own availability probe of discovery comes with the certificate and no user.)
 */
export function frontProxyCaller(req: http.IncomingMessage, config: RequestHeaderConfig): Caller | string {
  const refused = frontProxyRefusal(req, config);
  if (refused) return refused;
  const username = config.usernameHeaders.map((h) => req.headers[h.toLowerCase()]).find((v) => typeof v === 'string' && v !== '');
  if (typeof username !== 'string') return 'no user in the front-proxy headers';
  const groups = config.groupHeaders.flatMap((h) => values(req, h));
  const extra: Record<string, string[]> = {};
  for (const [name, v] of Object.entries(req.headers)) {
    const prefix = config.extraHeaderPrefixes.find((p) => name.startsWith(p.toLowerCase()));
    if (!prefix || v === undefined) continue;
    // Extra keys are percent-encoded in header names (k8s.io/apiserver's rule).
    const key = decodeURIComponent(name.slice(prefix.length));
    extra[key] = [...(extra[key] ?? []), ...[v].flat()];
  }
  return { username, groups, extra };
}
