// Cluster DNS (agent/dns): where it listens, the zone's records, the
// forwarder and its cache. The cluster domain is cluster.domain.

import { z } from 'zod';
import { isCIDR, isIP } from '../../model/fields.ts';
import { hostPort } from '../formats.ts';
import { section, setting } from '../setting.ts';

const upstream = z.string().refine((v) => {
  if (isIP(v)) return true;
  const m = /^(?:\[([^\]]+)\]|([\d.]+)):(\d{1,5})$/.exec(v);
  return m !== null && isIP(m[1] ?? m[2] ?? '') && Number(m[3]) > 0 && Number(m[3]) <= 65535;
});

export const dns = section('Cluster DNS: the zone built from the Store, a forwarder and a cache.', {
  enabled: setting(z.boolean(), {
    default: true,
    description: '`pier start` and `pier agent` serve cluster DNS (`pier dns` always does).',
  }),
  listen: setting(z.array(hostPort()).min(1), {
    default: ['127.0.0.1:5353'],
    accepts: 'a comma-separated list of host:port, e.g. 127.0.0.1:53,[::1]:53',
    description: 'Where DNS listens, UDP and TCP on each; a node agent uses e.g. 169.254.20.10:53.',
  }),
  ttl: setting(z.number().int().min(0).max(3600), {
    default: 5,
    description: 'TTL of cluster records and of negative answers, seconds.',
  }),
  pods: setting(z.enum(['disabled', 'insecure', 'verified']), {
    default: 'disabled',
    description:
      '`a-b-c-d.<ns>.pod.<domain>` records: off, for any address, or only for pods that exist.',
  }),
  workers: setting(z.number().int().min(0).max(64), {
    default: 1,
    description:
      'Query loops sharing the sockets (SO_REUSEPORT), one thread each; 0: one per core.',
  }),
  serverAddresses: setting(z.array(z.string().refine(isIP)), {
    default: [],
    accepts: 'a comma-separated list of IP addresses, e.g. 10.96.0.10',
    description:
      'How pods reach this server (their resolv.conf nameserver); empty: the listen addresses.',
  }),
  ndots: setting(z.number().int().min(1).max(15), {
    default: 5,
    description: 'The ndots option pods get (names with fewer dots try the search list first).',
  }),
  forward: section('Names outside the cluster domain.', {
    enabled: setting(z.boolean(), {
      default: true,
      description: 'Forward names outside the cluster domain to upstream resolvers.',
    }),
    upstreams: setting(z.array(upstream), {
      default: [],
      accepts: 'a comma-separated list of IP or IP:port, e.g. 10.0.0.2,[fd00::2]:53',
      description: 'Upstream resolvers; empty: the nameservers of forward.resolvConf.',
    }),
    resolvConf: setting(z.string().min(1), {
      default: '/etc/resolv.conf',
      accepts: 'a file path',
      description: 'Where the upstreams come from when forward.upstreams is empty.',
    }),
    timeoutMs: setting(z.number().int().min(50).max(30_000), {
      default: 2000,
      description: 'How long one upstream gets to answer before the next is asked.',
    }),
    maxConcurrent: setting(z.number().int().min(1), {
      default: 1000,
      description: 'Queries waiting on upstreams at once, per worker; more are refused.',
    }),
    healthCheckMs: setting(z.number().int().min(50), {
      default: 500,
      description: 'How often an upstream marked down is probed.',
    }),
    allowedNetworks: setting(z.array(z.string().refine((v) => v === 'private' || isCIDR(v))), {
      default: ['private'],
      accepts: 'a comma-separated list of CIDR networks or `private`, e.g. private,203.0.113.0/24',
      description:
        'Clients that may have outside names resolved (`private`: loopback, RFC 1918, CGNAT, link-local, ULA); everyone else gets the cluster zone only.',
    }),
  }),
  cache: section('The cache of upstream answers.', {
    size: setting(z.number().int().min(0), {
      default: 10_000,
      description: 'Answers kept, per worker.',
    }),
    maxTtl: setting(z.number().int().min(0), {
      default: 3600,
      description: 'Longest time an answer is kept, seconds.',
    }),
    maxNegativeTtl: setting(z.number().int().min(0), {
      default: 1800,
      description: 'Longest time an NXDOMAIN or NODATA answer is kept, seconds.',
    }),
    staleSeconds: setting(z.number().int().min(0), {
      default: 3600,
      description: 'How long expired answers may still be served while upstreams fail; 0: never.',
    }),
    prefetchHits: setting(z.number().int().min(0), {
      default: 2,
      description: 'Hits after which an answer is refreshed before it expires; 0: no prefetch.',
    }),
    prefetchPercent: setting(z.number().int().min(1).max(99), {
      default: 10,
      description: 'Refresh when this share of the TTL is left.',
    }),
  }),
  rateLimit: section('Response-rate limiting over UDP, per client network (/24, /56).', {
    responsesPerSecond: setting(z.number().int().min(0), {
      default: 0,
      description: 'Replies per second; 0: off.',
    }),
    slip: setting(z.number().int().min(0), {
      default: 2,
      description:
        'Every slip-th limited query gets a truncated reply (retry over TCP); 0: drop them all.',
    }),
  }),
});
