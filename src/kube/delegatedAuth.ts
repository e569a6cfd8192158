// Delegated authentication and authorization for /metrics, as
// controller-runtime's WithAuthenticationAndAuthorization filter: the bearer
// token goes to the API server in a TokenReview, and the user it names must be
// allowed `get` on the non-resource URL /metrics (a SubjectAccessReview), which
// the ClusterRole systemd-workload-operator-metrics-reader grants. Answers are
// cached as the API server's own webhook authenticator and authorizer cache
// them (2 min for a token, 5 min allowed, 30 s denied), so a scrape every 30 s
// costs the API server nothing after the first.
import { createHash } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import type { MetricsGuard, MetricsVerdict } from '../observability/server.js';

export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two questions the guard asks the API server; a fake in unit tests. */
export interface AccessReviews {
  /** The token's user, or undefined when the token is not valid. */
  authenticate(token: string): Promise<ReviewedUser | undefined>;
  /** Whether the user may `verb` the non-resource `path`. */
  allowedNonResource(user: ReviewedUser, verb: string, path: string): Promise<boolean>;
}

export function apiServerReviews(kc: k8s.KubeConfig): AccessReviews {
  const authn = kc.makeApiClient(k8s.AuthenticationV1Api);
  const authz = kc.makeApiClient(k8s.AuthorizationV1Api);
  return {
    async authenticate(token) {
      const r = await authn.createTokenReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } } });
      const u = r.status?.user;
      if (!r.status?.authenticated || !u?.username) return undefined;
      return { username: u.username, uid: u.uid, groups: u.groups, extra: u.extra };
    },
    async allowedNonResource(user, verb, path) {
      const r = await authz.createSubjectAccessReview({
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: { user: user.username, uid: user.uid, groups: user.groups, extra: user.extra, nonResourceAttributes: { verb, path } },
        },
      });
      return r.status?.allowed === true;
    },
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
export function metricsGuard(reviews: AccessReviews, clock: () => number = Date.now): MetricsGuard {
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
