// A client-side rate limit on every request a KubeConfig's clients make, as
// client-go's --kube-api-qps/--kube-api-burst: a token bucket refilled at qps
// tokens a second that holds at most burst (flowcontrol.NewTokenBucketRateLimiter).
// Requests wait in arrival order. The time each one waited is reported, as
// client-go's rest_client_rate_limiter_duration_seconds, so a slow rollout can
// be told apart from a slow API server.
import type * as k8s from '@kubernetes/client-node';

export class TokenBucket {
  private tokens: number;
  private last: number;

  /** qps <= 0: no limit. */
  constructor(
    readonly qps: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (qps > 0 && (!Number.isFinite(burst) || burst < 1)) throw new Error(`burst must be at least 1 when qps is set, not ${burst}`);
    this.tokens = burst;
    this.last = this.now();
  }

  /** From --kube-api-qps/--kube-api-burst; a qps of 0 or below turns the limit off. */
  static fromFlags(qps: string, burst: string): TokenBucket {
    const q = Number(qps);
    const b = Number(burst);
    if (qps.trim() === '' || !Number.isFinite(q)) throw new Error(`--kube-api-qps must be a number, not '${qps}'`);
    if (q > 0 && !(Number.isInteger(b) && b >= 1)) throw new Error(`--kube-api-burst must be a whole number of at least 1, not '${burst}'`);
    return new TokenBucket(q, b);
  }

  /**
   * Reserves one token and waits until it is due; returns the milliseconds
   * waited. A reservation is taken at once (the balance may go negative), so
   * waiters are served in order without a queue of their own (x/time/rate's way).
   */
  async take(): Promise<number> {
    if (this.qps <= 0) return 0;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    if (this.tokens >= 0) return 0;
    const waitMs = (-this.tokens / this.qps) * 1000;
    await this.sleep(waitMs);
    return waitMs;
  }
}

/**
 * Every request of clients made from `kc` (API clients and watches) takes a
 * token first. `observe(verb, seconds)` sees each wait.
 */
export function rateLimitRequests(
  kc: k8s.KubeConfig,
  bucket: TokenBucket,
  observe?: (verb: string, seconds: number) => void,
): k8s.KubeConfig {
  if (bucket.qps <= 0) return kc;
  const target = kc as unknown as {
    applySecurityAuthentication(context: k8s.RequestContext): Promise<void>;
    applyToFetchOptions(opts: object): Promise<unknown>;
  };
  const auth = target.applySecurityAuthentication.bind(kc);
  const fetchOptions = target.applyToFetchOptions.bind(kc);
  target.applySecurityAuthentication = async (context) => {
    const waited = await bucket.take();
    observe?.(String(context.getHttpMethod()), waited / 1000);
    return auth(context);
  };
  // Watches (and the library's other streaming helpers) build their request here.
  target.applyToFetchOptions = async (opts) => {
    const waited = await bucket.take();
    observe?.('WATCH', waited / 1000);
    return fetchOptions(opts);
  };
  return kc;
}
