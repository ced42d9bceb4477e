// The query path of one worker: parse, the stages in their fixed order,
// reply. Transports (udp-listener.ts, tcp-listener.ts) hand it packets;
// zone-sync.ts hands it new zones.
//
// The stage order is data (CoreDNS's plugin.cfg, convention 2):
//
//   metrics -> errors -> acl -> ratelimit -> kubernetes -> cache -> forward
//
// metrics sees every reply; errors turns any failure into SERVFAIL; acl
// decides whether this client may recurse; ratelimit (optional) limits UDP
// replies per client network; kubernetes answers the cluster zone; cache
// answers fresh upstream answers; forward asks upstreams.

import type { BlockList } from 'node:net';
import type { AnswerCache, CacheLimits } from './answer-cache.ts';
import type { Forwarder } from './forwarder.ts';
import { createRecursor, type Recursor } from './recursor.ts';
import { errorReply, headerOnlyReply } from './reply.ts';
import { compose, type Handler, type Reply, type Stage } from './stage.ts';
import { createAclStage } from './stages/acl-stage.ts';
import { createCacheStage } from './stages/cache-stage.ts';
import { createErrorsStage } from './stages/errors-stage.ts';
import { createForwardStage } from './stages/forward-stage.ts';
import { createKubernetesStage } from './stages/kubernetes-stage.ts';
import { createMetricsStage } from './stages/metrics-stage.ts';
import { createRateLimitStage } from './stages/rate-limit-stage.ts';
import type { DnsStats } from './stats.ts';
import { DROP, parseQuery, type Query, Rcode, RRClass, RRType, type Transport } from './wire.ts';
import type { Zone } from './zone.ts';

export const STAGE_ORDER = [
  'metrics',
  'errors',
  'acl',
  'ratelimit',
  'kubernetes',
  'cache',
  'forward',
] as const;
export type StageName = (typeof STAGE_ORDER)[number];

export interface EngineOptions {
  zone: Zone;
  stats: DnsStats;
  /** Networks whose clients may have outside names resolved. */
  recursionAllowed: BlockList;
  /** Forwarding: cache and upstreams; undefined serves the cluster zone only. */
  forward?: {
    forwarder: Forwarder;
    cache: AnswerCache;
    limits: CacheLimits;
    prefetchHits: number;
    prefetchPercent: number;
  };
  rateLimit?: { responsesPerSecond: number; slip: number };
  onError: (error: unknown, context: string) => void;
  now?: () => number;
}

export interface Engine {
  /** The reply to one packet from `client`: a Buffer, null (send nothing), or a promise of either. */
  handle(msg: Buffer, transport: Transport, client: string): Reply | Promise<Reply>;
  setZone(zone: Zone): void;
  /** The names whose answers changed in the (live) zone, or all. */
  invalidate(names: Iterable<string> | 'all'): void;
  zone(): Zone;
  readonly stages: readonly StageName[];
}

export function createEngine(options: EngineOptions): Engine {
  const { stats } = options;
  const recursor: Recursor | undefined = options.forward
    ? createRecursor({
        ...options.forward,
        stats,
        ...(options.now ? { now: options.now } : {}),
        onError: (error) => options.onError(error, 'prefetch or CNAME target'),
      })
    : undefined;
  const kubernetes = createKubernetesStage(options.zone, recursor);
  const build: Record<StageName, () => Stage | undefined> = {
    metrics: () => createMetricsStage(stats),
    errors: () =>
      createErrorsStage((error, q) =>
        options.onError(error, `query ${q.qtype} ${JSON.stringify(q.key)}`),
      ),
    acl: () => createAclStage(options.recursionAllowed, recursor !== undefined),
    ratelimit: () =>
      options.rateLimit
        ? createRateLimitStage({
            ...options.rateLimit,
            ...(options.now ? { now: options.now } : {}),
          })
        : undefined,
    kubernetes: () => kubernetes,
    cache: () => (recursor ? createCacheStage(recursor) : undefined),
    forward: () => createForwardStage(recursor),
  };
  const stages = STAGE_ORDER.map((name) => build[name]()).filter(
    (s): s is Stage => s !== undefined,
  );
  const refuse: Handler = (q) => errorReply(q, Rcode.REFUSED, false);
  const handler = compose(stages, refuse);
  const partial: { query: Query | undefined } = { query: undefined };

  return {
    stages: stages.map((s) => s.name as StageName),
    setZone: kubernetes.setZone,
    invalidate: kubernetes.invalidate,
    zone: kubernetes.zone,
    handle(msg, transport, client) {
      const q = parseQuery(msg, transport, client, partial);
      if (typeof q === 'number') {
        if (q === DROP) {
          stats.countDrop('malformed');
          return null;
        }
        const parsed = partial.query;
        partial.query = undefined;
        stats.countReply(parsed?.qtype ?? 0, q);
        return parsed ? errorReply(parsed, q, false) : headerOnlyReply(msg, q);
      }
      // Questions the server does not take: other classes, zone transfers, mailbox meta-types.
      if (q.qclass !== RRClass.IN && q.qclass !== RRClass.ANY) return early(q, Rcode.REFUSED);
      if (q.qtype === RRType.AXFR || q.qtype === RRType.IXFR) return early(q, Rcode.REFUSED);
      if (q.qtype === RRType.MAILA || q.qtype === RRType.MAILB) return early(q, Rcode.NOTIMP);
      return handler(q);
    },
  };

  function early(q: Query, rcode: number): Buffer {
    stats.countReply(q.qtype, rcode);
    return errorReply(q, rcode, false);
  }
}
