// What forward() is told to do with one request: the ForwardPlan. The router
// builds it per request from a ForwardPolicy it compiled once per route rule
// (header edits, retry, timeouts, affinity, observer), plus the upstream and
// the final path and host its filters decided.

import type { Upstream } from '../upstream.ts';
import { type AffinityPolicy, type CompiledAffinity, compileAffinity } from './affinity.ts';
import { type CompiledHeaderEdits, compileHeaderEdits, type HeaderEdits } from './header-edits.ts';
import { compileRequestHeaderRules, type RequestHeaderRules } from './request-headers.ts';
import { compileResponseEdits } from './response-headers.ts';
import { type CompiledRetryPolicy, compileRetryPolicy, type RetryPolicy } from './retry.ts';
import { createTrustedProxies, type TrustedProxies } from './trusted-proxies.ts';

/** The outcome of one forwarded request, for access logs and metrics. */
export interface ForwardResult {
  /** The upstream's name: `Service default/web:80`. */
  readonly upstreamName: string;
  readonly method: string;
  /** The path sent upstream. */
  readonly path: string;
  /** The client as the gateway believes it (trusted proxies applied). */
  readonly clientIp: string;
  readonly traceparent: string;
  /** Status sent to the client; 0 when none was (the client went away first). */
  readonly status: number;
  /** Response body bytes sent to the client. */
  readonly bytesSent: number;
  /** Request body bytes, when known from Content-Length (-1 otherwise). */
  readonly bytesReceived: number;
  /** performance.now() when forward() was called. */
  readonly startedAt: number;
  /** ms from start to the backend's response headers (-1: none came). */
  readonly upstreamMs: number;
  /** ms from start to the end of the response (or of the exchange). */
  readonly totalMs: number;
  /** `ip:port` of the endpoint of the last attempt, undefined when none was picked. */
  readonly endpoint: string | undefined;
  readonly attempts: number;
  /** PIER_GW_... when the gateway answered (or cut) the response itself. */
  readonly errorCode: string | undefined;
  /** The client went away before the response was complete. */
  readonly clientAborted: boolean;
}

/**
 * The access-log/metrics port. onResponse is called once per request, when
 * its response is over; the result object is only valid during the call
 * (it is the request's own state, not a copy: copy what you keep).
 */
export interface ForwardObserver {
  onResponse(result: ForwardResult): void;
}

export interface Timeouts {
  /** The whole request, from forward() to the end of the response (Gateway API timeouts.request); 0 or absent: none. */
  requestMs?: number;
  /** Each attempt, from sending to the end of the response (timeouts.backendRequest); 0 or absent: none. */
  backendRequestMs?: number;
}

export interface ForwardPolicySpec {
  /** Request header edits, applied in order (rule filters, then backend filters). */
  requestHeaders?: HeaderEdits | readonly (HeaderEdits | undefined)[];
  responseHeaders?: HeaderEdits | readonly (HeaderEdits | undefined)[];
  retry?: RetryPolicy;
  timeouts?: Timeouts;
  /** What the upstream's hashing balancer hashes; ignored by the others. */
  affinity?: AffinityPolicy;
  /** Peers whose X-Forwarded-For/Forwarded are believed (CIDRs); none by default. */
  trustedProxies?: readonly string[] | TrustedProxies;
  observer?: ForwardObserver;
  /** Upgrade protocols passed through (lowercase, e.g. ['websocket']); default every one but h2c. */
  upgrades?: readonly string[];
}

export interface ForwardPolicy {
  readonly requestRules: RequestHeaderRules;
  readonly responseEdits: CompiledHeaderEdits;
  readonly retry: CompiledRetryPolicy;
  readonly requestTimeoutMs: number;
  readonly backendTimeoutMs: number;
  readonly affinity: CompiledAffinity | undefined;
  readonly trustedProxies: TrustedProxies;
  readonly observer: ForwardObserver | undefined;
  /** undefined: every upgrade but h2c. */
  readonly upgrades: ReadonlySet<string> | undefined;
}

export interface ForwardPlan {
  upstream: Upstream;
  policy: ForwardPolicy;
  /** The request target sent upstream (path and query), after rewrites; default req.url. */
  path?: string;
  /** The Host sent upstream when a filter rewrote it; default the client's. */
  host?: string;
  /**
   * Response headers for this request on top of the policy's edits, replacing
   * the backend's of those names (flat name, value pairs, lowercase names: CORS).
   */
  responseAdditions?: readonly string[];
  /**
   * Request headers for this request, replacing the client's of those names
   * (flat pairs, lowercase names: what ExternalAuth's answer adds).
   */
  requestAdditions?: readonly string[];
}

function timeout(name: string, value: number | undefined): number {
  if (value === undefined) return 0;
  if (!(Number.isFinite(value) && value >= 0 && value <= 2 ** 31 - 1)) {
    throw new RangeError(`timeouts.${name} must be 0 to ${2 ** 31 - 1} ms, not ${value}`);
  }
  return value;
}

/** Compiles a policy once per route rule; throws a RangeError naming the bad field. */
export function compileForwardPolicy(spec: ForwardPolicySpec = {}): ForwardPolicy {
  const affinity = compileAffinity(spec.affinity);
  const trusted =
    spec.trustedProxies === undefined
      ? createTrustedProxies([])
      : 'contains' in spec.trustedProxies
        ? spec.trustedProxies
        : createTrustedProxies(spec.trustedProxies as readonly string[]);
  return Object.freeze({
    requestRules: compileRequestHeaderRules(
      compileHeaderEdits(spec.requestHeaders),
      affinity?.header,
    ),
    responseEdits: compileResponseEdits(compileHeaderEdits(spec.responseHeaders)),
    retry: compileRetryPolicy(spec.retry),
    requestTimeoutMs: timeout('request', spec.timeouts?.requestMs),
    backendTimeoutMs: timeout('backendRequest', spec.timeouts?.backendRequestMs),
    affinity,
    trustedProxies: trusted,
    observer: spec.observer,
    upgrades:
      spec.upgrades === undefined ? undefined : new Set(spec.upgrades.map((u) => u.toLowerCase())),
  });
}

/** The policy of a route without any settings. */
export const defaultForwardPolicy: ForwardPolicy = compileForwardPolicy({});
