// The headers the gateway adds to every request it sends upstream, after the
// scan (request-headers.ts) passed on the client's: Host, `te: trailers`,
// the forwarding headers, trace context and the route's appended edits.
// Shared by forward() and forwardUpgrade().

import type { TLSSocket } from 'node:tls';
import { applyAffinity } from './affinity.ts';
import { forwardedElement, forwardedHeaders } from './forwarded.ts';
import type { ForwardPlan } from './plan.ts';
import type { RequestHeaderScan } from './request-headers.ts';
import { isValidTraceparent, newTraceparent } from './traceparent.ts';
import { unmapIPv4 } from './trusted-proxies.ts';

/** The scan plus what this step decides about the request. */
export interface ProxiedRequest extends RequestHeaderScan {
  /** Set here: the client as the gateway believes it. */
  clientIp: string;
  /** The traceparent sent upstream ('' before this step). */
  traceparent: string;
  /** Set here when the upstream hashes: the affinity hash. */
  hash: number;
  /** Set here for a new affinity cookie. */
  setCookie: string | undefined;
}

/** Drops `headers`' entries with the names `additions` carries (lowercase), then appends `additions`. */
function replaceHeaders(headers: string[], additions: readonly string[]): void {
  const names = new Set<string>();
  for (let i = 0; i < additions.length; i += 2) names.add(additions[i]!);
  let w = 0;
  for (let r = 0; r + 1 < headers.length; r += 2) {
    if (names.has(headers[r]!.toLowerCase())) continue;
    headers[w++] = headers[r]!;
    headers[w++] = headers[r + 1]!;
  }
  headers.length = w;
  for (const value of additions) headers.push(value);
}

export function completeRequestHeaders(
  request: ProxiedRequest,
  socket: { remoteAddress?: string | undefined } | undefined,
  plan: ForwardPlan,
  headers: string[],
): void {
  const policy = plan.policy;
  const peer = unmapIPv4(socket?.remoteAddress ?? '');
  const proto = (socket as TLSSocket | undefined)?.encrypted === true ? 'https' : 'http';
  const host = plan.host ?? policy.requestRules.host ?? request.host;
  if (host !== undefined) headers.push('host', host);
  if (request.teTrailers) headers.push('te', 'trailers');
  if (policy.trustedProxies.empty) {
    // The common case: the peer is the client, its forwarding headers go.
    request.clientIp = peer;
    headers.push('x-forwarded-for', peer, 'x-forwarded-proto', proto);
    if (request.host !== undefined) headers.push('x-forwarded-host', request.host);
    headers.push('forwarded', forwardedElement(peer, request.host, proto));
  } else {
    const f = forwardedHeaders(
      {
        peer,
        proto,
        host: request.host,
        xff: request.xff,
        xfp: request.xfp,
        xfh: request.xfh,
        forwarded: request.forwarded,
      },
      policy.trustedProxies,
    );
    request.clientIp = f.clientIp;
    headers.push('x-forwarded-for', f.xff, 'x-forwarded-proto', f.xfp);
    if (f.xfh !== undefined) headers.push('x-forwarded-host', f.xfh);
    headers.push('forwarded', f.forwarded);
  }
  const incoming = request.traceparent;
  if (incoming !== '' && isValidTraceparent(incoming)) {
    headers.push('traceparent', incoming);
    if (request.tracestate !== undefined) headers.push('tracestate', request.tracestate);
  } else {
    // Absent or invalid: start a trace (a tracestate without a valid parent goes).
    request.traceparent = newTraceparent();
    headers.push('traceparent', request.traceparent);
  }
  const additions = plan.requestAdditions;
  if (additions !== undefined && additions.length > 0) replaceHeaders(headers, additions);
  const append = policy.requestRules.append;
  for (let i = 0; i < append.length; i++) headers.push(append[i]!);
  if (policy.affinity !== undefined && plan.upstream.hashes) {
    applyAffinity(policy.affinity, request.clientIp, request.affinity, request);
  }
}
