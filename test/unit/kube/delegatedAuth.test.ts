// The /metrics guard's decisions and its caches, against a recording fake of
// the two reviews (the real TokenReview and SubjectAccessReview run in
// test/e2e/security/metrics-auth.test.ts), and the reviews themselves: the
// objects posted through a ReviewApi (the agent's lean client or client-node)
// for /metrics and for the journal's systemdworkloads/log.
import type { V1SubjectAccessReview, V1TokenReview } from '@kubernetes/client-node';
import { apiServerAuthorizer } from '../../../src/agent/journal.js';
import {
  CACHE_TTL_MS,
  apiServerReviews,
  metricsGuard,
  restReviewApi,
  type AccessReviews,
  type ReviewApi,
  type ReviewedUser,
} from '../../../src/kube/delegatedAuth.js';

type MetricsReviews = Pick<AccessReviews, 'authenticate' | 'allowedNonResource'>;

function fakeReviews(users: Record<string, ReviewedUser>, allowed: Set<string>) {
  const calls: string[] = [];
  const reviews: MetricsReviews = {
    async authenticate(token) {
      calls.push(`tokenreview`);
      return users[token];
    },
    async allowedNonResource(user, verb, path) {
      calls.push(`sar ${user.username} ${verb} ${path}`);
      return allowed.has(user.username);
    },
  };
  return { reviews, calls };
}

const USERS = {
  prom: { username: 'system:serviceaccount:monitoring:prometheus', groups: ['system:serviceaccounts'] },
  nobody: { username: 'system:serviceaccount:default:nobody' },
};

describe('metricsGuard', () => {
  it('answers 401 without a bearer token, without asking the API server', async () => {
    const { reviews, calls } = fakeReviews(USERS, new Set());
    const guard = metricsGuard(reviews);
    expect(await guard(undefined)).toEqual({ status: 401, message: 'Unauthorized: a bearer token is required' });
    expect(await guard('Basic dXNlcjpwdw==')).toMatchObject({ status: 401 });
    expect(calls).toEqual([]);
  });

  it('answers 401 for a token the API server does not know', async () => {
    const { reviews } = fakeReviews(USERS, new Set());
    expect(await metricsGuard(reviews)('Bearer forged')).toEqual({ status: 401, message: 'Unauthorized: the token is not valid' });
  });

  it('answers 403 naming the user and the path when get /metrics is not granted, 200 when it is', async () => {
    const { reviews, calls } = fakeReviews(USERS, new Set([USERS.prom.username]));
    const guard = metricsGuard(reviews);
    expect(await guard('Bearer nobody')).toEqual({
      status: 403,
      message: 'Forbidden: user "system:serviceaccount:default:nobody" cannot get path "/metrics"',
    });
    expect(await guard('Bearer prom')).toEqual({ status: 200 });
    expect(calls).toEqual([
      'tokenreview',
      'sar system:serviceaccount:default:nobody get /metrics',
      'tokenreview',
      'sar system:serviceaccount:monitoring:prometheus get /metrics',
    ]);
  });

  it('asks again only after the cached answers expire (denials sooner than grants)', async () => {
    const { reviews, calls } = fakeReviews(USERS, new Set([USERS.prom.username]));
    let now = 0;
    const guard = metricsGuard(reviews, () => now);
    await guard('Bearer prom');
    await guard('Bearer nobody');
    calls.length = 0;
    now = CACHE_TTL_MS.denied + 1;
    await guard('Bearer prom');
    await guard('Bearer nobody');
    expect(calls).toEqual(['sar system:serviceaccount:default:nobody get /metrics']);
    calls.length = 0;
    now = CACHE_TTL_MS.allowed + 1;
    await guard('Bearer prom');
    expect(calls).toEqual(['tokenreview', 'sar system:serviceaccount:monitoring:prometheus get /metrics']);
  });

  it('answers 500 with the reason when a review fails, and caches nothing', async () => {
    let fail = true;
    const reviews: MetricsReviews = {
      async authenticate() {
        if (fail) throw new Error('connection refused');
        return USERS.prom;
      },
      async allowedNonResource() {
        return true;
      },
    };
    const guard = metricsGuard(reviews);
    expect(await guard('Bearer prom')).toEqual({ status: 500, message: 'TokenReview failed: Error: connection refused' });
    fail = false;
    expect(await guard('Bearer prom')).toEqual({ status: 200 });
  });
});

/** A ReviewApi that records what it is sent and answers as an API server would for `users` and `grants`. */
function recordingApi(users: Record<string, ReviewedUser>, grants: (spec: V1SubjectAccessReview['spec']) => boolean) {
  const sent: object[] = [];
  const api: ReviewApi = {
    async createTokenReview(body: V1TokenReview) {
      sent.push(body);
      const user = users[body.spec.token ?? ''];
      return { ...body, status: user ? { authenticated: true, user } : { authenticated: false } };
    },
    async createSubjectAccessReview(body: V1SubjectAccessReview) {
      sent.push(body);
      return { ...body, status: { allowed: grants(body.spec) } };
    },
  };
  return { api, sent };
}

describe('apiServerReviews', () => {
  it('posts a TokenReview and answers with its user, or undefined when the token is not authenticated', async () => {
    const { api, sent } = recordingApi({ prom: USERS.prom }, () => false);
    const reviews = apiServerReviews(api);
    expect(await reviews.authenticate('prom')).toEqual({ ...USERS.prom, uid: undefined, extra: undefined });
    expect(await reviews.authenticate('forged')).toBeUndefined();
    expect(sent[0]).toEqual({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'prom' } });
  });

  it("asks get /metrics as a non-resource URL and the journal's get systemdworkloads/log as a resource, for the reviewed user", async () => {
    const { api, sent } = recordingApi({}, (spec) => spec.nonResourceAttributes?.path === '/metrics');
    const reviews = apiServerReviews(api);
    const user = { username: 'u', uid: '1', groups: ['g'], extra: { scopes: ['s'] } };
    expect(await reviews.allowedNonResource(user, 'get', '/metrics')).toBe(true);
    expect(await apiServerAuthorizer(reviews).allowed(user, 'ns', 'web')).toBe(false);
    expect(sent).toEqual([
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: { user: 'u', uid: '1', groups: ['g'], extra: { scopes: ['s'] }, nonResourceAttributes: { verb: 'get', path: '/metrics' } },
      },
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: 'u',
          uid: '1',
          groups: ['g'],
          extra: { scopes: ['s'] },
          resourceAttributes: {
            group: 'subresources.systemd.operators.dev',
            resource: 'systemdworkloads',
            subresource: 'log',
            verb: 'get',
            namespace: 'ns',
            name: 'web',
          },
        },
      },
    ]);
  });
});

describe('restReviewApi', () => {
  it("creates the reviews at their collections through the lean client's create", async () => {
    const posted: string[] = [];
    const api = restReviewApi({
      create: async <T>(path: string, body: unknown) => {
        posted.push(path);
        return body as T;
      },
    });
    await api.createTokenReview({ spec: {} });
    await api.createSubjectAccessReview({ spec: {} });
    expect(posted).toEqual(['/apis/authentication.k8s.io/v1/tokenreviews', '/apis/authorization.k8s.io/v1/subjectaccessreviews']);
  });
});
