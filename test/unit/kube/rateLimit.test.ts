// The client-side rate limit, on a fake clock: a full bucket lets `burst`
// requests through at once, then one every 1/qps seconds, in arrival order;
// idle time refills it up to burst and no further; and every request a
// KubeConfig's clients make (API calls and watches) takes a token.
import * as k8s from '@kubernetes/client-node';
import { KeyedPacer, TokenBucket, rateLimitRequests } from '../../../src/kube/rateLimit.js';

function fakeTime() {
  let now = 0;
  const sleeps: number[] = [];
  return {
    now: () => now,
    advance: (ms: number) => (now += ms),
    sleeps,
    sleep: async (ms: number) => {
      sleeps.push(Math.round(ms));
    },
  };
}

describe('TokenBucket', () => {
  it('lets burst requests through, then spaces the rest 1/qps apart, in order', async () => {
    const t = fakeTime();
    const b = new TokenBucket(20, 30, t.now, t.sleep);
    const waits: number[] = [];
    for (let i = 0; i < 34; i++) waits.push(Math.round(await b.take()));
    expect(waits.slice(0, 30)).toEqual(Array(30).fill(0));
    expect(waits.slice(30)).toEqual([50, 100, 150, 200]);
  });

  it('refills with idle time, up to burst and no further', async () => {
    const t = fakeTime();
    const b = new TokenBucket(10, 5, t.now, t.sleep);
    for (let i = 0; i < 5; i++) await b.take();
    t.advance(300); // three tokens back
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) waits.push(Math.round(await b.take()));
    expect(waits).toEqual([0, 0, 0, 100]);
    t.advance(60_000); // a minute idle: still only 5
    const after: number[] = [];
    for (let i = 0; i < 6; i++) after.push(Math.round(await b.take()));
    expect(after).toEqual([0, 0, 0, 0, 0, 100]);
  });

  it('has no limit at qps 0 or below', async () => {
    const t = fakeTime();
    const b = new TokenBucket(0, 0, t.now, t.sleep);
    for (let i = 0; i < 1000; i++) expect(await b.take()).toBe(0);
  });

  it.each([
    ['x', '30', /--kube-api-qps must be a number, not 'x'/],
    ['', '30', /--kube-api-qps must be a number/],
    ['20', '0', /--kube-api-burst must be a whole number of at least 1, not '0'/],
    ['20', '2.5', /--kube-api-burst/],
  ])('refuses --kube-api-qps=%s --kube-api-burst=%s', (q, b, msg) => expect(() => TokenBucket.fromFlags(q, b)).toThrow(msg));
});

describe('rateLimitRequests', () => {
  function kubeConfig(): k8s.KubeConfig {
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    return kc;
  }

  it('makes every API request and every watch take a token, reporting the verb and the wait', async () => {
    const t = fakeTime();
    const seen: string[] = [];
    const kc = rateLimitRequests(kubeConfig(), new TokenBucket(1, 1, t.now, t.sleep), (verb, s) => seen.push(`${verb} ${s}`));
    const ctx = new k8s.RequestContext('https://127.0.0.1:1/api/v1/nodes', k8s.HttpMethod.GET);
    await kc.applySecurityAuthentication(ctx);
    expect(ctx.getHeaders().Authorization ?? ctx.getHeaders().authorization).toBe('Bearer t');
    await kc.applySecurityAuthentication(new k8s.RequestContext('https://127.0.0.1:1/api/v1/x', k8s.HttpMethod.PATCH));
    await kc.applyToFetchOptions({});
    expect(seen).toEqual(['GET 0', 'PATCH 1', 'WATCH 2']);
    expect(t.sleeps).toEqual([1000, 2000]);
  });
});

describe('KeyedPacer', () => {
  it('lets burst keys go at once, then gives each waiting key one token, in the order they asked', () => {
    const t = fakeTime();
    const p = new KeyedPacer(new TokenBucket(5, 2, t.now, t.sleep));
    expect([p.waitMs('a'), p.waitMs('b'), p.waitMs('c'), p.waitMs('d')]).toEqual([0, 0, 200, 400]);
    // Asking again while waiting takes no second token: e's turn is after d's.
    t.advance(100);
    expect([p.waitMs('c'), p.waitMs('d'), p.waitMs('e')]).toEqual([100, 300, 500]);
    expect([p.pendingMs('c'), p.pendingMs('d'), p.pendingMs('zz')]).toEqual([100, 300, 0]);
    t.advance(100);
    expect(p.pendingMs('c')).toBe(0);
    expect(p.waitMs('c')).toBe(0);
    expect(p.waitMs('c')).toBe(600); // a new change of c: a new token, after e's (due at 600)
  });

  it('drops a forgotten key’s reservation; a qps of 0 never waits', () => {
    const t = fakeTime();
    const p = new KeyedPacer(new TokenBucket(1, 1, t.now, t.sleep));
    expect(p.waitMs('a')).toBe(0);
    expect(p.waitMs('b')).toBe(1000);
    p.forget('b');
    t.advance(1000);
    expect(p.waitMs('b')).toBe(1000); // its old token was spent; it asks anew
    const off = new KeyedPacer(new TokenBucket(0, 1, t.now, t.sleep));
    expect([off.waitMs('a'), off.waitMs('a'), off.waitMs('b')]).toEqual([0, 0, 0]);
  });

  it('names the flags it was built from in its errors', () => {
    expect(() => TokenBucket.fromFlags('x', '10', { qps: '--status-qps', burst: '--status-burst' })).toThrow(
      "--status-qps must be a number, not 'x'",
    );
    expect(() => TokenBucket.fromFlags('5', '0', { qps: '--status-qps', burst: '--status-burst' })).toThrow(
      "--status-burst must be a whole number of at least 1, not '0'",
    );
  });
});
