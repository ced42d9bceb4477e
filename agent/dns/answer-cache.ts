// The cache of upstream answers, keyed by question (wire key + type).
//
// An entry keeps the response preencoded (question lowercased, no OPT, our
// own flags) with the offsets of its TTLs, so a hit is a copy with the TTLs
// aged in place (reply.ts). Positive answers live for their smallest TTL,
// negative ones (NXDOMAIN, NODATA) for the SOA's negative TTL (RFC 2308),
// each within configured bounds; other rcodes, and negative answers without
// an SOA, are not cached. After expiry an entry is kept `staleSeconds`
// longer, to answer while upstreams fail (RFC 8767). When full, the oldest
// names go first.

import { decodeMessage, encodeMessage, type ResourceRecord, type SoaData } from './message.ts';
import { Flag, keyToName, Rcode, RRClass, RRType } from './wire.ts';

export interface CacheLimits {
  maxEntries: number;
  minTtl: number;
  maxTtl: number;
  maxNegativeTtl: number;
  staleSeconds: number;
}

export interface CacheEntry {
  base: Buffer;
  ttlOffsets: Uint32Array;
  ttls: Uint32Array;
  rcode: number;
  /** ms timestamps */
  storedAt: number;
  expiresAt: number;
  staleUntil: number;
  /** The entry's lifetime, seconds. */
  ttl: number;
  hits: number;
  prefetching: boolean;
}

export interface AnswerCache {
  /** The entry, fresh or stale; undefined when absent or past its stale window. */
  get(key: string, qtype: number, now: number): CacheEntry | undefined;
  set(key: string, qtype: number, entry: CacheEntry): void;
  size(): number;
  clear(): void;
}

export function createAnswerCache(limits: CacheLimits): AnswerCache {
  const byName = new Map<string, Map<number, CacheEntry>>();
  let count = 0;
  return {
    get(key, qtype, now) {
      const types = byName.get(key);
      const entry = types?.get(qtype);
      if (entry === undefined) return undefined;
      if (now > entry.staleUntil) {
        types!.delete(qtype);
        count--;
        if (types!.size === 0) byName.delete(key);
        return undefined;
      }
      return entry;
    },
    set(key, qtype, entry) {
      let types = byName.get(key);
      if (types === undefined) {
        while (count >= limits.maxEntries && byName.size > 0) {
          const [oldest, entries] = byName.entries().next().value!;
          count -= entries.size;
          byName.delete(oldest);
        }
        types = new Map();
        byName.set(key, types);
      }
      if (!types.has(qtype)) count++;
      types.set(qtype, entry);
    },
    size() {
      return count;
    },
    clear() {
      byName.clear();
      count = 0;
    },
  };
}

/**
 * The cache entry for an upstream response to (key, qtype), or undefined
 * when it must not be cached; throws MalformedMessage when it cannot be read.
 */
export function entryFromResponse(
  response: Buffer,
  key: string,
  qtype: number,
  now: number,
  limits: CacheLimits,
): CacheEntry {
  const m = decodeMessage(response);
  const rcode = m.flags & 0x0f;
  const additionals = m.additionals.filter((r) => r.type !== RRType.OPT);
  let ttl = 0;
  let cacheable = false;
  if (rcode === Rcode.NOERROR && m.answers.length > 0) {
    ttl = clamp(Math.min(...m.answers.map((r) => r.ttl)), limits.minTtl, limits.maxTtl);
    cacheable = true;
  } else if (rcode === Rcode.NOERROR || rcode === Rcode.NXDOMAIN) {
    const soa = m.authorities.find((r) => r.type === RRType.SOA);
    if (soa !== undefined) {
      ttl = clamp(Math.min(soa.ttl, (soa.data as SoaData).minimum), 0, limits.maxNegativeTtl);
      cacheable = true;
    }
  }
  const cap = (r: ResourceRecord): ResourceRecord => ({
    ...r,
    ttl: Math.min(r.ttl, limits.maxTtl),
  });
  const base = encodeMessage({
    id: 0,
    // Not authoritative, never validated: QR, RD and the rcode only (reply.ts adds RA).
    flags: Flag.QR | Flag.RD | rcode,
    questions: [{ name: keyToName(key), type: qtype, class: RRClass.IN }],
    answers: m.answers.map(cap),
    authorities: m.authorities.map(cap),
    additionals: additionals.map(cap),
  });
  const again = decodeMessage(base);
  const records = [...again.answers, ...again.authorities, ...again.additionals];
  return {
    base,
    ttlOffsets: Uint32Array.from(records, (r) => r.ttlOffset),
    ttls: Uint32Array.from(records, (r) => r.ttl),
    rcode,
    storedAt: now,
    expiresAt: cacheable ? now + ttl * 1000 : now,
    staleUntil: cacheable ? now + (ttl + limits.staleSeconds) * 1000 : now,
    ttl,
    hits: 0,
    prefetching: false,
  };
}

/** Whether an entry from entryFromResponse may be stored at all. */
export function isCacheable(entry: CacheEntry): boolean {
  return entry.expiresAt > entry.storedAt;
}

function clamp(v: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, v));
}
