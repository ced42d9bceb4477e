// Which rule wins when several match a request, as data (convention 8): an
// ordered list of criteria, each deciding or passing on a tie.
//
// HTTPRoute (and Ingress), from the spec's HTTPRouteRule.matches and
// HTTPRouteSpec.hostnames:
//   route hostname: characters of a non-wildcard hostname, then characters
//   fallback last (an Ingress defaultBackend)
//   Exact path > PathPrefix (longest first) > RegularExpression
//   method match > none
//   most header matches, then most query param matches
// GRPCRoute, from GRPCRouteRule.matches:
//   route hostname as above; most characters of service, then of method;
//   most header matches
// Then, for both: oldest route (creationTimestamp), `namespace/name`
// alphabetically, rule order, match order.

export interface RankKey {
  /** HTTP rules (HTTPRoute, Ingress) and gRPC rules never share a bucket; kind keeps the sort total. */
  grpc: boolean;
  /** hostnameRank() of the route hostname the rule came in by. */
  hostRank: number;
  fallback: boolean;
  /** 0 Exact, 1 PathPrefix, 2 RegularExpression. */
  pathType: number;
  /** Characters of the path value (PathPrefix ranks by it). */
  pathLength: number;
  method: boolean;
  headers: number;
  queryParams: number;
  serviceLength: number;
  methodLength: number;
  /** creationTimestamp in ms; Infinity when unknown (ranks as newest). */
  createdAt: number;
  /** `namespace/name` of the route. */
  route: string;
  rule: number;
  match: number;
}

export interface Criterion {
  name: string;
  /** < 0 when `a` takes precedence over `b`, > 0 when `b` does, 0 on a tie. */
  compare(a: RankKey, b: RankKey): number;
}

const larger = (f: (k: RankKey) => number) => (a: RankKey, b: RankKey) => f(b) - f(a);
const smaller = (f: (k: RankKey) => number) => (a: RankKey, b: RankKey) => f(a) - f(b);
const flag = (f: (k: RankKey) => boolean) => (a: RankKey, b: RankKey) =>
  Number(f(b)) - Number(f(a));

const HOSTNAME: Criterion = { name: 'route hostname', compare: larger((k) => k.hostRank) };
const FALLBACK: Criterion = { name: 'not a default backend', compare: flag((k) => !k.fallback) };

const TIE_BREAKERS: readonly Criterion[] = [
  {
    name: 'oldest route',
    compare: (a, b) => (a.createdAt === b.createdAt ? 0 : a.createdAt < b.createdAt ? -1 : 1),
  },
  {
    name: 'namespace/name',
    compare: (a, b) => (a.route === b.route ? 0 : a.route < b.route ? -1 : 1),
  },
  { name: 'rule order', compare: smaller((k) => k.rule) },
  { name: 'match order', compare: smaller((k) => k.match) },
];

export const HTTP_PRECEDENCE: readonly Criterion[] = [
  HOSTNAME,
  FALLBACK,
  { name: 'path type (Exact, PathPrefix, RegularExpression)', compare: smaller((k) => k.pathType) },
  { name: 'longest path', compare: larger((k) => k.pathLength) },
  { name: 'method match', compare: flag((k) => k.method) },
  { name: 'most header matches', compare: larger((k) => k.headers) },
  { name: 'most query param matches', compare: larger((k) => k.queryParams) },
  ...TIE_BREAKERS,
];

export const GRPC_PRECEDENCE: readonly Criterion[] = [
  HOSTNAME,
  { name: 'longest service', compare: larger((k) => k.serviceLength) },
  { name: 'longest method', compare: larger((k) => k.methodLength) },
  { name: 'most header matches', compare: larger((k) => k.headers) },
  ...TIE_BREAKERS,
];

export function comparePrecedence(a: RankKey, b: RankKey): number {
  if (a.grpc !== b.grpc) return a.grpc ? 1 : -1;
  for (const criterion of a.grpc ? GRPC_PRECEDENCE : HTTP_PRECEDENCE) {
    const order = criterion.compare(a, b);
    if (order !== 0) return order;
  }
  return 0;
}
