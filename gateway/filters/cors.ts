// The CORS filter (Gateway API HTTPCORSFilter): a preflight (OPTIONS with
// Origin and Access-Control-Request-Method) is answered here, 200 with the
// Access-Control-Allow-* headers when its Origin is allowed and without
// them when not (the browser then refuses); any other request with an
// allowed Origin goes to the backend and its response gets
// Access-Control-Allow-Origin, -Credentials and -Expose-Headers.
//
// Origins: `*` alone is every origin; otherwise scheme://host[:port], where
// the port defaults to 80/443 by scheme and a `*` in the host is greedy to
// the left (`https://*.example.com` covers `https://a.b.example.com`). With
// allowCredentials, a `*` is never sent back: the request's own Origin,
// method or headers are, as the spec says.

import type { CorsConfig, CorsOrigin, FilterStep } from '../filters.ts';
import { headerValue } from '../router/match.ts';

/** An Origin header as scheme, lowercase host and port (default by scheme); undefined when it is not one. */
export function parseOrigin(value: string): CorsOrigin | undefined {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/:?#]+)(?::(\d{1,5}))?$/.exec(value);
  if (m === null) return undefined;
  const scheme = m[1]!.toLowerCase();
  const port =
    m[3] === undefined ? (scheme === 'https' ? 443 : scheme === 'http' ? 80 : 0) : Number(m[3]);
  if (!(port >= 0 && port <= 65535)) return undefined;
  return { scheme, host: m[2]!.toLowerCase(), port };
}

function hostMatches(pattern: string, host: string): boolean {
  const star = pattern.indexOf('*');
  if (star === -1) return pattern === host;
  if (pattern === '*') return true;
  // `*` covers any number of labels (and dots) to its left.
  const suffix = pattern.slice(star + 1);
  const prefix = pattern.slice(0, star);
  return (
    host.length > prefix.length + suffix.length && host.startsWith(prefix) && host.endsWith(suffix)
  );
}

export function originAllowed(config: CorsConfig, origin: CorsOrigin): boolean {
  if (config.anyOrigin) return true;
  return config.origins.some(
    (o) => o.scheme === origin.scheme && o.port === origin.port && hostMatches(o.host, origin.host),
  );
}

/** The value for Access-Control-Allow-{Methods,Headers}: the list, or `*` (the request's own with credentials). */
function allowList(
  list: readonly string[],
  requested: string | undefined,
  credentials: boolean,
): string | undefined {
  if (list.length === 0) return undefined;
  if (list[0] === '*' && list.length === 1) return credentials ? requested : '*';
  return list.join(', ');
}

export const corsStep: FilterStep<'cors'> = (config, request, decision) => {
  const originHeader = headerValue(request.headers, 'origin');
  if (originHeader === undefined) return false;
  const requestedMethod = headerValue(request.headers, 'access-control-request-method');
  const preflight = request.method === 'OPTIONS' && requestedMethod !== undefined;
  const origin = parseOrigin(originHeader);
  const allowed = origin !== undefined && originAllowed(config, origin);
  const headers: string[] = [];
  if (allowed) {
    const wildcard = config.anyOrigin && !config.allowCredentials;
    headers.push('access-control-allow-origin', wildcard ? '*' : originHeader);
    // The answer depends on the Origin: caches must keep one per Origin.
    if (!wildcard) headers.push('vary', 'Origin');
    if (config.allowCredentials) headers.push('access-control-allow-credentials', 'true');
    const expose = allowList(config.exposeHeaders, undefined, config.allowCredentials);
    if (expose !== undefined) headers.push('access-control-expose-headers', expose);
    if (preflight) {
      const methods = allowList(config.allowMethods, requestedMethod, config.allowCredentials);
      if (methods !== undefined) headers.push('access-control-allow-methods', methods);
      const requestedHeaders = headerValue(request.headers, 'access-control-request-headers');
      const allowHeaders = allowList(
        config.allowHeaders,
        requestedHeaders,
        config.allowCredentials,
      );
      if (allowHeaders !== undefined) headers.push('access-control-allow-headers', allowHeaders);
      headers.push('access-control-max-age', String(config.maxAge));
    }
  }
  decision.responseAdditions = headers;
  if (!preflight) return false;
  decision.action = 'preflight';
  decision.status = 200;
  return true;
};
