// HTTPRoute and GRPCRoute rules -> RuleSpec (gateway/router.ts), once per
// route, whatever listeners it attaches to.
//
// A rule that cannot be served is dropped and named (the route then carries
// Accepted True + PartiallyInvalid, or Accepted False when no rule is left);
// a backendRef that cannot be resolved stays in the rule as an unresolved
// backend with its weight, so its share of requests gets 500 (the spec), and
// the route's ResolvedRefs turns False.

import {
  type GRPCRoute,
  type GRPCRouteRule,
  type HTTPRoute,
  type HTTPRouteRule,
  parseDuration,
  type SessionPersistence as SessionPersistenceSpec,
} from '../../src/model.ts';
import type {
  GrpcMatchSpec,
  HttpMatchSpec,
  RetryPolicy,
  RuleSpec,
  SessionPersistence,
  Timeouts,
  ValueMatchSpec,
  WeightedBackend,
} from '../router.ts';
import { type BackendScope, type RefFailure, resolveBackendRef } from './backends.ts';
import { Reason } from './conditions.ts';
import { TranslateProblems } from './problems.ts';
import { compileBackendFilters, compileFilters, type FilterScope } from './route-filters.ts';
import { createdAtOf, keyOf, namespaceOf } from './snapshot.ts';

export interface CompiledRoute {
  kind: 'HTTPRoute' | 'GRPCRoute';
  object: HTTPRoute | GRPCRoute;
  namespace: string;
  name: string;
  /** `namespace/name`. */
  key: string;
  createdAt: number | undefined;
  generation: number | undefined;
  /** spec.hostnames as written; [] when none. */
  hostnames: readonly string[];
  /** The rules that can be served. */
  rules: RuleSpec[];
  /** Why rules were dropped (UnsupportedValue, IncompatibleFilters). */
  dropped: RefFailure[];
  /** References that failed (ResolvedRefs False). */
  refFailures: RefFailure[];
}

type Scope = Omit<BackendScope, 'routeKind' | 'namespace'>;

/** Why an anchored JavaScript regex does not compile, or undefined. */
export function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(`^(?:${pattern})$`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function ruleLabel(index: number, name: string | undefined): string {
  return name === undefined ? String(index) : `${index} (${name})`;
}

function invalidRule(rule: string, what: string): RefFailure {
  return { reason: Reason.UnsupportedValue, error: TranslateProblems.RULE_INVALID(rule, what) };
}

function valueMatches(
  list: readonly { type?: string | undefined; name: string; value: string }[] | undefined,
  what: string,
  rule: string,
): ValueMatchSpec[] | RefFailure {
  const out: ValueMatchSpec[] = [];
  for (const m of list ?? []) {
    const type = m.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression')
      return invalidRule(rule, `${what} ${m.name} has match type ${type}`);
    if (type === 'RegularExpression') {
      const problem = regexProblem(m.value);
      if (problem !== undefined)
        return invalidRule(
          rule,
          `${what} ${m.name}: regular expression does not compile (${problem})`,
        );
    }
    out.push({ type, name: m.name, value: m.value });
  }
  return out;
}

function isFailure(value: unknown): value is RefFailure {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'error' in value;
}

function durationMs(
  value: string | undefined,
  what: string,
  rule: string,
): number | undefined | RefFailure {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  return ms === undefined
    ? invalidRule(rule, `${what} ${JSON.stringify(value)} is not a Gateway API duration`)
    : ms;
}

function timeoutsOf(rule: HTTPRouteRule, label: string): Timeouts | RefFailure {
  const request = durationMs(rule.timeouts?.request, 'timeouts.request', label);
  if (isFailure(request)) return request;
  const backend = durationMs(rule.timeouts?.backendRequest, 'timeouts.backendRequest', label);
  if (isFailure(backend)) return backend;
  if (request !== undefined && backend !== undefined && request !== 0 && backend > request) {
    return invalidRule(label, 'timeouts.backendRequest is longer than timeouts.request');
  }
  const timeouts: Timeouts = {};
  if (request !== undefined) timeouts.requestMs = request;
  if (backend !== undefined) timeouts.backendRequestMs = backend;
  return timeouts;
}

function retryOf(rule: HTTPRouteRule, label: string): RetryPolicy | undefined | RefFailure {
  if (rule.retry === undefined) return undefined;
  const backoff = durationMs(rule.retry.backoff, 'retry.backoff', label);
  if (isFailure(backoff)) return backoff;
  const retry: RetryPolicy = { codes: [...(rule.retry.codes ?? [])] };
  if (rule.retry.attempts !== undefined) retry.attempts = rule.retry.attempts;
  if (backoff !== undefined) retry.backoffMs = backoff;
  return retry;
}

function sessionOf(
  spec: SessionPersistenceSpec | undefined,
  label: string,
): SessionPersistence | undefined | RefFailure {
  if (spec === undefined) return undefined;
  const absolute = durationMs(spec.absoluteTimeout, 'sessionPersistence.absoluteTimeout', label);
  if (isFailure(absolute)) return absolute;
  const idle = durationMs(spec.idleTimeout, 'sessionPersistence.idleTimeout', label);
  if (isFailure(idle)) return idle;
  const session: SessionPersistence = { type: spec.type ?? 'Cookie' };
  if (spec.sessionName !== undefined && spec.sessionName !== '')
    session.sessionName = spec.sessionName;
  if (absolute !== undefined) session.absoluteTimeoutMs = absolute;
  if (idle !== undefined) session.idleTimeoutMs = idle;
  if (spec.cookieConfig?.lifetimeType !== undefined)
    session.cookieLifetime = spec.cookieConfig.lifetimeType;
  return session;
}

interface BackendRefInput {
  group?: string | undefined;
  kind?: string | undefined;
  name: string;
  namespace?: string | undefined;
  port?: number | undefined;
  weight?: number | undefined;
  filters?: readonly unknown[] | undefined;
}

function backendsOf(
  refs: readonly BackendRefInput[] | undefined,
  scope: FilterScope,
  refFailures: RefFailure[],
): WeightedBackend[] | RefFailure {
  const out: WeightedBackend[] = [];
  for (const ref of refs ?? []) {
    const weight = ref.weight ?? 1;
    const resolved = resolveBackendRef(ref, scope);
    const backendFilters = compileBackendFilters(
      ref.filters as Parameters<typeof compileBackendFilters>[0],
      scope,
    );
    if (backendFilters.invalid !== undefined) return backendFilters.invalid;
    if (!resolved.ok) refFailures.push(resolved.failure);
    // Weight 0: no traffic, but the reference is still checked and reported.
    if (!(weight > 0)) continue;
    if (resolved.ok) {
      out.push({
        resolved: true,
        ...resolved.backend,
        weight,
        ...(backendFilters.filters === undefined ? {} : { filters: backendFilters.filters }),
      });
    } else {
      out.push({
        resolved: false,
        weight,
        status: 500,
        reason: resolved.failure.reason,
        message: resolved.failure.error.message,
      });
    }
  }
  return out;
}

function httpMatchesOf(rule: HTTPRouteRule, label: string): HttpMatchSpec[] | RefFailure {
  const out: HttpMatchSpec[] = [];
  for (const match of rule.matches ?? []) {
    const path = match.path ?? { type: 'PathPrefix', value: '/' };
    const type = path.type ?? 'PathPrefix';
    const value = path.value ?? '/';
    if (type !== 'Exact' && type !== 'PathPrefix' && type !== 'RegularExpression') {
      return invalidRule(label, `path match type ${type}`);
    }
    if (type === 'RegularExpression') {
      const problem = regexProblem(value);
      if (problem !== undefined)
        return invalidRule(label, `path regular expression does not compile (${problem})`);
    }
    const headers = valueMatches(match.headers, 'header', label);
    if (isFailure(headers)) return headers;
    const queryParams = valueMatches(match.queryParams, 'query param', label);
    if (isFailure(queryParams)) return queryParams;
    const spec: HttpMatchSpec = { path: { type, value }, headers, queryParams };
    if (match.method !== undefined) spec.method = match.method;
    out.push(spec);
  }
  return out;
}

function grpcMatchesOf(rule: GRPCRouteRule, label: string): GrpcMatchSpec[] | RefFailure {
  const out: GrpcMatchSpec[] = [];
  for (const match of rule.matches ?? []) {
    const type = match.method?.type ?? 'Exact';
    if (type !== 'Exact' && type !== 'RegularExpression')
      return invalidRule(label, `method match type ${type}`);
    const service = match.method?.service;
    const method = match.method?.method;
    if (type === 'RegularExpression') {
      for (const [what, pattern] of [
        ['service', service],
        ['method', method],
      ] as const) {
        if (pattern === undefined) continue;
        const problem = regexProblem(pattern);
        if (problem !== undefined)
          return invalidRule(label, `${what} regular expression does not compile (${problem})`);
      }
    }
    const headers = valueMatches(match.headers, 'header', label);
    if (isFailure(headers)) return headers;
    const spec: GrpcMatchSpec = { type, headers };
    if (service !== undefined && service !== '') spec.service = service;
    if (method !== undefined && method !== '') spec.method = method;
    out.push(spec);
  }
  return out;
}

export function compileHttpRoute(route: HTTPRoute, scope: Scope): CompiledRoute {
  return compileRoute('HTTPRoute', route, scope);
}

export function compileGrpcRoute(route: GRPCRoute, scope: Scope): CompiledRoute {
  return compileRoute('GRPCRoute', route, scope);
}

function compileRoute(
  kind: 'HTTPRoute' | 'GRPCRoute',
  route: HTTPRoute | GRPCRoute,
  scope: Scope,
): CompiledRoute {
  const namespace = namespaceOf(route);
  const compiled: CompiledRoute = {
    kind,
    object: route,
    namespace,
    name: route.metadata.name,
    key: keyOf(route),
    createdAt: createdAtOf(route),
    generation: route.metadata.generation,
    hostnames: route.spec?.hostnames ?? [],
    rules: [],
    dropped: [],
    refFailures: [],
  };
  const rules = (route.spec?.rules ?? []) as readonly (HTTPRouteRule | GRPCRouteRule)[];
  if (!Array.isArray(rules) || !Array.isArray(compiled.hostnames)) {
    // Only an object that skipped validation gets here.
    compiled.hostnames = [];
    compiled.dropped.push({
      reason: Reason.UnsupportedValue,
      error: TranslateProblems.OBJECT_MALFORMED(
        `${kind} ${compiled.key}`,
        'spec.rules or spec.hostnames is not a list',
      ),
    });
    return compiled;
  }
  rules.forEach((rule, index) => {
    const label = ruleLabel(index, rule?.name);
    const refFailures: RefFailure[] = [];
    let result: RuleSpec | RefFailure;
    try {
      result = compileRule(
        kind,
        rule,
        index,
        label,
        { ...scope, routeKind: kind, namespace },
        refFailures,
      );
    } catch (error) {
      // Only an object that skipped validation gets here (a null rule, a string for a list).
      result = invalidRule(label, `cannot be read (${(error as Error).message})`);
    }
    if (isFailure(result)) {
      compiled.dropped.push(result);
      return;
    }
    compiled.rules.push(result);
    compiled.refFailures.push(...refFailures);
  });
  return compiled;
}

/** One rule as the router takes it, or why it cannot be served; failed references go to `refFailures`. */
function compileRule(
  kind: 'HTTPRoute' | 'GRPCRoute',
  rule: HTTPRouteRule | GRPCRouteRule,
  index: number,
  label: string,
  scope: BackendScope,
  refFailures: RefFailure[],
): RuleSpec | RefFailure {
  const matches =
    kind === 'HTTPRoute'
      ? httpMatchesOf(rule as HTTPRouteRule, label)
      : grpcMatchesOf(rule as GRPCRouteRule, label);
  if (isFailure(matches)) return matches;
  const singlePrefixMatch =
    kind === 'HTTPRoute' &&
    matches.length === 1 &&
    (matches[0] as HttpMatchSpec).path.type === 'PathPrefix';
  const filterScope: FilterScope = { ...scope, rule: label, singlePrefixMatch };
  const filters = compileFilters(rule.filters as Parameters<typeof compileFilters>[0], filterScope);
  if (filters.invalid !== undefined) return filters.invalid;
  refFailures.push(...filters.refFailures);
  const backendRefs = (rule.backendRefs ?? []) as readonly BackendRefInput[];
  if (filters.config.requestRedirect !== undefined && backendRefs.length > 0) {
    return {
      reason: Reason.IncompatibleFilters,
      error: TranslateProblems.RULE_INCOMPATIBLE_FILTERS(
        label,
        'RequestRedirect cannot be used together with backendRefs',
      ),
    };
  }
  const backends = backendsOf(backendRefs, filterScope, refFailures);
  if (isFailure(backends)) return backends;
  const spec: RuleSpec = { index, matches, backends, filters: filters.config };
  if (rule.name !== undefined) spec.name = rule.name;
  if (kind === 'HTTPRoute') {
    const timeouts = timeoutsOf(rule as HTTPRouteRule, label);
    if (isFailure(timeouts)) return timeouts;
    if (timeouts.requestMs !== undefined || timeouts.backendRequestMs !== undefined) {
      spec.timeouts = timeouts;
    }
    const retry = retryOf(rule as HTTPRouteRule, label);
    if (isFailure(retry)) return retry;
    if (retry !== undefined) spec.retry = retry;
  }
  const session = sessionOf(rule.sessionPersistence, label);
  if (isFailure(session)) return session;
  if (session !== undefined) spec.sessionPersistence = session;
  return spec;
}
