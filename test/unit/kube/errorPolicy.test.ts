// The error policy, apart from reconcile: what a failed pass does next.
import { ApiException } from '@kubernetes/client-node';
import { ControllerLoop } from '../../../src/kube/controllerLoop.js';
import { defaultErrorPolicy, type ErrorPolicy } from '../../../src/kube/errorPolicy.js';
import { createLogger } from '../../../src/observability/log.js';
import { Metrics } from '../../../src/observability/metrics.js';

const apiError = (code: number, headers: Record<string, string> = {}) => new ApiException(code, `HTTP ${code}`, {}, headers);

describe('defaultErrorPolicy', () => {
  it.each([
    ['a conflict (our cache was behind): backoff, quietly', apiError(409), { retry: 'backoff', level: 'debug' }],
    ['throttled with Retry-After: 3: after 3 s, quietly', apiError(429, { 'retry-after': '3' }), { retry: 3000, level: 'debug' }],
    ['throttled without Retry-After: backoff', apiError(429), { retry: 'backoff', level: 'debug' }],
    ['throttled with an absurd Retry-After: capped at 60 s', apiError(429, { 'retry-after': '86400' }), { retry: 60_000, level: 'debug' }],
    [
      'throttled with a date as Retry-After: backoff',
      apiError(429, { 'retry-after': 'Wed, 21 Oct 2026 07:28:00 GMT' }),
      { retry: 'backoff', level: 'debug' },
    ],
    ['forbidden (RBAC): backoff, warned', apiError(403), { retry: 'backoff', level: 'warn' }],
    ['a server error: backoff, warned', apiError(500), { retry: 'backoff', level: 'warn' }],
    ['a plain error (D-Bus, disk): backoff, warned', new Error('EROFS: read-only file system'), { retry: 'backoff', level: 'warn' }],
    ['a thrown non-error: backoff, warned', 'boom', { retry: 'backoff', level: 'warn' }],
  ])('%s', (_name, err, decision) => {
    expect(defaultErrorPolicy(err)).toEqual(decision);
  });
});

describe('ControllerLoop with an error policy', () => {
  const log = createLogger({}, 'error', () => undefined);

  it('retries after the time the policy gives, and counts the error', async () => {
    const metrics = new Metrics();
    const attempts: number[] = [];
    let second!: () => void;
    const retried = new Promise<void>((r) => (second = r));
    const retryIn40: ErrorPolicy = () => ({ retry: 40, level: 'debug' });
    const loop = new ControllerLoop(
      'policy-test',
      () => {
        attempts.push(Date.now());
        if (attempts.length === 1) return Promise.reject(new Error('first pass fails'));
        second();
        return Promise.resolve({});
      },
      metrics,
      log,
      1,
      { baseMs: 5_000, maxMs: 60_000 },
      retryIn40,
    );
    loop.start();
    loop.queue.add('k');
    await retried;
    loop.stop();
    await loop.drain(1000);
    // The policy's 40 ms, not the key's 5 s backoff.
    expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(35);
    expect(attempts[1]! - attempts[0]!).toBeLessThan(4_000);
    expect(await metrics.registry.metrics()).toMatch(/controller_runtime_reconcile_errors_total\{controller="policy-test"\} 1/);
  });
});
