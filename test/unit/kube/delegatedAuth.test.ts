// The /metrics guard's decisions and its caches, against a recording fake of
// the two reviews (the real TokenReview and SubjectAccessReview run in
// test/e2e/security/metrics-auth.test.ts).
import { CACHE_TTL_MS, metricsGuard, type AccessReviews, type ReviewedUser } from '../../../src/kube/delegatedAuth.js';

function fakeReviews(users: Record<string, ReviewedUser>, allowed: Set<string>) {
  const calls: string[] = [];
  const reviews: AccessReviews = {
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
    const reviews: AccessReviews = {
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
