// Compiles a RouteTableSpec into the table lookup() walks.
//
// Per listener, every (route hostname, rule, match) becomes an entry. The
// listener's route hostnames become buckets of a host table; a bucket holds
// the entries of every hostname that covers it (its own, the wildcards above
// it, and the routes without hostname), sorted by precedence once, here.
// A request thus costs: two host-table probes, then a scan of one sorted
// list until the first entry that matches. The RouteMatch an entry returns
// is built here too, so a hit allocates nothing.

import type {
  GrpcMatchSpec,
  HttpMatchSpec,
  ListenerIdentity,
  ListenerRoutesSpec,
  RequestView,
  RouteMatch,
  RouteSpec,
  RouteTable,
  RouteTableSpec,
  RuleSpec,
} from '../router.ts';
import { RouterErrors } from './errors.ts';
import { createHostTable, type HostTable } from './host-table.ts';
import { hostCovers, hostnameRank, hostOf } from './hostname.ts';
import {
  compileGrpcMatch,
  compileHttpMatch,
  type LookupScratch,
  type Matcher,
  matches,
  PATH_ANY,
  PATH_EXACT,
  PATH_PREFIX,
  PATH_REGEX,
} from './match.ts';
import { comparePrecedence, type RankKey } from './precedence.ts';

interface Entry {
  hostname: string;
  rank: RankKey;
  matcher: Matcher;
  result: RouteMatch;
}

interface Bucket {
  matchers: readonly Matcher[];
  results: readonly RouteMatch[];
}

interface CompiledListener {
  identity: ListenerIdentity;
  buckets: HostTable<Bucket>;
}

// lookup() is synchronous, so one scratch object serves every call.
const scratch: LookupScratch = { query: undefined, grpc: undefined };

const PATH_RANK: Record<number, number> = {
  [PATH_EXACT]: 0,
  [PATH_PREFIX]: 1,
  [PATH_ANY]: 1,
  [PATH_REGEX]: 2,
};

function isGrpcMatch(match: HttpMatchSpec | GrpcMatchSpec): match is GrpcMatchSpec {
  return !('path' in match);
}

function resultFor(
  listener: ListenerIdentity,
  route: RouteSpec,
  rule: RuleSpec,
  index: number,
  match: HttpMatchSpec | GrpcMatchSpec | undefined,
): RouteMatch {
  const prefix =
    match !== undefined && !isGrpcMatch(match) && match.path.type === 'PathPrefix'
      ? match.path.value
      : undefined;
  let totalWeight = 0;
  for (const backend of rule.backends) totalWeight += backend.weight;
  const routeMatch: RouteMatch = {
    route: {
      kind: route.kind,
      namespace: route.namespace,
      name: route.name,
      rule: rule.index,
      match: index,
      ...(rule.name === undefined ? {} : { ruleName: rule.name }),
    },
    listener,
    backends: rule.backends,
    totalWeight,
    filters: rule.filters,
    prefix: prefix ?? (match === undefined && route.kind !== 'GRPCRoute' ? '/' : undefined),
    timeouts: rule.timeouts ?? {},
    retry: rule.retry,
    sessionPersistence: rule.sessionPersistence,
  };
  return routeMatch;
}

function entriesOf(listener: ListenerRoutesSpec): Entry[] {
  const entries: Entry[] = [];
  for (const route of listener.routes) {
    const where = `${route.kind} ${route.namespace}/${route.name}`;
    const bindings =
      route.hostnames.length === 0 ? [{ hostname: '', declared: '' }] : route.hostnames;
    for (const rule of route.rules) {
      for (const backend of rule.backends) {
        if (!(backend.weight > 0))
          throw RouterErrors.INVALID_SPEC(
            where,
            `rule ${rule.index} has a backend with weight ${backend.weight}; leave weight-0 backends out`,
          );
      }
      // A rule without matches matches every request (HTTPRoute's default is PathPrefix `/`).
      const specs: readonly (HttpMatchSpec | GrpcMatchSpec | undefined)[] =
        rule.matches.length === 0 ? [undefined] : rule.matches;
      specs.forEach((spec, index) => {
        const grpc = route.kind === 'GRPCRoute';
        const label = `${where} rule ${rule.index} match ${index}`;
        if (spec !== undefined && grpc !== isGrpcMatch(spec)) {
          throw RouterErrors.INVALID_SPEC(
            label,
            grpc ? 'a GRPCRoute rule has an HTTP match' : 'an HTTP rule has a gRPC match',
          );
        }
        const matcher =
          spec !== undefined && isGrpcMatch(spec)
            ? compileGrpcMatch(spec, label)
            : grpc
              ? compileGrpcMatch(undefined, label)
              : compileHttpMatch(spec as HttpMatchSpec | undefined, label);
        const result = resultFor(listener.listener, route, rule, index, spec);
        for (const binding of bindings) {
          entries.push({
            hostname: binding.hostname,
            rank: rankOf(route, rule, index, matcher, hostnameRank(binding.declared)),
            matcher,
            result,
          });
        }
      });
    }
  }
  return entries;
}

function rankOf(
  route: RouteSpec,
  rule: RuleSpec,
  match: number,
  matcher: Matcher,
  hostRank: number,
): RankKey {
  const http = matcher.grpc ? undefined : matcher;
  const grpc = matcher.grpc ? matcher : undefined;
  return {
    grpc: matcher.grpc,
    hostRank,
    fallback: rule.fallback === true,
    pathType: http === undefined ? 1 : (PATH_RANK[http.pathType] ?? 1),
    pathLength: http === undefined ? 0 : http.pathType === PATH_ANY ? 1 : http.path.length,
    method: http?.method !== undefined,
    headers: matcher.headers.length,
    queryParams: http?.queryParams.length ?? 0,
    serviceLength: grpc?.service?.length ?? 0,
    methodLength: grpc?.method?.length ?? 0,
    createdAt: route.createdAt ?? Number.POSITIVE_INFINITY,
    route: `${route.namespace}/${route.name}`,
    rule: rule.index,
    match,
  };
}

function compileListener(listener: ListenerRoutesSpec): CompiledListener {
  const entries = entriesOf(listener);
  const keys = new Set<string>();
  for (const entry of entries) keys.add(entry.hostname);
  const buckets = [...keys].map((key) => {
    const covering = entries.filter((e) => hostCovers(e.hostname, key));
    covering.sort((a, b) => comparePrecedence(a.rank, b.rank));
    // A rule reached through several route hostnames is tried once, at its best rank.
    const seen = new Set<Matcher>();
    const matchers: Matcher[] = [];
    const results: RouteMatch[] = [];
    for (const entry of covering) {
      if (seen.has(entry.matcher)) continue;
      seen.add(entry.matcher);
      matchers.push(entry.matcher);
      results.push(entry.result);
    }
    return { hostname: key, value: { matchers, results } };
  });
  return { identity: listener.listener, buckets: createHostTable(buckets) };
}

export function createRouteTable(spec: RouteTableSpec): RouteTable {
  const compiled = spec.listeners.map((listener) => ({
    hostname: listener.hostname ?? '',
    singleLabel: listener.singleLabelWildcard === true,
    value: compileListener(listener),
  }));
  const listeners = createHostTable(compiled);
  return {
    port: spec.port,
    protocol: spec.protocol,
    spec,
    lookup(request: RequestView): RouteMatch | undefined {
      const host = hostOf(request.host);
      const listener = listeners.find(host);
      if (listener === undefined) return undefined;
      const bucket = listener.buckets.find(host);
      if (bucket === undefined) return undefined;
      scratch.query = undefined;
      scratch.grpc = undefined;
      const { matchers, results } = bucket;
      for (let i = 0; i < matchers.length; i++) {
        if (matches(matchers[i]!, request, scratch)) {
          scratch.query = undefined;
          scratch.grpc = undefined;
          return results[i];
        }
      }
      scratch.query = undefined;
      scratch.grpc = undefined;
      return undefined;
    },
    listenerFor(host: string): ListenerIdentity | undefined {
      return listeners.find(hostOf(host))?.identity;
    },
  };
}
