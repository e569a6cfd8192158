// Delegated authentication and authorization, as controller-runtime's
// WithAuthenticationAndAuthorization filter and the API server's webhook
// authenticator and authorizer: a bearer token goes to the API server in a
// TokenReview, and the user it names must be allowed what it asks for (a
// SubjectAccessReview). One implementation serves every endpoint that needs it:
// /metrics (`get` on the non-resource URL /metrics, which the ClusterRole
// systemd-workload-operator-metrics-reader grants) and the journal endpoint and
// logs API (`get systemdworkloads/log`, src/agent/journal.ts).
// The two reviews travel through a ReviewApi: the agent's lean client
// (restReviewApi) or client-node's, rate limited in the controller
// (clientNodeReviewApi in client.ts). This module loads no client-node code.
// /metrics answers are cached as the API server caches its webhooks' (2 min for
// a token, 5 min allowed, 30 s denied), so a scrape every 30 s costs the API
// server nothing after the first.
import { createHash } from 'node:crypto';
import type { V1ResourceAttributes, V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node';
import type { MetricsGuard, MetricsVerdict } from '../observability/server.js';
import type { KubeRest } from './rest.js';

export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The questions the guards ask the API server; a fake in unit tests. */
export interface AccessReviews {
  /** The token's user, or undefined when the token is not valid. */
  authenticate(token: string): Promise<ReviewedUser | undefined>;
  /** Whether the user may `verb` the non-resource `path`. */
  allowedNonResource(user: ReviewedUser, verb: string, path: string): Promise<boolean>;
  /** Whether the user may do what `attributes` say to a resource (verb, group, resource, subresource, namespace, name). */
  allowedResource(user: ReviewedUser, attributes: V1ResourceAttributes): Promise<boolean>;
}

/** How the two reviews reach the API server: each posts its object and answers with the API server's. */
export interface ReviewApi {
  createTokenReview(body: V1TokenReview): Promise<V1TokenReview>;
  createSubjectAccessReview(body: V1SubjectAccessReview): Promise<V1SubjectAccessReview>;
}

/** The reviews through the lean client (the agent's: it never loads client-node). */
export function restReviewApi(rest: Pick<KubeRest, 'create'>): ReviewApi {
  return {
    createTokenReview: (body) => rest.create<V1TokenReview>('/apis/authentication.k8s.io/v1/tokenreviews', body),
    createSubjectAccessReview: (body) => rest.create<V1SubjectAccessReview>('/apis/authorization.k8s.io/v1/subjectaccessreviews', body),
  };
}

/** TokenReview + SubjectAccessReview against the API server, with the caller's own (the process's) credentials. */
export function apiServerReviews(api: ReviewApi): AccessReviews {
  const allowed = async (
    user: ReviewedUser,
    attributes: Pick<V1SubjectAccessReview['spec'], 'resourceAttributes' | 'nonResourceAttributes'>,
  ) => {
    const r = await api.createSubjectAccessReview({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, ...attributes },
    });
    return r.status?.allowed === true;
  };
  return {
    async authenticate(token) {
      const r = await api.createTokenReview({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } });
      const u = r.status?.user;
      if (!r.status?.authenticated || !u?.username) return undefined;
      return { username: u.username, uid: u.uid, groups: u.groups, extra: u.extra };
    },
    allowedNonResource: (user, verb, path) => allowed(user, { nonResourceAttributes: { verb, path } }),
    allowedResource: (user, resourceAttributes) => allowed(user, { resourceAttributes }),
  };
}

/** A small TTL cache with a size bound (oldest entries go first). */
class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; expires: number }>();
  constructor(private readonly max = 1024) {}
  get(key: string, now: number): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.expires <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }
  set(key: string, value: V, ttlMs: number, now: number): void {
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, expires: now + ttlMs });
  }
}

export const CACHE_TTL_MS = { authenticated: 120_000, unauthenticated: 10_000, allowed: 300_000, denied: 30_000 };

/** The /metrics guard: 401 without a valid bearer token, 403 without `get /metrics`. */
export function metricsGuard(
  reviews: Pick<AccessReviews, 'authenticate' | 'allowedNonResource'>,
  clock: () => number = Date.now,
): MetricsGuard {
  const users = new TtlCache<ReviewedUser | null>();
  const decisions = new TtlCache<boolean>();
  return async (authorization): Promise<MetricsVerdict> => {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!m) return { status: 401, message: 'Unauthorized: a bearer token is required' };
    // Tokens are cached by digest, never kept as they are.
    const key = createHash('sha256').update(m[1]!).digest('hex');
    const now = clock();
    let user = users.get(key, now);
    if (user === undefined) {
      try {
        user = (await reviews.authenticate(m[1]!)) ?? null;
      } catch (err) {
        return { status: 500, message: `TokenReview failed: ${String(err)}` };
      }
      users.set(key, user, user ? CACHE_TTL_MS.authenticated : CACHE_TTL_MS.unauthenticated, now);
    }
    if (!user) return { status: 401, message: 'Unauthorized: the token is not valid' };
    const who = JSON.stringify([user.username, user.groups ?? [], user.extra ?? {}]);
    let allowed = decisions.get(who, now);
    if (allowed === undefined) {
      try {
        allowed = await reviews.allowedNonResource(user, 'get', '/metrics');
      } catch (err) {
        return { status: 500, message: `SubjectAccessReview failed: ${String(err)}` };
      }
      decisions.set(who, allowed, allowed ? CACHE_TTL_MS.allowed : CACHE_TTL_MS.denied, now);
    }
    if (!allowed) return { status: 403, message: `Forbidden: user "${user.username}" cannot get path "/metrics"` };
    return { status: 200 };
  };
}
