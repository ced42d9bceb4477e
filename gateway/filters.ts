// The filters of a matched rule, and the order they run in (convention 8).
//
// A rule's filters are compiled by gateway/translate/ into a FilterConfig:
// one slot per filter type, each at most once (the spec forbids repeating
// them), RequestMirror a list. runFilters() walks FILTER_ORDER and turns the
// config plus the request into a ForwardDecision: the path and Host to send
// upstream, header edits for the request and the response, the mirrors to
// copy the request to, or a response to answer with (a redirect, or 500 for
// a filter Pier cannot run). The glue applies the decision; nothing here
// touches a socket.
//
// Pier runs filters in this fixed order, whatever order the rule lists them
// in (the spec allows a strict order if documented; gateway/README.md says so):
//   1. unresolved             an ExtensionRef Pier does not know: answer 500, never skip it
//   2. cors                   answer a preflight; CORS response headers for an allowed Origin
//   3. requestRedirect        answer 30x with Location (built from the request as received)
//   4. requestHeaderModifier  set, add, remove request headers
//   5. urlRewrite             replace Host and/or the path
//   6. requestMirror          copy the request, as modified by 4 and 5, to each mirror
//   7. responseHeaderModifier set, add, remove response headers (also on redirects and preflights)
// RequestRedirect and URLRewrite never share a rule (the translator refuses it).

import { corsStep } from './filters/cors.ts';
import {
  NO_HEADER_EDITS,
  requestHeaderStep,
  responseHeaderStep,
} from './filters/header-modifier.ts';
import { mirrorStep } from './filters/mirror.ts';
import { redirectStep } from './filters/redirect.ts';
import { unresolvedStep } from './filters/unresolved.ts';
import { urlRewriteStep } from './filters/url-rewrite.ts';
import type { RequestView, RouteMatch, ServiceBackend } from './router.ts';

export { applyHeaderEdits, NO_HEADER_EDITS } from './filters/header-modifier.ts';

export interface Header {
  name: string;
  value: string;
}

/** A HeaderModifier as compiled: names of `remove` lowercase; each name in one list only. */
export interface HeaderEdits {
  /** Replace every value of the header with this one. */
  set: readonly Header[];
  /** Append to the header's value (`a` + `b` -> `a,b`), or add it. */
  add: readonly Header[];
  /** Lowercase names of headers to drop. */
  remove: readonly string[];
}

export type PathModifier =
  | { type: 'ReplaceFullPath'; value: string }
  | { type: 'ReplacePrefixMatch'; value: string };

export interface RedirectConfig {
  /** Absent: the scheme of the request. */
  scheme?: 'http' | 'https';
  /** Absent: the host of the request (without port). */
  hostname?: string;
  path?: PathModifier;
  /** Absent: 80/443 when `scheme` is set, else the listener's port. */
  port?: number;
  statusCode: 301 | 302 | 303 | 307 | 308;
}

export interface RewriteConfig {
  hostname?: string;
  path?: PathModifier;
}

export interface MirrorConfig {
  backend: ServiceBackend;
  /** Share of requests mirrored, 0..1 (percent/100, or numerator/denominator). */
  fraction: number;
}

/** An allowed origin of a CORS filter; `host` may hold one `*` (greedy to the left). */
export interface CorsOrigin {
  scheme: string;
  host: string;
  /** Explicit, or 80/443 by scheme. */
  port: number;
}

export interface CorsConfig {
  /** allowOrigins is `*`. */
  anyOrigin: boolean;
  origins: readonly CorsOrigin[];
  allowCredentials: boolean;
  /** As configured; `['*']` for the wildcard. */
  allowMethods: readonly string[];
  allowHeaders: readonly string[];
  exposeHeaders: readonly string[];
  /** Seconds (Access-Control-Max-Age). */
  maxAge: number;
}

/**
 * ExternalAuth (HTTP): every request is first sent, without its body, to
 * the auth backend; a 200 lets it through (with the allowed headers of the
 * auth response added), anything else is the client's answer. The gateway
 * runs it (gateway/assembly/external-auth.ts), not runFilters: it waits.
 */
export interface ExternalAuthConfig {
  backend: ServiceBackend;
  /** Prepended to the request's path for the auth request ('' for none). */
  pathPrefix: string;
  /** Lowercase names of client headers sent besides Host, Authorization and Content-Length. */
  allowedRequestHeaders: readonly string[];
  /** Lowercase names of auth response headers copied into the upstream request; empty: all but Host. */
  allowedResponseHeaders: readonly string[];
}

export interface FilterConfig {
  cors?: CorsConfig;
  externalAuth?: ExternalAuthConfig;
  requestHeaderModifier?: HeaderEdits;
  responseHeaderModifier?: HeaderEdits;
  requestRedirect?: RedirectConfig;
  urlRewrite?: RewriteConfig;
  requestMirror?: readonly MirrorConfig[];
  /** A filter that cannot run (unknown ExtensionRef): requests get `status` instead of being forwarded. */
  unresolved?: { status: number; message: string };
}

export type FilterName = keyof FilterConfig;

/** What the filters decided for one request. */
export interface ForwardDecision {
  /**
   * forward: proxy to a backend; redirect: answer `status` with `location`;
   * respond: answer `status`; preflight: answer a CORS preflight (`status`, `responseAdditions`).
   */
  action: 'forward' | 'redirect' | 'respond' | 'preflight';
  /** 0 when forwarding. */
  status: number;
  location: string | undefined;
  /** The path to send upstream, without query: rewritten, or the request's. */
  path: string;
  /** The Host header to send upstream when URLRewrite replaced it; undefined: keep the request's. */
  host: string | undefined;
  requestHeaders: HeaderEdits;
  responseHeaders: HeaderEdits;
  /** Where to copy the request; their responses are ignored. */
  mirrors: readonly ServiceBackend[];
  /**
   * Response headers this request gets on top of the rule's edits, replacing
   * the backend's of those names (CORS: they depend on the request's Origin).
   */
  responseAdditions: readonly string[];
}

export interface FilterContext {
  /** The matched PathPrefix value (RouteMatch.prefix), for ReplacePrefixMatch. */
  prefix: string | undefined;
  /** The listener's port, for redirects without scheme or port. */
  listenerPort: number;
  /** A number in [0, 1) per call; mirrors with a fraction below 1 use it. Default Math.random. */
  random?: () => number;
}

/** One filter type's effect: writes into the decision; returns true when the request is answered. */
export type FilterStep<K extends FilterName> = (
  config: NonNullable<FilterConfig[K]>,
  request: RequestView,
  decision: ForwardDecision,
  context: FilterContext,
) => boolean;

/** The order filters run in; a step that answers the request stops the request-side steps. */
export const FILTER_ORDER = [
  'unresolved',
  'cors',
  'requestRedirect',
  'requestHeaderModifier',
  'urlRewrite',
  'requestMirror',
  'responseHeaderModifier',
] as const satisfies readonly FilterName[];

/** Steps that still run once the request has been answered (they shape the response). */
const RESPONSE_STEPS: ReadonlySet<FilterName> = new Set<FilterName>(['responseHeaderModifier']);

/** externalAuth has no step here: it waits for its backend (gateway/assembly/external-auth.ts). */
const STEPS: { [K in Exclude<FilterName, 'externalAuth'>]: FilterStep<K> } = {
  unresolved: unresolvedStep,
  cors: corsStep,
  requestRedirect: redirectStep,
  requestHeaderModifier: requestHeaderStep,
  urlRewrite: urlRewriteStep,
  requestMirror: mirrorStep,
  responseHeaderModifier: responseHeaderStep,
};

const NO_MIRRORS: readonly ServiceBackend[] = Object.freeze([]);
const NO_ADDITIONS: readonly string[] = Object.freeze([]);

/**
 * Runs a rule's filters over a request. Pure: the same config, request and
 * random numbers give the same decision. Allocates the decision and what the
 * filters compute (a rewritten path, a Location), nothing else.
 */
export function runFilters(
  filters: FilterConfig,
  request: RequestView,
  context: FilterContext,
): ForwardDecision {
  const decision: ForwardDecision = {
    action: 'forward',
    status: 0,
    location: undefined,
    path: request.path,
    host: undefined,
    requestHeaders: NO_HEADER_EDITS,
    responseHeaders: NO_HEADER_EDITS,
    mirrors: NO_MIRRORS,
    responseAdditions: NO_ADDITIONS,
  };
  let answered = false;
  for (const name of FILTER_ORDER) {
    const config = filters[name];
    if (config === undefined) continue;
    if (answered && !RESPONSE_STEPS.has(name)) continue;
    const step = STEPS[name] as FilterStep<typeof name>;
    if (step(config as never, request, decision, context)) answered = true;
  }
  return decision;
}

/** runFilters for a router match: the rule's filters, with the match's prefix and listener port. */
export function decide(
  match: RouteMatch,
  request: RequestView,
  random?: () => number,
): ForwardDecision {
  const context: FilterContext =
    random === undefined
      ? { prefix: match.prefix, listenerPort: match.listener.port }
      : { prefix: match.prefix, listenerPort: match.listener.port, random };
  return runFilters(match.filters, request, context);
}
