// Hostnames as the Gateway API reads them: exact (`foo.example.com`) or a
// wildcard label in front (`*.example.com`, which matches one or more labels:
// `a.example.com`, `a.b.example.com`, never `example.com` itself). `''`
// stands for "no hostname": every host.

const DOT = 46;

/**
 * The hostname a Host header names: lowercase, without port and without a
 * trailing dot. `Example.COM:8080` -> `example.com`, `[::1]:80` -> `[::1]`.
 * Allocates only when there is something to strip or lowercase.
 */
export function hostOf(header: string): string {
  let end = header.length;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    if (close !== -1) end = close + 1;
  } else {
    const colon = header.lastIndexOf(':');
    // More than one colon is a bare IPv6 literal (invalid in Host, but not ours to reject).
    if (colon !== -1 && header.indexOf(':') === colon) end = colon;
  }
  if (end > 0 && header.charCodeAt(end - 1) === DOT) end -= 1;
  let host = end === header.length ? header : header.slice(0, end);
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      host = host.toLowerCase();
      break;
    }
  }
  return host;
}

export function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/**
 * Whether `host` (exact, lowercase) is one `pattern` covers. `singleLabel`
 * is Ingress's reading of a wildcard: exactly one label in place of `*`.
 */
export function hostMatches(pattern: string, host: string, singleLabel = false): boolean {
  if (pattern === '') return true;
  if (!isWildcard(pattern)) return pattern === host;
  const suffixLength = pattern.length - 1; // `.example.com`
  if (host.length <= suffixLength || !host.endsWith(pattern.slice(1))) return false;
  return !singleLabel || host.lastIndexOf('.', host.length - suffixLength - 1) === -1;
}

/**
 * Whether every host `inner` covers is also covered by `outer`: `''` covers
 * everything; a wildcard covers its exact hosts and its narrower wildcards.
 */
export function hostCovers(outer: string, inner: string): boolean {
  if (outer === '') return true;
  if (inner === '') return false;
  if (!isWildcard(outer)) return outer === inner;
  if (!isWildcard(inner)) return hostMatches(outer, inner);
  return inner === outer || inner.endsWith(outer.slice(1));
}

/**
 * The hostname a route's `route` hostname has on a listener whose hostname is
 * `listener` (undefined: none), or undefined when they do not intersect. The
 * narrower of the two wins: listener `*.example.com` and route
 * `foo.example.com` intersect in `foo.example.com`, listener
 * `foo.example.com` and route `*.example.com` also in `foo.example.com`.
 */
export function intersectHostnames(
  listener: string | undefined,
  route: string,
): string | undefined {
  if (listener === undefined || listener === '') return route;
  if (route === '') return listener;
  if (hostCovers(listener, route)) return route;
  if (hostCovers(route, listener)) return listener;
  return undefined;
}

/**
 * Precedence of a hostname, larger first: characters of a non-wildcard
 * hostname, then characters of the hostname (the spec's order). Packed in one
 * number so sorting compares once.
 */
export function hostnameRank(hostname: string): number {
  const exact = hostname === '' || isWildcard(hostname) ? 0 : hostname.length;
  return exact * 1024 + hostname.length;
}
