// What a failed reconcile pass does next, decided apart from reconcile, as
// kube-rs's error_policy is: reconcile says what went wrong by throwing; the
// policy says when to look again and how loudly to say so. Nothing is dropped:
// a key that keeps failing is retried at the backoff's cap for ever, since the
// API server, a node's systemd and a cache that is behind all heal by themselves.
import { statusCode } from './apiErrors.js';

export interface ErrorDecision {
  /** 'backoff': the key's exponential backoff (longer with each failure in a row); a number: retry after that many ms. */
  retry: 'backoff' | number;
  /** The log level of the failure: a conflict or throttling is routine, anything else is worth a warning. */
  level: 'debug' | 'warn';
}

export type ErrorPolicy = (err: unknown) => ErrorDecision;

/** The longest Retry-After we honour; past it the key's own backoff applies. */
const MAX_RETRY_AFTER_MS = 60_000;

/**
 * The operator's policy, for the controller and the agent alike:
 * - 409 Conflict: our cache was behind; retry with backoff, quietly (the watch catches up).
 * - 429 Too Many Requests (API Priority and Fairness): retry when the server's Retry-After says, as client-go does.
 * - anything else: retry with backoff, and warn.
 */
export const defaultErrorPolicy: ErrorPolicy = (err) => {
  const code = statusCode(err);
  if (code === 409) return { retry: 'backoff', level: 'debug' };
  if (code === 429) {
    const after = retryAfterMs(err);
    return { retry: after ?? 'backoff', level: 'debug' };
  }
  return { retry: 'backoff', level: 'warn' };
};

/** The Retry-After header of an API error (seconds), in ms, when present and sane. */
function retryAfterMs(err: unknown): number | undefined {
  const headers = (err as { headers?: Record<string, string | undefined> } | undefined)?.headers;
  const raw = headers?.['retry-after'] ?? headers?.['Retry-After'];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) return undefined;
  return Math.min(Number(raw) * 1000, MAX_RETRY_AFTER_MS);
}
