// Small pieces of HTTP field syntax that both directions of the gateway
// use: the client's request headers (forward/request-headers.ts) and the
// backend's response heads (upstream/http1/response-parser.ts).

/** A field name or other token (RFC 9110 5.6.2). */
export const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Control characters other than HTAB, which no field value may hold (obs-text is allowed). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
export const BAD_FIELD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

// Raw spelling -> lowercase, for the names peers send most. Bounded: a peer
// choosing names cannot grow it.
const lowerCache = new Map<string, string>();
const LOWER_CACHE_MAX = 1024;

/** A field name in lowercase, cached for the common spellings ('User-Agent'). */
export function lowerName(name: string): string {
  const cached = lowerCache.get(name);
  if (cached !== undefined) return cached;
  const l = name.toLowerCase();
  if (lowerCache.size < LOWER_CACHE_MAX) lowerCache.set(name, l);
  return l;
}

/** Whether a comma-separated list (Connection, TE) holds `token` (lowercase), in any case. */
export function hasToken(list: string, token: string): boolean {
  const l = list.toLowerCase();
  let i = l.indexOf(token);
  while (i !== -1) {
    const before = i === 0 ? 44 : l.charCodeAt(i - 1);
    const after = i + token.length >= l.length ? 44 : l.charCodeAt(i + token.length);
    if (isBoundary(before) && isBoundary(after)) return true;
    i = l.indexOf(token, i + 1);
  }
  return false;
}

/** `,`, space, tab or `;`. */
function isBoundary(c: number): boolean {
  return c === 44 || c === 32 || c === 9 || c === 59;
}
