// HTTPRoute and GRPCRoute filters -> FilterConfig (gateway/filters.ts).
//
// What makes a rule unservable (it is dropped, and the route says why):
// RequestRedirect with URLRewrite, a filter type repeated that may not be,
// ReplacePrefixMatch on a rule without exactly one PathPrefix match, one
// header name in two lists of a modifier, a CORS filter whose origins do not
// parse, ExternalAuth over gRPC or with forwardBody. An ExternalAuth whose
// backend cannot be resolved answers 500 (authorization is never skipped). What only degrades it (ResolvedRefs False, the rule
// is served): a mirror whose backend cannot be resolved (the mirror is left
// out), an ExtensionRef Pier does not know (its requests get 500, as the
// spec says such a filter must never be skipped).

import type {
  GRPCRouteFilter,
  HTTPHeaderFilter,
  HTTPPathModifier,
  HTTPRouteFilter,
} from '../../src/model.ts';
import { parseOrigin } from '../filters/cors.ts';
import type {
  CorsConfig,
  CorsOrigin,
  FilterConfig,
  HeaderEdits,
  MirrorConfig,
  PathModifier,
  RedirectConfig,
  RewriteConfig,
} from '../filters.ts';
import type { BackendFilters } from '../router.ts';
import { type BackendScope, type RefFailure, resolveBackendRef } from './backends.ts';
import { Reason } from './conditions.ts';
import { TranslateProblems } from './problems.ts';

export interface FilterScope extends BackendScope {
  /** How messages name the rule: `0`, or `0 (name)`. */
  rule: string;
  /** The rule has exactly one match and it is a PathPrefix (ReplacePrefixMatch needs that). */
  singlePrefixMatch: boolean;
}

export interface FilterCompilation {
  config: FilterConfig;
  /** Set when the rule cannot be served. */
  invalid: RefFailure | undefined;
  /** References that failed without making the rule unservable. */
  refFailures: RefFailure[];
}

type AnyFilter = HTTPRouteFilter | GRPCRouteFilter;

const ONCE = new Set([
  'RequestHeaderModifier',
  'ResponseHeaderModifier',
  'RequestRedirect',
  'URLRewrite',
  'CORS',
]);

function unsupported(scope: FilterScope, what: string): RefFailure {
  return {
    reason: Reason.UnsupportedValue,
    error: TranslateProblems.RULE_UNSUPPORTED_VALUE(scope.rule, what),
  };
}

function incompatible(scope: FilterScope, what: string): RefFailure {
  return {
    reason: Reason.IncompatibleFilters,
    error: TranslateProblems.RULE_INCOMPATIBLE_FILTERS(scope.rule, what),
  };
}

/** HTTPExternalAuthFilter as the model keeps it (experimental: passed through as written). */
interface ExternalAuthSpec {
  protocol?: unknown;
  backendRef?: { group?: string; kind?: string; name?: unknown; namespace?: string; port?: number };
  http?: { path?: unknown; allowedHeaders?: unknown; allowedResponseHeaders?: unknown };
  forwardBody?: { maxSize?: number };
}

/** A CORS filter as its compiled config, or why it cannot be run. */
export function compileCors(filter: NonNullable<HTTPRouteFilter['cors']>): CorsConfig | string {
  const allowOrigins = filter.allowOrigins ?? [];
  const anyOrigin = allowOrigins.includes('*');
  if (anyOrigin && allowOrigins.length > 1)
    return 'allowOrigins cannot contain * alongside other origins';
  const origins: CorsOrigin[] = [];
  for (const value of anyOrigin ? [] : allowOrigins) {
    const origin = parseOrigin(value);
    if (origin === undefined || (origin.scheme !== 'http' && origin.scheme !== 'https'))
      return `allowOrigins entry ${JSON.stringify(value)} is not an http(s)://host[:port] origin`;
    if (origin.host.indexOf('*') !== origin.host.lastIndexOf('*'))
      return `allowOrigins entry ${JSON.stringify(value)} has more than one *`;
    origins.push(origin);
  }
  const allowMethods = filter.allowMethods ?? [];
  if (allowMethods.includes('*') && allowMethods.length > 1)
    return 'allowMethods cannot contain * alongside other methods';
  return {
    anyOrigin,
    origins,
    allowCredentials: filter.allowCredentials === true,
    allowMethods,
    allowHeaders: filter.allowHeaders ?? [],
    exposeHeaders: filter.exposeHeaders ?? [],
    maxAge: filter.maxAge,
  };
}

/** A header modifier as edits, or the reason it is invalid. */
export function compileHeaderEdits(filter: HTTPHeaderFilter): HeaderEdits | string {
  const seen = new Set<string>();
  const claim = (name: string): string | undefined => {
    const lower = name.toLowerCase();
    if (seen.has(lower)) return `header ${name} appears in more than one of set, add and remove`;
    seen.add(lower);
    return undefined;
  };
  for (const h of [...(filter.set ?? []), ...(filter.add ?? [])]) {
    const problem = claim(h.name);
    if (problem !== undefined) return problem;
  }
  for (const name of filter.remove ?? []) {
    const problem = claim(name);
    if (problem !== undefined) return problem;
  }
  return {
    set: (filter.set ?? []).map((h) => ({ name: h.name, value: h.value })),
    add: (filter.add ?? []).map((h) => ({ name: h.name, value: h.value })),
    remove: (filter.remove ?? []).map((n) => n.toLowerCase()),
  };
}

function pathModifier(modifier: HTTPPathModifier, scope: FilterScope): PathModifier | RefFailure {
  if (modifier.type === 'ReplaceFullPath')
    return { type: 'ReplaceFullPath', value: modifier.replaceFullPath ?? '/' };
  if (!scope.singlePrefixMatch) {
    return incompatible(
      scope,
      'ReplacePrefixMatch needs the rule to have exactly one match, of type PathPrefix',
    );
  }
  return { type: 'ReplacePrefixMatch', value: modifier.replacePrefixMatch ?? '' };
}

function isFailure(value: unknown): value is RefFailure {
  return typeof value === 'object' && value !== null && 'error' in value && 'reason' in value;
}

export function compileFilters(
  filters: readonly AnyFilter[] | undefined,
  scope: FilterScope,
): FilterCompilation {
  const config: FilterConfig = {};
  const refFailures: RefFailure[] = [];
  const fail = (failure: RefFailure): FilterCompilation => ({
    config: {},
    invalid: failure,
    refFailures,
  });
  const types: string[] = (filters ?? []).map((f) => f.type);
  if (types.includes('RequestRedirect') && types.includes('URLRewrite')) {
    return fail(incompatible(scope, 'RequestRedirect and URLRewrite cannot be combined'));
  }
  for (const type of ONCE) {
    if (types.indexOf(type) !== types.lastIndexOf(type))
      return fail(incompatible(scope, `${type} appears more than once`));
  }
  const mirrors: MirrorConfig[] = [];
  for (const filter of filters ?? []) {
    switch (filter.type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const field =
          filter.type === 'RequestHeaderModifier'
            ? filter.requestHeaderModifier
            : filter.responseHeaderModifier;
        const edits = compileHeaderEdits(field ?? {});
        if (typeof edits === 'string') return fail(unsupported(scope, `${filter.type}: ${edits}`));
        if (filter.type === 'RequestHeaderModifier') config.requestHeaderModifier = edits;
        else config.responseHeaderModifier = edits;
        break;
      }
      case 'RequestRedirect': {
        const r = (filter as HTTPRouteFilter).requestRedirect;
        if (r === undefined) break;
        const redirect: RedirectConfig = {
          statusCode: (r.statusCode ?? 302) as RedirectConfig['statusCode'],
        };
        if (r.scheme !== undefined) redirect.scheme = r.scheme;
        if (r.hostname !== undefined) redirect.hostname = r.hostname;
        if (r.port !== undefined) redirect.port = r.port;
        if (r.path !== undefined) {
          const path = pathModifier(r.path, scope);
          if (isFailure(path)) return fail(path);
          redirect.path = path;
        }
        config.requestRedirect = redirect;
        break;
      }
      case 'URLRewrite': {
        const u = (filter as HTTPRouteFilter).urlRewrite;
        if (u === undefined) break;
        const rewrite: RewriteConfig = {};
        if (u.hostname !== undefined) rewrite.hostname = u.hostname;
        if (u.path !== undefined) {
          const path = pathModifier(u.path, scope);
          if (isFailure(path)) return fail(path);
          rewrite.path = path;
        }
        config.urlRewrite = rewrite;
        break;
      }
      case 'RequestMirror': {
        const m = filter.requestMirror;
        if (m === undefined) break;
        const resolved = resolveBackendRef(m.backendRef, scope);
        if (!resolved.ok) {
          // The spec: an unresolvable mirror is dropped from the data plane and reported.
          refFailures.push(resolved.failure);
          break;
        }
        const fraction =
          m.percent !== undefined
            ? m.percent / 100
            : m.fraction !== undefined
              ? m.fraction.numerator / (m.fraction.denominator ?? 100)
              : 1;
        mirrors.push({ backend: resolved.backend, fraction: Math.min(1, Math.max(0, fraction)) });
        break;
      }
      case 'ExtensionRef': {
        const ref = filter.extensionRef;
        const what =
          ref === undefined
            ? '(none)'
            : `${ref.group === '' ? '' : `${ref.group}/`}${ref.kind} ${ref.name}`;
        const error = TranslateProblems.FILTER_EXTENSION_UNKNOWN(scope.rule, what);
        refFailures.push({ reason: Reason.InvalidKind, error });
        config.unresolved = { status: 500, message: error.message };
        break;
      }
      case 'ExternalAuth': {
        const auth = (filter as HTTPRouteFilter).externalAuth as ExternalAuthSpec | undefined;
        if (auth === undefined) break;
        if (auth.protocol !== 'HTTP')
          return fail(
            unsupported(scope, `ExternalAuth protocol ${String(auth.protocol)} (Pier speaks HTTP)`),
          );
        if ((auth.forwardBody?.maxSize ?? 0) > 0)
          return fail(unsupported(scope, 'ExternalAuth forwardBody (the body is never sent)'));
        const ref = auth.backendRef;
        const resolved =
          ref === undefined || typeof ref.name !== 'string'
            ? undefined
            : resolveBackendRef(ref as Parameters<typeof resolveBackendRef>[0], scope);
        if (resolved === undefined || !resolved.ok) {
          // Never skip authorization: without its backend the rule answers 500 (fail closed).
          const failure =
            resolved?.failure ?? unsupported(scope, 'ExternalAuth without a backendRef');
          refFailures.push(failure);
          config.unresolved = { status: 500, message: failure.error.message };
          break;
        }
        const lower = (names: unknown) =>
          Array.isArray(names)
            ? names.filter((n) => typeof n === 'string').map((n: string) => n.toLowerCase())
            : [];
        config.externalAuth = {
          backend: resolved.backend,
          pathPrefix: typeof auth.http?.path === 'string' ? auth.http.path.replace(/\/$/, '') : '',
          allowedRequestHeaders: lower(auth.http?.allowedHeaders),
          allowedResponseHeaders: lower(auth.http?.allowedResponseHeaders),
        };
        break;
      }
      case 'CORS': {
        const field = (filter as HTTPRouteFilter).cors;
        if (field === undefined) break;
        const cors = compileCors(field);
        if (typeof cors === 'string') return fail(unsupported(scope, `CORS: ${cors}`));
        config.cors = cors;
        break;
      }
      default:
        return fail(unsupported(scope, `filter type ${(filter as AnyFilter).type}`));
    }
  }
  if (mirrors.length > 0) config.requestMirror = mirrors;
  return { config, invalid: undefined, refFailures };
}

/** HTTPBackendRef.filters: Pier runs the header modifiers there; other types make the rule unservable. */
export function compileBackendFilters(
  filters: readonly AnyFilter[] | undefined,
  scope: FilterScope,
): { filters: BackendFilters | undefined; invalid: RefFailure | undefined } {
  if (filters === undefined || filters.length === 0)
    return { filters: undefined, invalid: undefined };
  const out: BackendFilters = {};
  for (const filter of filters) {
    if (filter.type !== 'RequestHeaderModifier' && filter.type !== 'ResponseHeaderModifier') {
      return {
        filters: undefined,
        invalid: unsupported(scope, `filter type ${filter.type} on a backendRef`),
      };
    }
    const field =
      filter.type === 'RequestHeaderModifier'
        ? filter.requestHeaderModifier
        : filter.responseHeaderModifier;
    const edits = compileHeaderEdits(field ?? {});
    if (typeof edits === 'string')
      return {
        filters: undefined,
        invalid: unsupported(scope, `backendRef ${filter.type}: ${edits}`),
      };
    if (filter.type === 'RequestHeaderModifier') {
      if (out.requestHeaders !== undefined)
        return {
          filters: undefined,
          invalid: incompatible(
            scope,
            'RequestHeaderModifier appears more than once on a backendRef',
          ),
        };
      out.requestHeaders = edits;
    } else {
      if (out.responseHeaders !== undefined)
        return {
          filters: undefined,
          invalid: incompatible(
            scope,
            'ResponseHeaderModifier appears more than once on a backendRef',
          ),
        };
      out.responseHeaders = edits;
    }
  }
  return { filters: out, invalid: undefined };
}
