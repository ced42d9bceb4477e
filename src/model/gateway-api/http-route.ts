// gateway.networking.k8s.io HTTPRoute (v1, also served as v1beta1).
//
// Defaults applied (the CRD's): rules [{matches: [{path: PathPrefix "/"}]}];
// a rule without matches (or with `matches: []`) gets that one match; path
// type PathPrefix and value "/"; header and query param match type Exact;
// parentRef group gateway.networking.k8s.io and kind Gateway; backendRef group
// "", kind Service, weight 1; redirect statusCode 302.

import { z } from 'zod';
import { intRange, list, oneOf, text, uniqueBy } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import { httpRouteFilters } from './http-filters.ts';
import {
  backendRefSchema,
  checkRuleNames,
  duration,
  headerName,
  hostnames,
  parentRefs,
  routeStatusSchema,
  sectionName,
  sessionPersistenceSchema,
  timeoutsSchema,
} from './shared.ts';

export const HTTP_METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'CONNECT',
  'OPTIONS',
  'TRACE',
  'PATCH',
] as const;
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$/;

/** Why an Exact/PathPrefix path value is invalid (the CRD's CEL rules), or undefined. */
export function pathValueProblem(value: string): string | undefined {
  if (!value.startsWith('/')) return "must be an absolute path and start with '/'";
  for (const bad of ['//', '/./', '/../', '%2f', '%2F', '#']) {
    if (value.includes(bad)) return `must not contain '${bad}'`;
  }
  for (const bad of ['/..', '/.']) {
    if (value.endsWith(bad)) return `must not end with '${bad}'`;
  }
  if (!PATH_CHARS.test(value))
    return "must only contain valid path characters (RFC 3986 pchar or '/')";
  return undefined;
}

export const pathMatchSchema = z
  .looseObject({
    type: oneOf(['Exact', 'PathPrefix', 'RegularExpression']).default('PathPrefix'),
    value: text(0, 1024).default('/'),
  })
  .superRefine((m, ctx) => {
    if (m.type === 'RegularExpression') return;
    const problem = pathValueProblem(m.value);
    if (problem !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `${problem} when type is ${m.type}`,
      });
  });

export const headerMatchSchema = z.looseObject({
  type: oneOf(['Exact', 'RegularExpression']).default('Exact'),
  name: headerName(),
  value: text(1, 4096),
});

export const queryParamMatchSchema = z.looseObject({
  type: oneOf(['Exact', 'RegularExpression']).default('Exact'),
  name: headerName(),
  value: text(1, 1024),
});

export const httpRouteMatchSchema = z
  .looseObject({
    path: pathMatchSchema.prefault({}),
    headers: list(headerMatchSchema, 0, 16).optional(),
    queryParams: list(queryParamMatchSchema, 0, 16).optional(),
    method: oneOf(HTTP_METHODS).optional(),
  })
  .superRefine((m, ctx) => {
    uniqueBy(
      m.headers,
      (h) => h.name,
      ctx,
      ['headers'],
      (n) => `duplicate header match "${n}"`,
    );
    uniqueBy(
      m.queryParams,
      (q) => q.name,
      ctx,
      ['queryParams'],
      (n) => `duplicate query param match "${n}"`,
    );
  });

export const httpBackendRefSchema = backendRefSchema({ filters: httpRouteFilters().optional() });

export const retrySchema = z.looseObject({
  codes: z.array(intRange(400, 599)).optional(),
  attempts: intRange(0, 2147483647).optional(),
  backoff: duration().optional(),
});

const DEFAULT_MATCH = { path: { type: 'PathPrefix', value: '/' } } as const;

type FilterLike = {
  type: string;
  requestRedirect?: { path?: { type: string } | undefined } | undefined;
  urlRewrite?: { path?: { type: string } | undefined } | undefined;
};

function replacesPrefix(
  filters: readonly FilterLike[] | undefined,
  field: 'requestRedirect' | 'urlRewrite',
): boolean {
  return filters?.some((f) => f[field]?.path?.type === 'ReplacePrefixMatch') ?? false;
}

export const httpRouteRuleSchema = z
  .looseObject({
    name: sectionName().optional(),
    matches: list(httpRouteMatchSchema, 0, 64).optional(),
    filters: httpRouteFilters().optional(),
    backendRefs: list(httpBackendRefSchema, 0, 16).optional(),
    timeouts: timeoutsSchema.optional(),
    retry: retrySchema.optional(),
    sessionPersistence: sessionPersistenceSchema.optional(),
  })
  .transform((rule) => ({
    ...rule,
    // An absent or empty list matches every request: one PathPrefix "/" match (the CRD's default).
    matches:
      rule.matches === undefined || rule.matches.length === 0
        ? [{ path: { ...DEFAULT_MATCH.path } }]
        : rule.matches,
  }))
  .superRefine((rule, ctx) => {
    const issue = (message: string, path: (string | number)[] = []) =>
      ctx.addIssue({ code: 'custom', path, message });
    const hasBackends = (rule.backendRefs?.length ?? 0) > 0;
    if (hasBackends && rule.filters?.some((f) => f.requestRedirect !== undefined)) {
      issue('RequestRedirect filter must not be used together with backendRefs', ['filters']);
    }
    const onePrefixMatch = rule.matches.length === 1 && rule.matches[0]?.path.type === 'PathPrefix';
    if (!onePrefixMatch) {
      for (const field of ['requestRedirect', 'urlRewrite'] as const) {
        const name = field === 'requestRedirect' ? 'RequestRedirect' : 'URLRewrite';
        if (replacesPrefix(rule.filters, field)) {
          issue(
            `When using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`,
            ['matches'],
          );
        }
        if (rule.backendRefs?.some((b) => replacesPrefix(b.filters, field))) {
          issue(
            `Within backendRefs, when using ${name} filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified`,
            ['matches'],
          );
        }
      }
    }
  });

const MAX_TOTAL_MATCHES = 128;

export const httpRouteSpecSchema = z
  .looseObject({
    parentRefs: parentRefs().optional(),
    hostnames: hostnames().optional(),
    rules: list(httpRouteRuleSchema, 0, 16).optional(),
  })
  .transform((spec) => ({
    ...spec,
    rules: spec.rules === undefined || spec.rules.length === 0 ? [defaultRule()] : spec.rules,
  }))
  .superRefine((spec, ctx) => {
    checkRuleNames(spec.rules, ctx);
    const total = spec.rules.reduce((n, r) => n + r.matches.length, 0);
    if (total > MAX_TOTAL_MATCHES) {
      ctx.addIssue({
        code: 'custom',
        path: ['rules'],
        message: `the total number of matches across all rules must be at most ${MAX_TOTAL_MATCHES} (found ${total})`,
      });
    }
  });

function defaultRule(): HTTPRouteRule {
  return { matches: [{ path: { ...DEFAULT_MATCH.path } }] };
}

export const httpRouteSchema = kubeObject('HTTPRoute', 'dns1123-subdomain', {
  spec: httpRouteSpecSchema.prefault({}),
  status: routeStatusSchema.optional(),
});

export type HTTPRoute = z.output<typeof httpRouteSchema>;
export type HTTPRouteSpec = HTTPRoute['spec'];
export type HTTPRouteRule = z.output<typeof httpRouteRuleSchema>;
export type HTTPRouteMatch = z.output<typeof httpRouteMatchSchema>;
export type HTTPPathMatch = z.output<typeof pathMatchSchema>;
export type HTTPHeaderMatch = z.output<typeof headerMatchSchema>;
export type HTTPQueryParamMatch = z.output<typeof queryParamMatchSchema>;
export type HTTPBackendRef = z.output<typeof httpBackendRefSchema>;
export type HTTPRouteRetry = z.output<typeof retrySchema>;
export type HTTPRouteTimeouts = z.output<typeof timeoutsSchema>;
export type HTTPMethod = (typeof HTTP_METHODS)[number];
