// The backend's response headers as the client gets them: hop-by-hop headers
// removed (Connection and what it names, Keep-Alive, Proxy-Connection,
// Transfer-Encoding, TE, Upgrade unless this is a 101, Proxy-*, and
// HTTP2-Settings), the route's response edits applied, in one pass over
// undici's parsed header object (lowercase names; arrays for repeats).
// Node re-frames the body itself (chunked or Content-Length), and an HTTP/2
// client must not see connection-specific headers at all (Node would throw).

import type { CompiledHeaderEdits } from './header-edits.ts';
import { HOP_BY_HOP_HEADERS } from './hop-by-hop.ts';

export type ParsedHeaders = Record<string, string | string[] | undefined>;

/** Names route response edits may not set, add or remove (besides Proxy-*): framing and hop-by-hop. */
export const PROTECTED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP_HEADERS,
  'content-length',
  'trailer',
]);

/**
 * Response edits without the protected names: an edit of Content-Length or
 * Transfer-Encoding would make Node refuse or misframe the response.
 */
export function compileResponseEdits(edits: CompiledHeaderEdits): CompiledHeaderEdits {
  const isProtected = (name: string) =>
    PROTECTED_RESPONSE_HEADERS.has(name) || name.startsWith('proxy-');
  let touched = false;
  for (const name of edits.drop) if (isProtected(name)) touched = true;
  for (let i = 0; i < edits.append.length; i += 2)
    if (isProtected(edits.append[i]!.toLowerCase())) touched = true;
  if (!touched) return edits;
  const drop = new Set([...edits.drop].filter((name) => !isProtected(name)));
  const append: string[] = [];
  for (let i = 0; i < edits.append.length; i += 2) {
    if (!isProtected(edits.append[i]!.toLowerCase()))
      append.push(edits.append[i]!, edits.append[i + 1]!);
  }
  return Object.freeze({
    drop,
    append: Object.freeze(append),
    empty: drop.size === 0 && append.length === 0,
  });
}

const hopByHop = new Set(HOP_BY_HOP_HEADERS);

function isPlainConnection(value: string | string[]): boolean {
  if (typeof value !== 'string' || value.length > 10) return false;
  const l = value.toLowerCase();
  return l === 'keep-alive' || l === 'close' || l === 'upgrade';
}

/**
 * Pushes the headers to send to `out` (flat name, value pairs). `upgrade`
 * keeps Upgrade and Connection: upgrade for a 101 response.
 */
export function filterResponseHeaders(
  headers: ParsedHeaders,
  edits: CompiledHeaderEdits,
  out: string[],
  upgrade = false,
): void {
  const connection = headers.connection;
  let listed: Set<string> | undefined;
  // Most backends say only `keep-alive` (or `close`): nothing to look up.
  if (connection !== undefined && !isPlainConnection(connection)) {
    const text = Array.isArray(connection) ? connection.join(',') : connection;
    for (const token of text.split(',')) {
      const t = token.trim().toLowerCase();
      if (t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') {
        listed ??= new Set();
        listed.add(t);
      }
    }
  }
  const drop = edits.drop;
  const checkDrop = drop.size > 0;
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (hopByHop.has(name)) {
      if (!(upgrade && name === 'upgrade')) continue;
    } else if (name.startsWith('proxy-')) {
      continue;
    }
    if (checkDrop && drop.has(name)) continue;
    if (listed?.has(name)) continue;
    if (typeof value === 'string') {
      out.push(name, value);
    } else {
      for (const v of value) out.push(name, v);
    }
  }
  if (upgrade) out.push('connection', 'upgrade');
  const append = edits.append;
  for (let i = 0; i < append.length; i++) out.push(append[i]!);
}
