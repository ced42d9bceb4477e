// RequestMirror: a copy of the request, as it is forwarded (header edits and
// rewrites applied), sent to each chosen mirror backend; its response is
// read and dropped, and nothing about it reaches the client.
//
// Only requests without a body are mirrored: a body is a stream the
// forwarder consumes, and copying it would either hold it in memory or let
// the mirror's pace slow the real request. Requests with a body are counted
// and not mirrored (documented in gateway/README.md).

import type { Http2ServerRequest } from 'node:http2';
import { applyHeaderEdits, type HeaderEdits } from '../filters.ts';
import { HOP_BY_HOP_HEADERS } from '../forward/hop-by-hop.ts';
import type { GatewayRequest } from '../listener.ts';
import type { ServiceBackend } from '../router.ts';
import type { UpstreamHandler } from '../upstream/dispatcher.ts';
import type { UpstreamRegistry } from './upstream-registry.ts';

const SKIP = new Set([...HOP_BY_HOP_HEADERS, 'host', 'expect', 'content-length']);

/** Reads the mirror's answer and drops it; failures are the mirror's own business. */
const dropResponse: UpstreamHandler = {};

export function hasBody(req: GatewayRequest): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined && length !== '0') return true;
  if (req.headers['transfer-encoding'] !== undefined) return true;
  const stream = (req as Http2ServerRequest).stream;
  return stream !== undefined && stream.endAfterHeaders === false;
}

/** Sends the copies; returns how many were sent (0 when the request has a body). */
export function mirrorRequest(
  req: GatewayRequest,
  mirrors: readonly ServiceBackend[],
  registry: UpstreamRegistry,
  target: { path: string; host: string },
  edits: HeaderEdits,
  clientCertificate?: string,
): number {
  if (hasBody(req)) return 0;
  const raw = req.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.charCodeAt(0) === 58 /* : */ || SKIP.has(name.toLowerCase())) continue;
    headers.push(name, raw[i + 1]!);
  }
  const edited = applyHeaderEdits(headers, edits);
  edited.push('host', target.host);
  let sent = 0;
  for (const backend of mirrors) {
    const upstream = registry.get(backend, false, clientCertificate)?.upstream;
    const host = upstream?.pick(0);
    if (host === undefined) continue;
    host.dispatcher.dispatch(
      { method: req.method ?? 'GET', path: target.path, headers: edited, body: null },
      dropResponse,
    );
    sent++;
  }
  return sent;
}
