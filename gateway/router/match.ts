// One rule match, compiled: the path as a type tag and a normalized string,
// regexes built once (anchored: the whole value must match, as RE2 full
// matches do in Envoy-based gateways; the dialect is JavaScript's), header
// names lowercased. matches() reads the request without copying it, except
// the query string, parsed once per lookup and only if a rule asks for it.

import type { GrpcMatchSpec, HttpMatchSpec, RequestView, ValueMatchSpec } from '../router.ts';
import { RouterErrors } from './errors.ts';
import { normalizePrefix, prefixMatches } from './path.ts';

export const PATH_EXACT = 0;
export const PATH_PREFIX = 1;
export const PATH_REGEX = 2;
export const PATH_ANY = 3;

interface ValueMatcher {
  /** Header: lowercase name; query param: the name as written (case-sensitive). */
  name: string;
  exact: string | undefined;
  regex: RegExp | undefined;
}

export interface HttpMatcher {
  grpc: false;
  pathType: number;
  /** Exact: the path; PathPrefix: normalized (no trailing `/`, '' for `/`). */
  path: string;
  pathRegex: RegExp | undefined;
  method: string | undefined;
  headers: readonly ValueMatcher[];
  queryParams: readonly ValueMatcher[];
}

export interface GrpcMatcher {
  grpc: true;
  service: string | undefined;
  method: string | undefined;
  serviceRegex: RegExp | undefined;
  methodRegex: RegExp | undefined;
  headers: readonly ValueMatcher[];
}

export type Matcher = HttpMatcher | GrpcMatcher;

/** Per-lookup lazily computed views of the request, shared by every matcher tried. */
export interface LookupScratch {
  query: URLSearchParams | undefined;
  /** `/service/method` split, or null when the path is not a gRPC path. */
  grpc: { service: string; method: string } | null | undefined;
}

export function compileRegex(pattern: string, where: string): RegExp {
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw RouterErrors.INVALID_REGEX(where, pattern, (error as Error).message);
  }
}

function compileValues(
  specs: readonly ValueMatchSpec[],
  lowercase: boolean,
  where: string,
): ValueMatcher[] {
  const seen = new Set<string>();
  const out: ValueMatcher[] = [];
  for (const spec of specs) {
    const name = lowercase ? spec.name.toLowerCase() : spec.name;
    // The spec: of several entries with one name, only the first counts.
    if (seen.has(name)) continue;
    seen.add(name);
    out.push(
      spec.type === 'RegularExpression'
        ? { name, exact: undefined, regex: compileRegex(spec.value, `${where} ${spec.name}`) }
        : { name, exact: spec.value, regex: undefined },
    );
  }
  return out;
}

export function compileHttpMatch(spec: HttpMatchSpec | undefined, where: string): HttpMatcher {
  const path = spec?.path;
  let pathType = PATH_ANY;
  let value = '';
  let pathRegex: RegExp | undefined;
  if (path !== undefined) {
    if (path.type === 'Exact') {
      pathType = PATH_EXACT;
      value = path.value;
    } else if (path.type === 'PathPrefix') {
      value = normalizePrefix(path.value);
      pathType = value === '' ? PATH_ANY : PATH_PREFIX;
    } else {
      pathType = PATH_REGEX;
      value = path.value;
      pathRegex = compileRegex(path.value, `${where} path`);
    }
  }
  return {
    grpc: false,
    pathType,
    path: value,
    pathRegex,
    method: spec?.method,
    headers: compileValues(spec?.headers ?? [], true, `${where} header`),
    queryParams: compileValues(spec?.queryParams ?? [], false, `${where} query param`),
  };
}

export function compileGrpcMatch(spec: GrpcMatchSpec | undefined, where: string): GrpcMatcher {
  const regex = spec?.type === 'RegularExpression';
  const service = spec?.service === '' ? undefined : spec?.service;
  const method = spec?.method === '' ? undefined : spec?.method;
  return {
    grpc: true,
    service,
    method,
    serviceRegex:
      regex && service !== undefined ? compileRegex(service, `${where} service`) : undefined,
    methodRegex:
      regex && method !== undefined ? compileRegex(method, `${where} method`) : undefined,
    headers: compileValues(spec?.headers ?? [], true, `${where} header`),
  };
}

/** ASCII case-insensitive equality with an already lowercase name, without allocating. */
function sameName(name: string, lower: string): boolean {
  if (name.length !== lower.length) return false;
  for (let i = 0; i < name.length; i++) {
    let c = name.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** The header's value; repeated headers are joined with `,` (RFC 9110 5.3). */
export function headerValue(headers: readonly string[], lowerName: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i + 1 < headers.length; i += 2) {
    if (sameName(headers[i]!, lowerName)) {
      const value = headers[i + 1]!;
      found = found === undefined ? value : `${found},${value}`;
    }
  }
  return found;
}

function valueMatches(m: ValueMatcher, value: string | null | undefined): boolean {
  if (value === undefined || value === null) return false;
  return m.regex === undefined ? value === m.exact : m.regex.test(value);
}

function headersMatch(matchers: readonly ValueMatcher[], headers: readonly string[]): boolean {
  for (let i = 0; i < matchers.length; i++) {
    const m = matchers[i]!;
    if (!valueMatches(m, headerValue(headers, m.name))) return false;
  }
  return true;
}

function splitGrpcPath(path: string): { service: string; method: string } | null {
  // `/package.Service/Method`: exactly two non-empty segments.
  if (path.charCodeAt(0) !== 47) return null;
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return null;
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

function httpMatches(m: HttpMatcher, request: RequestView, scratch: LookupScratch): boolean {
  const path = request.path;
  switch (m.pathType) {
    case PATH_EXACT:
      if (path !== m.path) return false;
      break;
    case PATH_PREFIX:
      if (!prefixMatches(m.path, path)) return false;
      break;
    case PATH_REGEX:
      if (!m.pathRegex!.test(path)) return false;
      break;
  }
  if (m.method !== undefined && request.method !== m.method) return false;
  if (m.headers.length > 0 && !headersMatch(m.headers, request.headers)) return false;
  if (m.queryParams.length > 0) {
    scratch.query ??= new URLSearchParams(request.query);
    for (let i = 0; i < m.queryParams.length; i++) {
      const q = m.queryParams[i]!;
      // The spec recommends the first value of a repeated param; get() returns it.
      if (!valueMatches(q, scratch.query.get(q.name))) return false;
    }
  }
  return true;
}

function grpcMatches(m: GrpcMatcher, request: RequestView, scratch: LookupScratch): boolean {
  if (m.service !== undefined || m.method !== undefined) {
    if (scratch.grpc === undefined) scratch.grpc = splitGrpcPath(request.path);
    const parts = scratch.grpc;
    if (parts === null) return false;
    if (m.service !== undefined) {
      if (
        m.serviceRegex === undefined
          ? parts.service !== m.service
          : !m.serviceRegex.test(parts.service)
      )
        return false;
    }
    if (m.method !== undefined) {
      if (
        m.methodRegex === undefined ? parts.method !== m.method : !m.methodRegex.test(parts.method)
      )
        return false;
    }
  }
  return m.headers.length === 0 || headersMatch(m.headers, request.headers);
}

export function matches(m: Matcher, request: RequestView, scratch: LookupScratch): boolean {
  return m.grpc ? grpcMatches(m, request, scratch) : httpMatches(m, request, scratch);
}
