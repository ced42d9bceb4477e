// One pass over the client's request headers (req.rawHeaders: name, value,
// name, value...): what passes on to the backend is pushed to a flat array,
// what the forwarder needs is captured, and the rest is dropped:
//
// - hop-by-hop headers (RFC 9110 section 7.6.1): Connection and every header
//   it names, Keep-Alive, Proxy-Connection, Transfer-Encoding, Upgrade (the
//   upgrade path passes it separately), TE (only `te: trailers` is re-added,
//   gRPC needs it), HTTP2-Settings, and all Proxy-* headers;
// - Expect: the gateway answers 100-continue itself;
// - the forwarding headers and traceparent: captured, rebuilt by forward();
// - HTTP/2 pseudo-headers: :authority becomes Host, the others are implied
//   by the request line the backend gets;
// - names the route's header edits set or remove.
//
// Route edits cannot touch framing, hop-by-hop or the gateway's own
// forwarding and trace headers (PROTECTED_REQUEST_HEADERS: such edits are
// ignored, so a route cannot smuggle a second Content-Length or forge
// X-Forwarded-For); a `set` of Host replaces the Host sent upstream, and a
// `set` or `remove` of Content-Type still lets the scan see gRPC.
//
// Names are compared lowercased through one Map lookup per header; a small
// cache of raw spellings ('User-Agent', header-tokens.ts) saves the
// toLowerCase of common ones.

import { hasToken, lowerName } from '../header-tokens.ts';
import { type CompiledHeaderEdits, noHeaderEdits } from './header-edits.ts';
import { HOP_BY_HOP_HEADERS } from './hop-by-hop.ts';

// What the scan does with a header (values of the action map).
const PASS = 0;
const DROP = 1;
const HOST = 2;
const CONNECTION = 3;
const TE = 4;
const UPGRADE = 5;
const EXPECT = 6;
const XFF = 7;
const XFP = 8;
const XFH = 9;
const FORWARDED = 10;
const TRACEPARENT = 11;
const TRACESTATE = 12;
const CONTENT_LENGTH = 13;
const TRANSFER_ENCODING = 14;
const CONTENT_TYPE = 15;
const AFFINITY = 16;
/** Content-Type that route edits replace: sniffed for gRPC, not passed on. */
const CONTENT_TYPE_EDITED = 17;

/** Names route edits may not set, add or remove (besides every Proxy-* header). */
export const PROTECTED_REQUEST_HEADERS: ReadonlySet<string> = new Set([
  ...HOP_BY_HOP_HEADERS,
  'expect',
  'content-length',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'forwarded',
  'traceparent',
  'tracestate',
]);

const builtin: [string, number][] = [
  ['connection', CONNECTION],
  ['keep-alive', DROP],
  ['proxy-connection', DROP],
  ['transfer-encoding', TRANSFER_ENCODING],
  ['te', TE],
  ['upgrade', UPGRADE],
  ['http2-settings', DROP],
  ['expect', EXPECT],
  ['host', HOST],
  ['x-forwarded-for', XFF],
  ['x-forwarded-proto', XFP],
  ['x-forwarded-host', XFH],
  ['forwarded', FORWARDED],
  ['traceparent', TRACEPARENT],
  ['tracestate', TRACESTATE],
  ['content-length', CONTENT_LENGTH],
  ['content-type', CONTENT_TYPE],
];

/** Compiled per route rule: what to do with each header name. */
export interface RequestHeaderRules {
  readonly actions: ReadonlyMap<string, number>;
  readonly edits: CompiledHeaderEdits;
  /** The edits' appended pairs without protected names and Host: what forward() appends. */
  readonly append: readonly string[];
  /** The Host a `set` edit asks for; undefined: the client's (or the plan's). */
  readonly host: string | undefined;
  /** Lowercase name of the affinity header ('cookie' for cookie affinity), if any. */
  readonly affinityHeader: string | undefined;
}

export function compileRequestHeaderRules(
  edits: CompiledHeaderEdits = noHeaderEdits,
  affinityHeader?: string,
): RequestHeaderRules {
  const actions = new Map<string, number>();
  for (const name of edits.drop) actions.set(name, DROP);
  // Built-in handling wins over edits: a route cannot keep Connection or
  // forge the forwarding headers by setting them.
  for (const [name, action] of builtin) actions.set(name, action);
  if (edits.drop.has('content-type')) actions.set('content-type', CONTENT_TYPE_EDITED);
  const affinity = affinityHeader?.toLowerCase();
  if (affinity !== undefined && !actions.has(affinity)) actions.set(affinity, AFFINITY);
  const append: string[] = [];
  let host: string | undefined;
  for (let i = 0; i < edits.append.length; i += 2) {
    const name = edits.append[i]!;
    const lowered = name.toLowerCase();
    if (lowered === 'host') host = edits.append[i + 1];
    else if (!PROTECTED_REQUEST_HEADERS.has(lowered) && !lowered.startsWith('proxy-'))
      append.push(name, edits.append[i + 1]!);
  }
  return { actions, edits, append, host, affinityHeader: affinity };
}

/** What the scan captured. One object per request, reset by the scan. */
export interface RequestHeaderScan {
  host: string | undefined;
  xff: string | undefined;
  xfp: string | undefined;
  xfh: string | undefined;
  forwarded: string | undefined;
  traceparent: string | undefined;
  tracestate: string | undefined;
  expectContinue: boolean;
  /** -1 when absent; -2 when unusable (not digits, or a Transfer-Encoding not ending in chunked). */
  contentLength: number;
  /** Transfer-Encoding present: a body of unknown length follows. */
  chunked: boolean;
  upgrade: string | undefined;
  /** TE listed `trailers`. */
  teTrailers: boolean;
  /** content-type application/grpc...: errors go out as gRPC statuses. */
  grpc: boolean;
  /** The affinity header's value (cookies: all Cookie lines joined with '; '). */
  affinity: string | undefined;
}

/**
 * A scan's fields with their starting values, as a class: the calls that
 * carry a scan (forward()'s and forwardUpgrade()'s) extend it, so both keep
 * one stable object shape and the fields are declared once.
 */
export class RequestHeaderScanState implements RequestHeaderScan {
  host: string | undefined = undefined;
  xff: string | undefined = undefined;
  xfp: string | undefined = undefined;
  xfh: string | undefined = undefined;
  forwarded: string | undefined = undefined;
  /** '' until a valid one is seen (the scan treats '' as absent). */
  traceparent = '';
  tracestate: string | undefined = undefined;
  expectContinue = false;
  contentLength = -1;
  chunked = false;
  upgrade: string | undefined = undefined;
  teTrailers = false;
  grpc = false;
  affinity: string | undefined = undefined;
}

export function newRequestHeaderScan(): RequestHeaderScan {
  return new RequestHeaderScanState();
}

function join(previous: string | undefined, value: string, separator: string): string {
  return previous === undefined ? value : `${previous}${separator}${value}`;
}

/**
 * Scans `raw` into `out` (names as the client spelled them) and `scan`
 * (which must be fresh). Headers that Connection names are removed from `out`.
 */
export function scanRequestHeaders(
  raw: readonly string[],
  rules: RequestHeaderRules,
  out: string[],
  scan: RequestHeaderScan,
): void {
  const actions = rules.actions;
  let connection: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 58) {
      // HTTP/2 pseudo-header.
      if (name === ':authority' && scan.host === undefined) scan.host = value;
      continue;
    }
    const l = lowerName(name);
    const action = actions.get(l);
    if (action === undefined) {
      if (l.startsWith('proxy-')) continue;
      out.push(name, value);
      continue;
    }
    switch (action) {
      case PASS:
        out.push(name, value);
        break;
      case DROP:
        break;
      case HOST:
        if (scan.host === undefined) scan.host = value;
        break;
      case CONNECTION:
        connection = join(connection, value, ',');
        break;
      case TE:
        if (hasToken(value, 'trailers')) scan.teTrailers = true;
        break;
      case UPGRADE:
        scan.upgrade = join(scan.upgrade, value, ', ');
        break;
      case EXPECT:
        if (value.length === 12 && value.toLowerCase() === '100-continue')
          scan.expectContinue = true;
        break;
      case XFF:
        scan.xff = join(scan.xff, value, ', ');
        break;
      case XFP:
        if (scan.xfp === undefined) scan.xfp = value;
        break;
      case XFH:
        if (scan.xfh === undefined) scan.xfh = value;
        break;
      case FORWARDED:
        scan.forwarded = join(scan.forwarded, value, ', ');
        break;
      case TRACEPARENT:
        // '' counts as absent: forward()'s state starts with '' (a string field of its result).
        if (scan.traceparent === undefined || scan.traceparent === '') scan.traceparent = value;
        break;
      case TRACESTATE:
        scan.tracestate = join(scan.tracestate, value, ',');
        break;
      case CONTENT_LENGTH:
        if (scan.contentLength === -1) {
          scan.contentLength = /^\d{1,15}$/.test(value) ? Number(value) : -2;
          out.push(name, value);
        }
        break;
      case TRANSFER_ENCODING:
        scan.chunked = true;
        // RFC 9112 6.3: a request whose last coding is not chunked has no
        // knowable length: 400. Node's parser says so too, but only after
        // the request was handed over; marked here, it is never forwarded.
        if (!/(?:^|,)[ \t]*chunked[ \t]*$/i.test(value)) scan.contentLength = -2;
        break;
      case CONTENT_TYPE:
        if (value.startsWith('application/grpc')) scan.grpc = true;
        out.push(name, value);
        break;
      case CONTENT_TYPE_EDITED:
        if (value.startsWith('application/grpc')) scan.grpc = true;
        break;
      case AFFINITY:
        scan.affinity = join(scan.affinity, value, l === 'cookie' ? '; ' : ', ');
        out.push(name, value);
        break;
    }
  }
  if (connection !== undefined) dropConnectionListed(connection, out);
}

/** Removes from `out` the headers that Connection names (rare: most say keep-alive or close). */
function dropConnectionListed(connection: string, out: string[]): void {
  // Browsers send `keep-alive`: nothing named, nothing to split.
  if (connection.length <= 10) {
    const l = connection.toLowerCase();
    if (l === 'keep-alive' || l === 'close' || l === 'upgrade') return;
  }
  const names = new Set<string>();
  for (const token of connection.split(',')) {
    const t = token.trim().toLowerCase();
    if (t !== '' && t !== 'close' && t !== 'keep-alive' && t !== 'upgrade') names.add(t);
  }
  if (names.size === 0) return;
  let w = 0;
  for (let r = 0; r < out.length; r += 2) {
    if (names.has(out[r]!.toLowerCase())) continue;
    out[w++] = out[r]!;
    out[w++] = out[r + 1]!;
  }
  out.length = w;
}

/** Whether the request carries a body: a positive Content-Length or Transfer-Encoding. */
export function hasRequestBody(scan: RequestHeaderScan): boolean {
  return scan.chunked || scan.contentLength > 0;
}
