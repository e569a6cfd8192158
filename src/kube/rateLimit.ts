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

  /** From --kube-api-qps/--kube-api-burst (or the flags named); a qps of 0 or below turns the limit off. */
  static fromFlags(qps: string, burst: string, names = { qps: '--kube-api-qps', burst: '--kube-api-burst' }): TokenBucket {
    const q = Number(qps);
    const b = Number(burst);
    if (qps.trim() === '' || !Number.isFinite(q)) throw new Error(`${names.qps} must be a number, not '${qps}'`);
    if (q > 0 && !(Number.isInteger(b) && b >= 1)) throw new Error(`${names.burst} must be a whole number of at least 1, not '${burst}'`);
    return new TokenBucket(q, b);
  }

  /**
   * Reserves one token and waits until it is due; returns the milliseconds
   * waited. A reservation is taken at once (the balance may go negative), so
   * waiters are served in order without a queue of their own (x/time/rate's way).
   */
  async take(): Promise<number> {
    const waitMs = this.reserve();
    if (waitMs > 0) await this.sleep(waitMs);
    return waitMs;
  }

  /** Reserves one token without waiting; returns the milliseconds until it is due (0: now). */
  reserve(): number {
    if (this.qps <= 0) return 0;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }

  /** The bucket's clock (milliseconds), for callers that hold reservations. */
  clock(): number {
    return this.now();
  }
}

/**
 * One bucket shared by many keys (a node's children), where a key that must wait
 * does not hold a worker: its pass asks waitMs(key), which reserves a token for
 * the key once and answers how long until it is due; the pass comes back then and
 * does its work with the newest state. Keys are served in the order they first
 * asked, and a key asking again while it waits takes no second token.
 */
export class KeyedPacer {
  private readonly due = new Map<string, number>();

  constructor(private readonly bucket: TokenBucket) {}

  /** 0: go now (the key's token is spent). Otherwise the milliseconds until its token is due. */
  waitMs(key: string): number {
    const now = this.bucket.clock();
    let at = this.due.get(key);
    if (at === undefined) {
      at = now + this.bucket.reserve();
      this.due.set(key, at);
    }
    if (at > now) return Math.ceil(at - now);
    this.due.delete(key);
    return 0;
  }

  /** The milliseconds until this key's reserved token is due; 0 when it holds none, or it is due. */
  pendingMs(key: string): number {
    const at = this.due.get(key);
    return at === undefined ? 0 : Math.max(0, Math.ceil(at - this.bucket.clock()));
  }

  /** The key is gone: its reservation, if any, is dropped (the token stays spent). */
  forget(key: string): void {
    this.due.delete(key);
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
