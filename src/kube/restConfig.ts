// Credentials for the lean client (rest.ts), found as client-node's
// KubeConfig.loadFromDefault finds them: $KUBECONFIG (its first file), else
// ~/.kube/config, else the pod's service account. The kubeconfig is read with
// client-node's own config_types (a deep import that loads none of its
// generated API), so clusters, users and contexts mean what they mean there.
// Credentials the lean path does not implement (exec plugins, auth providers
// other than a token file, proxies) fall back to a full KubeConfig, loaded only
// then, which signs each request (kc.applyToHTTPSOptions).
import fs from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { newClusters, newContexts, newUsers } from '@kubernetes/client-node/dist/config_types.js';
import type { Cluster, User } from '@kubernetes/client-node/dist/config_types.js';
import type { RestAuth } from './rest.js';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token file is re-read this often (client-go and client-node's FileAuth: every minute). */
const TOKEN_REREAD_MS = 60_000;

export interface LoadedAuth {
  auth: RestAuth;
  /** 'lean' when the credentials needed no KubeConfig; 'kubeconfig' when the full client-node was loaded. */
  via: 'lean' | 'kubeconfig';
}

export async function loadRestAuth(env: NodeJS.ProcessEnv = process.env): Promise<LoadedAuth> {
  const file = env.KUBECONFIG?.split(path.delimiter).find((f) => f) ?? homeConfig();
  if (file) {
    const lean = fromKubeconfigFile(file);
    return lean ? { auth: lean, via: 'lean' } : { auth: await viaKubeConfig(), via: 'kubeconfig' };
  }
  if (fs.existsSync(`${SERVICE_ACCOUNT}/token`)) return { auth: inCluster(env), via: 'lean' };
  return { auth: { server: 'http://localhost:8080', tls: {}, headers: async () => ({}) }, via: 'lean' };
}

function homeConfig(): string | undefined {
  const f = path.join(os.homedir(), '.kube', 'config');
  return fs.existsSync(f) ? f : undefined;
}

function inCluster(env: NodeJS.ProcessEnv): RestAuth {
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const scheme = ['80', '8080', '8001'].includes(port) ? 'http' : 'https';
  return {
    server: `${scheme}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    tls: { ca: fs.readFileSync(`${SERVICE_ACCOUNT}/ca.crt`) },
    headers: tokenFileHeaders(`${SERVICE_ACCOUNT}/token`),
  };
}

/** The kubeconfig's current context as lean auth, or undefined when it needs what only KubeConfig does. */
export function fromKubeconfigFile(file: string): RestAuth | undefined {
  const doc = yaml.load(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  const contexts = newContexts(doc.contexts);
  const ctx = contexts.find((c) => c.name === doc['current-context']) ?? contexts[0];
  const cluster = newClusters(doc.clusters).find((c) => c.name === ctx?.cluster);
  const user: User = newUsers(doc.users).find((u) => u.name === ctx?.user) ?? { name: '' };
  if (!cluster || cluster.proxyUrl || user.exec || user.impersonateUser) return undefined;
  const tokenFile = (user.authProvider as { config?: { tokenFile?: string } } | undefined)?.config?.tokenFile;
  if (user.authProvider && !tokenFile) return undefined;
  const dir = path.dirname(file);
  return {
    server: cluster.server,
    tls: tlsOptions(cluster, user, dir),
    headers: tokenFile
      ? tokenFileHeaders(path.resolve(dir, tokenFile))
      : user.token
        ? async () => ({ Authorization: `Bearer ${user.token}` })
        : async () => ({}),
  };
}

function tlsOptions(cluster: Cluster, user: User, dir: string): https.AgentOptions {
  const material = (file: string | undefined, data: string | undefined): Buffer | undefined =>
    file ? fs.readFileSync(path.resolve(dir, file)) : data ? Buffer.from(data, 'base64') : undefined;
  return {
    ca: material(cluster.caFile, cluster.caData),
    cert: material(user.certFile, user.certData),
    key: material(user.keyFile, user.keyData),
    rejectUnauthorized: !cluster.skipTLSVerify,
    servername: cluster.tlsServerName,
  };
}

/** A bearer token read from a file, re-read every minute (projected service account tokens rotate). */
function tokenFileHeaders(file: string): RestAuth['headers'] {
  let token = '';
  let readAt = 0;
  return async () => {
    if (Date.now() - readAt > TOKEN_REREAD_MS) {
      token = (await fs.promises.readFile(file, 'utf8')).trim();
      readAt = Date.now();
    }
    return { Authorization: `Bearer ${token}` };
  };
}

/** The fallback: client-node's KubeConfig signs every request (it costs the whole library's memory). */
async function viaKubeConfig(): Promise<RestAuth> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  kc.loadFromDefault();
  const applied: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(applied);
  const { ca, cert, key, rejectUnauthorized, servername } = applied;
  return {
    server: kc.getCurrentCluster()?.server ?? '',
    tls: { ca, cert, key, rejectUnauthorized, servername },
    headers: async () => {
      const opts: https.RequestOptions = {};
      await kc.applyToHTTPSOptions(opts);
      return (opts.headers ?? {}) as Record<string, string>;
    },
  };
}
