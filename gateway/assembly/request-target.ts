// The request target (RFC 9112 section 3.2) as the router reads it:
//
// - origin-form `/path?query`: routed by the Host header (HTTP/2: :authority);
// - absolute-form `http://host/path?query`: the authority replaces Host (RFC
//   9112 3.2.2), and the request still reaches only the routes configured
//   for that host: never an open proxy; upstream gets the origin form;
// - anything else (`*`, authority-form outside CONNECT, garbage): 400.
//
// Dot segments are removed (RFC 3986 5.2.4), `%2e` counting as `.`, so
// `/a/../admin` is routed, and forwarded, as `/admin`: a prefix rule cannot
// be slipped past with a path the backend would resolve differently.
//
// readTarget writes into a scratch view (the router's RequestView plus what
// forwarding needs) and allocates only the substrings it must.

import type { RequestView } from '../router.ts';

export interface TargetView extends RequestView {
  /** The target to send upstream when it is not the request's own (absolute-form, dot segments); else undefined. */
  target: string | undefined;
  /** The authority came from an absolute-form target: send it as Host. */
  absolute: boolean;
}

const DOT = 46;
const SLASH = 47;

/** Whether the path may hold a dot segment or an encoded dot: the slow path. */
function mayNeedNormalizing(path: string): boolean {
  return path.includes('/.') || path.includes('%2') ? /\/\.|%2e/i.test(path) : false;
}

/** RFC 3986 remove_dot_segments over an absolute path, with `%2e` decoded to `.` first. */
export function normalizePath(path: string): string {
  const input = path.replace(/%2e/gi, '.');
  const segments = input.split('/');
  const out: string[] = [];
  // segments[0] is '' (the path starts with '/').
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    const last = i === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
    } else if (segment === '..') {
      out.pop();
      if (last) out.push('');
    } else out.push(segment);
  }
  return `/${out.join('/')}`;
}

/**
 * Fills view.host, path, query, target and absolute from `url` (req.url or
 * :path) and `host` (Host or :authority). Returns false when the target is
 * not one the gateway serves (answer 400).
 */
export function readTarget(url: string, host: string, view: TargetView): boolean {
  view.target = undefined;
  view.absolute = false;
  let rest = url;
  if (url.charCodeAt(0) !== SLASH) {
    const scheme = /^https?:\/\//i.exec(url);
    if (scheme === null) return false;
    const start = scheme[0].length;
    let end = start;
    while (end < url.length) {
      const c = url.charCodeAt(end);
      if (c === SLASH || c === 63 /* ? */ || c === 35 /* # */) break;
      end++;
    }
    const authority = url.slice(start, end);
    // userinfo is never sent in http(s) URIs (RFC 9110 4.2.4); an empty authority is invalid.
    if (authority === '' || authority.includes('@')) return false;
    host = authority;
    rest =
      end === url.length
        ? '/'
        : url.charCodeAt(end) === SLASH
          ? url.slice(end)
          : `/${url.slice(end)}`;
    view.absolute = true;
    view.target = rest;
  }
  view.host = host;
  const q = rest.indexOf('?');
  let path = q === -1 ? rest : rest.slice(0, q);
  view.query = q === -1 ? '' : rest.slice(q + 1);
  if (path.charCodeAt(1) === DOT || mayNeedNormalizing(path)) {
    const normalized = normalizePath(path);
    if (normalized !== path) {
      path = normalized;
      view.target = q === -1 ? normalized : normalized + rest.slice(q);
    }
  }
  view.path = path;
  return true;
}
