// A bound on a promise: dbus-next has no call timeout (a call to a peer that
// never answers hangs for ever), and a Lease request to a frozen API server must
// not hold off the leader's renew deadline. Both go through withTimeout.

/** A call (or a wait) did not finish in time. */
export class CallTimeoutError extends Error {
  readonly code = 'SDW_CALL_TIMEOUT';
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`${what}: no answer within ${timeoutMs} ms`);
    this.name = 'CallTimeoutError';
  }
}

/**
 * Settles like `p`, or rejects with CallTimeoutError after `ms`. `onTimeout`
 * runs first (to drop the library's reply handler). The timer never keeps the
 * process alive and is cleared when `p` settles.
 */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(new CallTimeoutError(what, ms));
    }, ms);
    timer.unref();
    p.finally(() => clearTimeout(timer)).then(resolve, reject);
  });
}
