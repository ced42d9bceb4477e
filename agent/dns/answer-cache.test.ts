import packet from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { createAnswerCache, entryFromResponse, isCacheable } from './answer-cache.ts';
import { decodeMessage } from './message.ts';
import { nameKey } from './wire.ts';
import { formatRecord } from './zone-file.ts';

const limits = { maxEntries: 3, minTtl: 0, maxTtl: 600, maxNegativeTtl: 60, staleSeconds: 100 };
const key = nameKey('www.example.com.');

function response(
  rcode: number,
  answers: packet.Answer[],
  authorities: packet.Answer[] = [],
): Buffer {
  return packet.encode({
    type: 'response',
    id: 9,
    flags: packet.RECURSION_AVAILABLE | packet.AUTHENTIC_DATA | rcode,
    questions: [{ type: 'A', name: 'WWW.example.com' }],
    answers,
    authorities,
    additionals: [
      {
        type: 'OPT',
        name: '.',
        udpPayloadSize: 4096,
        options: [{ code: 10, data: Buffer.alloc(8) }],
      } as unknown as packet.Answer,
    ],
  });
}
const soa = (ttl: number, minimum: number): packet.Answer =>
  ({
    type: 'SOA',
    name: 'example.com',
    ttl,
    data: { mname: 'ns', rname: 'host', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
  }) as packet.Answer;

describe('answer cache', () => {
  it('keeps a positive answer for its smallest TTL, capped, without the upstream OPT or AD bit', () => {
    const entry = entryFromResponse(
      response(0, [
        { type: 'A', name: 'www.example.com', ttl: 900, data: '192.0.2.1' },
        { type: 'A', name: 'www.example.com', ttl: 300, data: '192.0.2.2' },
      ]),
      key,
      1,
      1000,
      limits,
    );
    expect(entry.expiresAt).toBe(1000 + 300_000);
    expect(entry.staleUntil).toBe(1000 + 400_000);
    const m = decodeMessage(entry.base);
    expect(m.questions[0]!.name).toBe('www.example.com.');
    expect(m.additionals).toEqual([]);
    expect(m.flags & 0x20).toBe(0);
    expect(m.answers.map(formatRecord)).toEqual([
      'www.example.com. 600 IN A 192.0.2.1',
      'www.example.com. 300 IN A 192.0.2.2',
    ]);
    expect([...entry.ttls]).toEqual([600, 300]);
  });

  it('keeps NXDOMAIN and NODATA for the SOA negative TTL (RFC 2308), capped; without an SOA not at all', () => {
    const nx = entryFromResponse(response(3, [], [soa(3600, 30)]), key, 1, 0, limits);
    expect(nx.rcode).toBe(3);
    expect(nx.expiresAt).toBe(30_000);
    const long = entryFromResponse(response(0, [], [soa(3600, 3600)]), key, 1, 0, limits);
    expect(long.expiresAt).toBe(60_000);
    expect(isCacheable(entryFromResponse(response(3, []), key, 1, 0, limits))).toBe(false);
    expect(isCacheable(entryFromResponse(response(2, []), key, 1, 0, limits))).toBe(false);
  });

  it('forgets entries past their stale window, and the oldest names when full', () => {
    const cache = createAnswerCache(limits);
    const entry = entryFromResponse(
      response(0, [{ type: 'A', name: 'www.example.com', ttl: 10, data: '192.0.2.1' }]),
      key,
      1,
      0,
      limits,
    );
    cache.set(key, 1, entry);
    expect(cache.get(key, 1, 50_000)).toBe(entry);
    expect(cache.get(key, 1, 110_001)).toBeUndefined();
    expect(cache.size()).toBe(0);
    for (const n of ['a', 'b', 'c', 'd']) cache.set(nameKey(`${n}.example.`), 1, entry);
    expect(cache.size()).toBe(3);
    expect(cache.get(nameKey('a.example.'), 1, 0)).toBeUndefined();
    expect(cache.get(nameKey('d.example.'), 1, 0)).toBe(entry);
  });
});
