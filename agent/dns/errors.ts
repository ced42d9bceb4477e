// The DNS server's error table (convention 9): stable codes, and messages
// that say what to do.

import { errorTable } from '../../src/errors.ts';

export const DnsErrors = errorTable('DNS', {
  LISTEN_FAILED: (address: string, cause: string) =>
    `cannot listen for DNS on ${address}: ${cause}. Pick a free port (dns.listen), or run as root for ports below 1024.`,
  NO_UPSTREAMS: (source: string) =>
    `no upstream resolvers: dns.upstreams is empty and ${source} names no nameserver. Set dns.upstreams (e.g. 1.1.1.1:53), or leave names outside the cluster unresolved with dns.forward=false.`,
  BAD_UPSTREAM: (value: string) =>
    `upstream "${value}" is not an IP address with an optional port, e.g. 10.0.0.2 or [fd00::2]:53.`,
  BAD_NETWORK: (value: string) =>
    `"${value}" is not a network in CIDR notation, e.g. 10.0.0.0/8 or fd00::/8.`,
  UPSTREAM_TIMEOUT: (upstream: string, ms: number) =>
    `upstream ${upstream} did not answer within ${ms} ms; check that it is reachable, or raise dns.upstreamTimeoutMs.`,
  UPSTREAM_FAILED: (upstream: string, detail: string) => `upstream ${upstream} failed: ${detail}.`,
  UPSTREAM_BAD_RESPONSE: (upstream: string, detail: string) =>
    `upstream ${upstream} sent a response that cannot be used (${detail}); the next upstream is tried.`,
  OVERLOADED: (limit: number) =>
    `more than ${limit} queries are waiting for upstreams; this one is refused. Raise dns.maxConcurrentForwards if the upstreams can take more.`,
  WORKER_FAILED: (worker: number, cause: string) =>
    `DNS worker ${worker} stopped: ${cause}. It is restarted.`,
});
