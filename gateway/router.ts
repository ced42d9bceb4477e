// The gateway's router: from a request (host, path, method, headers, query)
// to the rule that serves it, per port, by the Gateway API's precedence.
//
// Two halves, data then code:
// - RouteTableSpec is plain data (JSON-able, regexes as strings) that
//   gateway/translate/ produces from Gateways, routes and Ingresses: the
//   listeners of one port, the routes attached to each with their hostnames
//   already intersected, and each rule's resolved backends and filters.
// - createRouteTable() (gateway/router/table.ts) compiles a spec once into a
//   RouteTable whose lookup() allocates nothing on a hit: it returns a
//   RouteMatch built at compile time (convention 12).
//
// Lookup order: the listener by request host (exact, then wildcard suffixes
// longest first, then the listener without hostname: "listener isolation");
// then, within that listener, the rules whose route hostnames cover the host,
// most specific route hostname first, then by rule precedence (exact path >
// longest prefix > regex > method > most headers > most query params > oldest
// route > namespace/name > rule order). The first rule that matches wins;
// none is a 404.

import type { FilterConfig, HeaderEdits } from './filters.ts';

export { pickBackend } from './router/backend.ts';
export { createRouteTable } from './router/table.ts';

// --- requests ------------------------------------------------------------------

/**
 * What the router and filters read of a request. Built by the listener from
 * node's request without copying: `headers` is `req.rawHeaders` (name, value,
 * name, value...; names in any case), `path` the request target up to `?`,
 * `query` what follows it ('' when none).
 */
export interface RequestView {
  method: string;
  /** The Host header (HTTP/1.1) or :authority (HTTP/2), port and case as sent. */
  host: string;
  /** Path without the query; the listener should have removed dot segments. */
  path: string;
  query: string;
  headers: readonly string[];
  /** The scheme the client used: the listener's protocol. */
  scheme: 'http' | 'https';
}

// --- what a lookup returns --------------------------------------------------------

export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'Ingress';

/** Which listener a request came through: for logs, metrics and redirect defaults. */
export interface ListenerIdentity {
  /** `namespace/name` of the Gateway; for Ingress listeners, `ingress`. */
  gateway: string;
  /** The listener's name (section name); for Ingress, `ingress-http:<host>` or `ingress-https:<host>`. */
  name: string;
  port: number;
  protocol: 'HTTP' | 'HTTPS';
}

/** Which rule served a request: for logs and metrics. */
export interface RouteIdentity {
  kind: RouteKind;
  namespace: string;
  name: string;
  /** Index of the rule in spec.rules (Ingress: rule index, or -1 for spec.defaultBackend). */
  rule: number;
  /** The rule's name, when it has one. */
  ruleName?: string;
  /** Index of the match within the rule (Ingress: the path index). */
  match: number;
}

/** A Service port a request may be sent to. */
export interface ServiceBackend {
  namespace: string;
  name: string;
  port: number;
}

/** Header edits of the backend-level filters (HTTPBackendRef.filters). */
export interface BackendFilters {
  requestHeaders?: HeaderEdits;
  responseHeaders?: HeaderEdits;
}

export interface ResolvedBackend extends ServiceBackend {
  resolved: true;
  /** > 0: backends with weight 0 are left out of the table. */
  weight: number;
  filters?: BackendFilters;
}

/**
 * A backendRef that could not be resolved: it keeps its share of the traffic,
 * and the requests it would have received get `status` (500), as the spec asks.
 */
export interface UnresolvedBackend {
  resolved: false;
  weight: number;
  status: number;
  /** The spec's reason: BackendNotFound, RefNotPermitted, InvalidKind, UnsupportedValue. */
  reason: string;
  message: string;
}

export type WeightedBackend = ResolvedBackend | UnresolvedBackend;

export interface Timeouts {
  /** Whole request; 0 disables the timeout; absent: the gateway's default. */
  requestMs?: number;
  /** Each attempt to a backend; 0 disables; absent: the gateway's default. */
  backendRequestMs?: number;
}

export interface RetryPolicy {
  /** Response codes that are retried (400-599). */
  codes: readonly number[];
  /** Retries after the first attempt; absent: the gateway's default; 0: none. */
  attempts?: number;
  backoffMs?: number;
}

export interface SessionPersistence {
  type: 'Cookie' | 'Header';
  /** Cookie or header name; absent: the gateway picks one. */
  sessionName?: string;
  absoluteTimeoutMs?: number;
  idleTimeoutMs?: number;
  cookieLifetime?: 'Permanent' | 'Session';
}

export interface RouteMatch {
  route: RouteIdentity;
  listener: ListenerIdentity;
  /** Backends with weight > 0, resolved or not; empty: the request gets 500 (unless filters answer it). */
  backends: readonly WeightedBackend[];
  /** Sum of the backends' weights; 0 when there are none. */
  totalWeight: number;
  filters: FilterConfig;
  /** The matched PathPrefix value, for ReplacePrefixMatch; undefined for other path matches. */
  prefix: string | undefined;
  timeouts: Timeouts;
  retry: RetryPolicy | undefined;
  sessionPersistence: SessionPersistence | undefined;
}

// --- the table's input: plain data -------------------------------------------------

export type PathMatchSpec =
  | { type: 'Exact'; value: string }
  | { type: 'PathPrefix'; value: string }
  | { type: 'RegularExpression'; value: string };

export interface ValueMatchSpec {
  type: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HttpMatchSpec {
  path: PathMatchSpec;
  method?: string;
  headers: readonly ValueMatchSpec[];
  queryParams: readonly ValueMatchSpec[];
}

export interface GrpcMatchSpec {
  /** Exact: service and/or method compared as strings; RegularExpression: as anchored regexes. */
  type: 'Exact' | 'RegularExpression';
  service?: string;
  method?: string;
  headers: readonly ValueMatchSpec[];
}

export interface RuleSpec {
  /** Index in the route's rules (-1: an Ingress defaultBackend). */
  index: number;
  name?: string;
  /** HTTPRoute and Ingress rules carry `http` matches, GRPCRoute rules `grpc`; [] matches every request. */
  matches: readonly HttpMatchSpec[] | readonly GrpcMatchSpec[];
  /** Ranks after every other rule of the listener: an Ingress defaultBackend. */
  fallback?: boolean;
  backends: readonly WeightedBackend[];
  filters: FilterConfig;
  timeouts?: Timeouts;
  retry?: RetryPolicy;
  sessionPersistence?: SessionPersistence;
}

/**
 * A route hostname as it applies on one listener: `hostname` is the
 * intersection with the listener's hostname (what requests are matched
 * against), `declared` the route's own hostname (what precedence is ranked
 * by, as the spec's GatewayRouteHostnameIntersectionPrecedence asks). `''`
 * means "every host of the listener" (a route without hostnames).
 */
export interface HostnameBinding {
  hostname: string;
  declared: string;
}

export interface RouteSpec {
  kind: RouteKind;
  namespace: string;
  name: string;
  /** metadata.creationTimestamp in ms since the epoch; absent ranks as newest. */
  createdAt?: number;
  /** [] means every host of the listener. */
  hostnames: readonly HostnameBinding[];
  rules: readonly RuleSpec[];
}

export interface ListenerRoutesSpec {
  listener: ListenerIdentity;
  /** The listener's hostname; absent: every host not claimed by another listener of the port. */
  hostname?: string;
  /**
   * Ingress wildcards match exactly one label (`*.foo.com` matches
   * `bar.foo.com`, not `baz.bar.foo.com`); Gateway API wildcards match one or more.
   */
  singleLabelWildcard?: boolean;
  routes: readonly RouteSpec[];
}

export interface RouteTableSpec {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  listeners: readonly ListenerRoutesSpec[];
}

// --- the compiled table ------------------------------------------------------------

export interface RouteTable {
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS';
  /** The data it was compiled from, for /debug/state. */
  readonly spec: RouteTableSpec;
  /** The rule that serves the request, or undefined: answer 404 (gRPC: UNIMPLEMENTED). */
  lookup(request: RequestView): RouteMatch | undefined;
  /** The listener a host reaches on this port, or undefined (for TLS SNI and 421 checks). */
  listenerFor(host: string): ListenerIdentity | undefined;
}
