// Passive outlier detection: the outcome of every attempt (the forwarder
// reports it) moves a small per-host state machine; hosts that fail in a row
// are ejected from balancing for a growing interval, then return on their own.
//
//   in rotation --N consecutive failures--> ejected until now + base*k (k-th ejection, capped)
//   ejected     --deadline passes---------> in rotation (k decays by one per base interval healthy)
//
// Failures: 5xx responses, resets, timeouts and connect failures; connect
// failures also have their own, lower threshold, since a refused connection
// is a strong signal (a pod that is gone before its EndpointSlice update).
// The percentage cap is decided by the caller, who knows the host counts:
// a host may be ejected only while ejected + 1 <= floor(hosts * max% / 100),
// so a lone host, or the last half of them by default, is never ejected.
//
// Pure: time is a parameter, states are plain objects the upstream keeps on
// its hosts. Unit tests drive it as a table of (outcome, time) -> state.

export interface OutlierPolicy {
  /** Consecutive failures of any kind that eject a host (Envoy: consecutive_5xx). */
  consecutiveFailures: number;
  /** Consecutive connect failures that eject a host. */
  consecutiveConnectFailures: number;
  /** First ejection lasts this long; the k-th lasts k times as long. */
  baseEjectionMs: number;
  /** No ejection lasts longer. */
  maxEjectionMs: number;
  /** At most this share of the hosts (rounded down) are ejected at once. */
  maxEjectionPercent: number;
}

export const defaultOutlierPolicy: Readonly<OutlierPolicy> = Object.freeze({
  consecutiveFailures: 5,
  consecutiveConnectFailures: 3,
  baseEjectionMs: 30_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 50,
});

export interface OutlierState {
  /** Failures of any kind in a row. */
  failures: number;
  /** Connect failures in a row. */
  connectFailures: number;
  /** The ejection multiplier: how many times ejected, less the decay. */
  ejections: number;
  /** Ejected until this time (ms); 0 when in rotation. */
  ejectedUntil: number;
  /** When the host last came back (ms), for the decay of `ejections`. */
  returnedAt: number;
}

/** `cancelled`: the attempt was abandoned (client gone, request timeout): no verdict on the host. */
export type AttemptOutcome = 'success' | 'failure' | 'connect-failure' | 'cancelled';

export function newOutlierState(): OutlierState {
  return { failures: 0, connectFailures: 0, ejections: 0, ejectedUntil: 0, returnedAt: 0 };
}

/** The outcome a response status means: 5xx fail, everything else succeeds. */
export function outcomeOfStatus(status: number): AttemptOutcome {
  return status >= 500 && status <= 599 ? 'failure' : 'success';
}

/** How many hosts may be ejected at once out of `hosts`. */
export function ejectionBudget(hosts: number, policy: OutlierPolicy): number {
  return Math.floor((hosts * policy.maxEjectionPercent) / 100);
}

/**
 * Records one attempt's outcome. Returns true when it ejects the host (the
 * caller then rebuilds its available set and arms a timer for ejectedUntil).
 * `mayEject` says whether the percentage cap leaves room for one more.
 * Outcomes of requests that were in flight while the host was ejected are
 * counted, but cannot eject it again.
 */
export function recordOutcome(
  state: OutlierState,
  outcome: AttemptOutcome,
  now: number,
  policy: OutlierPolicy,
  mayEject: boolean,
): boolean {
  if (outcome === 'cancelled') return false;
  if (outcome === 'success') {
    state.failures = 0;
    state.connectFailures = 0;
    return false;
  }
  state.failures++;
  if (outcome === 'connect-failure') state.connectFailures++;
  else state.connectFailures = 0;
  if (state.ejectedUntil !== 0 || !mayEject) return false;
  if (
    state.failures < policy.consecutiveFailures &&
    state.connectFailures < policy.consecutiveConnectFailures
  ) {
    return false;
  }
  // Decay: one step of the multiplier per base interval spent healthy since
  // the host last came back.
  if (state.ejections > 0 && state.returnedAt > 0) {
    const healthy = Math.floor((now - state.returnedAt) / policy.baseEjectionMs);
    state.ejections = Math.max(0, state.ejections - healthy);
  }
  state.ejections++;
  state.ejectedUntil =
    now + Math.min(policy.baseEjectionMs * state.ejections, policy.maxEjectionMs);
  state.failures = 0;
  state.connectFailures = 0;
  return true;
}

/** Brings the host back when its deadline has passed; true when it did. */
export function expireEjection(state: OutlierState, now: number): boolean {
  if (state.ejectedUntil === 0 || now < state.ejectedUntil) return false;
  state.ejectedUntil = 0;
  state.returnedAt = now;
  return true;
}

/** Checks a policy's numbers, naming the first bad field. */
export function validateOutlierPolicy(policy: OutlierPolicy): string | undefined {
  for (const field of ['consecutiveFailures', 'consecutiveConnectFailures'] as const) {
    if (!Number.isInteger(policy[field]) || policy[field] < 1) {
      return `${field} must be an integer of at least 1, not ${policy[field]}`;
    }
  }
  for (const field of ['baseEjectionMs', 'maxEjectionMs'] as const) {
    if (!Number.isFinite(policy[field]) || policy[field] <= 0) {
      return `${field} must be a positive number of milliseconds, not ${policy[field]}`;
    }
  }
  if (!(policy.maxEjectionPercent >= 0 && policy.maxEjectionPercent <= 100)) {
    return `maxEjectionPercent must be from 0 to 100, not ${policy.maxEjectionPercent}`;
  }
  return undefined;
}
