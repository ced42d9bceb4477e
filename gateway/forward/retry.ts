// Retry decisions, pure. An attempt that failed is tried again on another
// endpoint only when all of these hold:
// - attempts are left (Gateway API `attempts`: retries after the first);
// - nothing of the response has reached the client yet;
// - the request body can be sent again: there was none, it was small and
//   buffered, or the failed attempt never read it (a connect failure);
// - the failure is one the policy retries: connect failures (always safe,
//   the request never left), resets and timeouts before a response, or a
//   status in `codes`;
// - for everything but connect failures: the method is idempotent (RFC 9110
//   section 9.2.2), unless the policy allows non-idempotent ones.
//
// Without a route retry policy the gateway still retries a connect failure
// once on another endpoint: the request never reached a backend, and pods
// that are gone before their EndpointSlice update are common.

export interface RetryPolicy {
  /** Retries after the first attempt (Gateway API HTTPRouteRetry.attempts); default 1. */
  attempts?: number;
  /** Response statuses retried (HTTPRouteRetry.codes); default none. */
  codes?: readonly number[];
  /** Least wait before a retry (HTTPRouteRetry.backoff); doubles each retry, with jitter. Default 25 ms. */
  backoffMs?: number;
  /** Retry connect failures (default true). */
  connectFailure?: boolean;
  /** Retry resets before the response started (default true). */
  reset?: boolean;
  /** Retry attempts that hit the backendRequest timeout (default true). */
  timeout?: boolean;
  /** Also retry POST, PATCH and the like on resets, timeouts and statuses (default false). */
  nonIdempotent?: boolean;
  /** Bodies up to this size are buffered so that a retry can send them again (default 64 KiB). */
  maxBufferedBodyBytes?: number;
}

export interface CompiledRetryPolicy {
  readonly attempts: number;
  /** Index by status - 400 (codes are 400..599). */
  readonly codes: Uint8Array;
  readonly anyCodes: boolean;
  readonly backoffMs: number;
  readonly connectFailure: boolean;
  readonly reset: boolean;
  readonly timeout: boolean;
  readonly nonIdempotent: boolean;
  readonly maxBufferedBodyBytes: number;
}

export type FailureKind = 'connect' | 'reset' | 'timeout' | 'status' | 'protocol';

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method);
}

/** The policy when a route has none: one retry, of connect failures only. */
export const connectRetryOnly: CompiledRetryPolicy = Object.freeze({
  attempts: 1,
  codes: new Uint8Array(200),
  anyCodes: false,
  backoffMs: 0,
  connectFailure: true,
  reset: false,
  timeout: false,
  nonIdempotent: false,
  maxBufferedBodyBytes: 0,
});

export function compileRetryPolicy(policy: RetryPolicy | undefined): CompiledRetryPolicy {
  if (policy === undefined) return connectRetryOnly;
  const attempts = policy.attempts ?? 1;
  if (!Number.isInteger(attempts) || attempts < 0 || attempts > 10) {
    throw new RangeError(`retry attempts must be an integer from 0 to 10, not ${attempts}`);
  }
  const codes = new Uint8Array(200);
  for (const code of policy.codes ?? []) {
    if (!Number.isInteger(code) || code < 400 || code > 599) {
      throw new RangeError(`retry code ${code} must be an HTTP status from 400 to 599`);
    }
    codes[code - 400] = 1;
  }
  const backoffMs = policy.backoffMs ?? 25;
  if (!(backoffMs >= 0 && backoffMs <= 60_000)) {
    throw new RangeError(`retry backoff must be 0 to 60000 ms, not ${backoffMs}`);
  }
  const maxBufferedBodyBytes = policy.maxBufferedBodyBytes ?? 64 * 1024;
  if (
    !(
      Number.isInteger(maxBufferedBodyBytes) &&
      maxBufferedBodyBytes >= 0 &&
      maxBufferedBodyBytes <= 16 * 1024 * 1024
    )
  ) {
    throw new RangeError(
      `retry maxBufferedBodyBytes must be 0 to 16 MiB, not ${maxBufferedBodyBytes}`,
    );
  }
  return Object.freeze({
    attempts,
    codes,
    anyCodes: (policy.codes ?? []).length > 0,
    backoffMs,
    connectFailure: policy.connectFailure ?? true,
    reset: policy.reset ?? true,
    timeout: policy.timeout ?? true,
    nonIdempotent: policy.nonIdempotent ?? false,
    maxBufferedBodyBytes,
  });
}

/** Whether the policy retries this status (the forwarder then holds the response back). */
export function retriesStatus(policy: CompiledRetryPolicy, status: number): boolean {
  return policy.anyCodes && status >= 400 && status <= 599 && policy.codes[status - 400] === 1;
}

export interface RetryQuestion {
  /** Attempts made so far, the failed one included. */
  attempts: number;
  failure: FailureKind;
  /** The status, for `status` failures. */
  status: number;
  method: string;
  /** Something of the response went to the client. */
  responseStarted: boolean;
  /** The body can be sent again (none, buffered, or never read). */
  bodyReplayable: boolean;
}

export function shouldRetry(policy: CompiledRetryPolicy, q: RetryQuestion): boolean {
  if (q.attempts > policy.attempts || q.responseStarted || !q.bodyReplayable) return false;
  switch (q.failure) {
    case 'connect':
      return policy.connectFailure;
    case 'reset':
      if (!policy.reset) return false;
      break;
    case 'timeout':
      if (!policy.timeout) return false;
      break;
    case 'status':
      if (!retriesStatus(policy, q.status)) return false;
      break;
    case 'protocol':
      return false;
  }
  return policy.nonIdempotent || IDEMPOTENT.has(q.method);
}

/** Wait before retry number `retry` (1-based): backoff * 2^(retry-1), up to 1.5x of that with jitter, capped at 10x backoff. */
export function retryDelay(
  policy: CompiledRetryPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  if (policy.backoffMs === 0) return 0;
  const base = Math.min(policy.backoffMs * 2 ** (retry - 1), policy.backoffMs * 10);
  return Math.round(base * (1 + random() * 0.5));
}
