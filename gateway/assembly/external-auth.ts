// ExternalAuth (Gateway API HTTPExternalAuthFilter, protocol HTTP): before a
// request of such a rule goes anywhere, the gateway asks the auth backend,
// with the same method, the path behind the filter's prefix, Host,
// Authorization, the allowed headers and no body. A 200 lets the request
// through, with the auth response's allowed headers added (a client cannot
// supply them: the client's of those names are replaced); any other answer
// is the client's, status, headers and body (up to MAX_DENIAL_BODY). No
// endpoint, a failed connection or no answer within AUTH_TIMEOUT_MS: 503,
// the request is not let through (fail closed, as the spec's conformance
// tests ask).

import type { ExternalAuthConfig } from '../filters.ts';
import { HOP_BY_HOP_HEADERS } from '../forward/hop-by-hop.ts';
import type { UpstreamController, UpstreamHandler } from '../upstream/dispatcher.ts';
import type { Upstream } from '../upstream.ts';

export const AUTH_TIMEOUT_MS = 10_000;
const MAX_DENIAL_BODY = 64 * 1024;

/** Sent whatever the filter lists (the spec's "must always be sent"). */
const ALWAYS_SENT = new Set(['authorization']);
/** Never copied from an auth response into the request: framing, hop-by-hop, the target. */
const NEVER_COPIED = new Set([...HOP_BY_HOP_HEADERS, 'host', 'content-length', ':authority']);

export type AuthVerdict =
  | { allowed: true; headers: readonly string[] }
  | { allowed: false; status: number; headers: readonly string[]; body: Buffer | undefined };

export interface AuthRequest {
  method: string;
  /** Origin-form target as received (path and query). */
  target: string;
  /** Host or :authority. */
  host: string;
  /** Flat name, value pairs, as received. */
  rawHeaders: readonly string[];
}

export const AUTH_UNAVAILABLE: AuthVerdict = Object.freeze({
  allowed: false,
  status: 503,
  headers: Object.freeze(['content-type', 'text/plain']),
  body: Buffer.from('external authorization unavailable\n'),
}) as AuthVerdict;

/** The auth request's headers: Host, Authorization and the allowed ones, as the client sent them. */
export function authRequestHeaders(config: ExternalAuthConfig, request: AuthRequest): string[] {
  const out = ['host', request.host];
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name.charCodeAt(0) === 58 /* : */) continue;
    if (ALWAYS_SENT.has(name) || config.allowedRequestHeaders.includes(name))
      out.push(name, raw[i + 1]!);
  }
  return out;
}

/**
 * An auth response's headers as flat pairs (lowercase names), without
 * framing, hop-by-hop and Host; only `allowed` ones unless it is empty.
 */
function passedHeaders(
  headers: Record<string, string | string[] | undefined>,
  allowed: readonly string[],
): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NEVER_COPIED.has(name)) continue;
    if (allowed.length > 0 && !allowed.includes(name)) continue;
    for (const v of Array.isArray(value) ? value : [value]) out.push(name, v);
  }
  return out;
}

/** What of a 200's headers goes into the upstream request (flat pairs, lowercase names). */
export function copiedHeaders(
  config: ExternalAuthConfig,
  headers: Record<string, string | string[] | undefined>,
): string[] {
  return passedHeaders(headers, config.allowedResponseHeaders);
}

/** Asks the auth backend about one request; never rejects. */
export function authorize(
  config: ExternalAuthConfig,
  upstream: Upstream | undefined,
  request: AuthRequest,
): Promise<AuthVerdict> {
  const host = upstream?.pick(0);
  if (upstream === undefined || host === undefined) return Promise.resolve(AUTH_UNAVAILABLE);
  return new Promise((resolve) => {
    let settled = false;
    let status = 0;
    let responseHeaders: Record<string, string | string[] | undefined> = {};
    const chunks: Buffer[] = [];
    let size = 0;
    let control: UpstreamController | null = null;
    upstream.begin(host);
    const finish = (verdict: AuthVerdict, outcome: 'success' | 'failure' | 'connect-failure') => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      upstream.end(host, outcome);
      resolve(verdict);
    };
    const timer = setTimeout(() => {
      control?.abort(new Error('external authorization timed out'));
      finish(AUTH_UNAVAILABLE, 'failure');
    }, AUTH_TIMEOUT_MS);
    const handler: UpstreamHandler = {
      onRequestStart(controller) {
        control = controller;
      },
      onResponseStart(controller, code, headers) {
        control = controller;
        status = code;
        responseHeaders = headers;
      },
      onResponseData(_controller, chunk) {
        if (size >= MAX_DENIAL_BODY) return;
        const piece = chunk.subarray(0, MAX_DENIAL_BODY - size);
        chunks.push(Buffer.from(piece));
        size += piece.length;
      },
      onResponseEnd() {
        if (status === 200) {
          finish({ allowed: true, headers: copiedHeaders(config, responseHeaders) }, 'success');
          return;
        }
        finish(
          {
            allowed: false,
            status,
            headers: passedHeaders(responseHeaders, []),
            body: size === 0 ? undefined : Buffer.concat(chunks, size),
          },
          status >= 500 ? 'failure' : 'success',
        );
      },
      onResponseError(controller) {
        finish(AUTH_UNAVAILABLE, controller === null ? 'connect-failure' : 'failure');
      },
    };
    host.dispatcher.dispatch(
      {
        method: request.method,
        path: `${config.pathPrefix}${request.target.startsWith('/') ? '' : '/'}${request.target}`,
        headers: [...authRequestHeaders(config, request), 'content-length', '0'],
        body: null,
      },
      handler,
    );
  });
}
