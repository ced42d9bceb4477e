// Which resolvers the forwarder asks: `dns.forward.upstreams` when set,
// else the nameservers of the node's resolv.conf. An upstream that is this
// server itself (one of its listen addresses) is left out: forwarding to
// ourselves would loop.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseHostPort } from '../../src/config/host-port.ts';
import { DnsErrors } from './errors.ts';
import type { UpstreamAddress } from './forwarder.ts';
import { parseResolvConf } from './resolv-conf.ts';

/** `10.0.0.2`, `10.0.0.2:5353`, `fd00::2`, `[fd00::2]:53` -> address and port (53 by default). */
export function parseUpstream(value: string): UpstreamAddress {
  const v = value.trim();
  if (isIP(v)) return { address: v, port: 53 };
  const hp = parseHostPort(v);
  if (hp === undefined || !isIP(hp.host) || hp.port === 0) throw DnsErrors.BAD_UPSTREAM(value);
  return { address: hp.host, port: hp.port };
}

export interface ResolvedUpstreams {
  upstreams: UpstreamAddress[];
  /** Where they came from, for logs: `dns.forward.upstreams` or the resolv.conf path. */
  source: string;
}

export function resolveUpstreams(
  configured: readonly string[],
  resolvConfPath: string,
  listening: readonly { host: string; port: number }[],
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): ResolvedUpstreams {
  let upstreams: UpstreamAddress[];
  let source: string;
  if (configured.length > 0) {
    upstreams = configured.map(parseUpstream);
    source = 'dns.forward.upstreams';
  } else {
    source = resolvConfPath;
    let text = '';
    try {
      text = read(resolvConfPath);
    } catch {
      // No resolv.conf: no upstreams; the caller reports NO_UPSTREAMS.
    }
    upstreams = parseResolvConf(text).nameservers.map((address) => ({ address, port: 53 }));
  }
  const self = (u: UpstreamAddress) =>
    listening.some(
      (l) => l.port === u.port && (l.host === u.address || l.host === '0.0.0.0' || l.host === '::'),
    );
  return { upstreams: upstreams.filter((u) => !self(u)), source };
}
