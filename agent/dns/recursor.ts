// Names outside the cluster zone: the answer cache in front of the
// forwarder, with what sits between them:
//
// - one upstream query per question at a time (concurrent askers share it);
// - prefetch: an entry asked `prefetchHits` times that is within
//   `prefetchPercent` of its TTL from expiry is refreshed in the background,
//   so popular names never miss (CoreDNS's cache prefetch);
// - serve-stale: when the upstreams fail (or all are down), an expired
//   entry within its stale window answers, with a 30 s TTL (RFC 8767).

import {
  type AnswerCache,
  type CacheEntry,
  type CacheLimits,
  entryFromResponse,
  isCacheable,
} from './answer-cache.ts';
import { DnsErrors } from './errors.ts';
import type { Forwarder } from './forwarder.ts';
import { type DecodedMessage, decodeMessage } from './message.ts';
import { errorReply, finish } from './reply.ts';
import type { Reply } from './stage.ts';
import type { DnsStats } from './stats.ts';
import { type Query, Rcode } from './wire.ts';

/** RFC 8767 section 4: the TTL of a stale answer. */
export const STALE_TTL = 30;

export interface RecursorOptions {
  cache: AnswerCache;
  forwarder: Forwarder;
  limits: CacheLimits;
  prefetchHits: number;
  prefetchPercent: number;
  stats: DnsStats;
  now?: () => number;
  /** Called with failures nobody waits for (background prefetches). */
  onError?: (error: unknown) => void;
}

export interface Recursor {
  /** A fresh cache hit for the query, or undefined (counted as hit or miss). */
  fresh(q: Query): CacheEntry | undefined;
  /** The reply from an entry; `stale` answers with STALE_TTL. */
  reply(q: Query, entry: CacheEntry, stale?: boolean): Buffer;
  /** Resolves a query through the cache and the upstreams; never rejects. */
  resolve(q: Query): Promise<Reply>;
  /** The answer to (key, qtype) as a message, for chasing CNAME targets; undefined on failure. */
  lookup(key: string, qtype: number): Promise<DecodedMessage | undefined>;
}

export function createRecursor(options: RecursorOptions): Recursor {
  const { cache, forwarder, limits, stats } = options;
  const now = options.now ?? Date.now;
  const inflight = new Map<string, Promise<CacheEntry>>();

  const fetch = (key: string, qtype: number): Promise<CacheEntry> => {
    const id = `${qtype}/${key}`;
    let p = inflight.get(id);
    if (p === undefined) {
      p = forwarder
        .query(key, qtype)
        .then((response) => {
          const entry = entryFromResponse(response, key, qtype, now(), limits);
          if (isCacheable(entry)) cache.set(key, qtype, entry);
          return entry;
        })
        .finally(() => inflight.delete(id));
      inflight.set(id, p);
    }
    return p;
  };

  const reply = (q: Query, entry: CacheEntry, stale = false) => {
    const elapsed = stale ? Number.MAX_SAFE_INTEGER : Math.floor((now() - entry.storedAt) / 1000);
    return finish(q, entry.base, true, {
      offsets: entry.ttlOffsets,
      ttls: entry.ttls,
      elapsed,
      floor: stale ? STALE_TTL : 0,
    });
  };

  const staleOr = (q: Query, error: unknown): Reply => {
    const stale = cache.get(q.key, q.qtype, now());
    if (stale !== undefined) {
      stats.countCache('stale');
      return reply(q, stale, true);
    }
    const overloaded =
      (error as { code?: string } | undefined)?.code === DnsErrors.codes.OVERLOADED;
    if (overloaded) stats.countDrop('overload');
    return errorReply(q, overloaded ? Rcode.REFUSED : Rcode.SERVFAIL, true);
  };

  return {
    fresh(q) {
      const t = now();
      const entry = cache.get(q.key, q.qtype, t);
      if (entry === undefined || t >= entry.expiresAt) {
        stats.countCache('miss');
        return undefined;
      }
      stats.countCache('hit');
      entry.hits++;
      if (
        !entry.prefetching &&
        entry.hits >= options.prefetchHits &&
        entry.expiresAt - t <= entry.ttl * 10 * options.prefetchPercent
      ) {
        entry.prefetching = true;
        stats.countCache('prefetch');
        fetch(q.key, q.qtype).then(
          () => {},
          (error) => {
            entry.prefetching = false;
            options.onError?.(error);
          },
        );
      }
      return entry;
    },
    reply,
    async resolve(q) {
      // All upstreams down and a stale answer at hand: answer now, not after timeouts.
      if (!forwarder.available() && cache.get(q.key, q.qtype, now()) !== undefined) {
        return staleOr(q, undefined);
      }
      try {
        return reply(q, await fetch(q.key, q.qtype));
      } catch (error) {
        return staleOr(q, error);
      }
    },
    async lookup(key, qtype) {
      try {
        const t = now();
        const cached = cache.get(key, qtype, t);
        const entry =
          cached !== undefined && t < cached.expiresAt ? cached : await fetch(key, qtype);
        const m = decodeMessage(entry.base);
        const elapsed = Math.floor((now() - entry.storedAt) / 1000);
        for (const r of [...m.answers, ...m.authorities, ...m.additionals])
          r.ttl = Math.max(0, r.ttl - elapsed);
        return m;
      } catch (error) {
        options.onError?.(error);
        return undefined;
      }
    },
  };
}
