// X-Forwarded-For/-Proto/-Host and Forwarded (RFC 7239) for the request
// sent upstream, and the client address the gateway believes.
//
// A peer outside the trusted-proxy list is the client: whatever forwarding
// headers it sent are discarded and replaced by what the gateway saw. A
// trusted peer's headers are kept and extended by one hop, and the client
// is the rightmost X-Forwarded-For address that is not itself a trusted
// proxy (the leftmost one when all are).

import type { TrustedProxies } from './trusted-proxies.ts';

export interface ForwardedInput {
  /** The socket's peer address, IPv4-mapped addresses unmapped. */
  peer: string;
  proto: 'http' | 'https';
  /** Host (or :authority) as the client sent it. */
  host: string | undefined;
  /** Incoming headers, several lines joined with ', '; undefined when absent. */
  xff: string | undefined;
  xfp: string | undefined;
  xfh: string | undefined;
  forwarded: string | undefined;
}

export interface ForwardedResult {
  clientIp: string;
  xff: string;
  xfp: string;
  xfh: string | undefined;
  forwarded: string;
}

// RFC 7230 tchar: what a Forwarded value may contain without quotes.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A Forwarded node or value: a token as is, anything else quoted (RFC 7239 section 4). */
export function forwardedValue(value: string): string {
  if (TOKEN.test(value)) return value;
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The `for=` node of a socket's peer address: IPv6 bracketed and quoted
 * (RFC 7239 section 6), IPv4 as it is (digits and dots are a token), and
 * `unknown` when the socket no longer knows its peer (section 6.2).
 */
export function forwardedNode(address: string): string {
  if (address === '') return 'unknown';
  return address.includes(':') ? `"[${address}]"` : address;
}

// Host -> its Forwarded value: a gateway sees few hosts, and every request
// carries one (a host:port is quoted, which a regex decides). Bounded, so a
// client choosing Host values cannot grow it.
const hostValues = new Map<string, string>();
const HOST_VALUES_MAX = 256;

function hostValue(host: string): string {
  let value = hostValues.get(host);
  if (value === undefined) {
    value = forwardedValue(host);
    if (hostValues.size < HOST_VALUES_MAX) hostValues.set(host, value);
  }
  return value;
}

/** This hop's Forwarded element. */
export function forwardedElement(peer: string, host: string | undefined, proto: string): string {
  const node = forwardedNode(peer);
  return host === undefined || host === ''
    ? `for=${node};proto=${proto}`
    : `for=${node};host=${hostValue(host)};proto=${proto}`;
}

/** The client address from a trusted peer's X-Forwarded-For chain. */
export function clientFromChain(xff: string, trusted: TrustedProxies): string | undefined {
  const hops = xff.split(',');
  let leftmost: string | undefined;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i]!.trim();
    if (hop === '') continue;
    leftmost = hop;
    if (!trusted.contains(hop)) return hop;
  }
  return leftmost;
}

export function forwardedHeaders(input: ForwardedInput, trusted: TrustedProxies): ForwardedResult {
  const { peer, proto, host } = input;
  const element = forwardedElement(peer, host, proto);
  if (trusted.empty || !trusted.contains(peer)) {
    return { clientIp: peer, xff: peer, xfp: proto, xfh: host, forwarded: element };
  }
  const xff = input.xff === undefined || input.xff.trim() === '' ? undefined : input.xff;
  const fwd =
    input.forwarded === undefined || input.forwarded.trim() === '' ? undefined : input.forwarded;
  return {
    clientIp: (xff === undefined ? undefined : clientFromChain(xff, trusted)) ?? peer,
    xff: xff === undefined ? peer : `${xff}, ${peer}`,
    xfp: input.xfp ?? proto,
    xfh: input.xfh ?? host,
    forwarded: fwd === undefined ? element : `${fwd}, ${element}`,
  };
}
