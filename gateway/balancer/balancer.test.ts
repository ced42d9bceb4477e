// Balancers as tables: hosts (key, in-flight), scripted random draws or
// affinity hashes -> the host each pick returns.

import { describe, expect, it } from 'vitest';
import { type BalancerHost, type BalancerKind, createBalancer } from '../balancer.ts';
import { murmur3 } from './hash.ts';
import { buildMaglevTable } from './maglev.ts';
import { buildRing, lookupRing } from './ring-hash.ts';

function hosts(spec: string): BalancerHost[] {
  // "a:0 b:3 c:1" -> key a with 0 in flight, ...
  return spec
    .split(' ')
    .filter(Boolean)
    .map((item) => {
      const [key, active] = item.split(':');
      return { key: key!, active: Number(active ?? 0) };
    });
}

function scripted(draws: number[]): () => number {
  let i = 0;
  return () => {
    const d = draws[i++];
    if (d === undefined) throw new Error('random drawn more often than scripted');
    return d;
  };
}

describe('murmur3', () => {
  it.each([
    ['', 0, 0],
    ['hello', 0, 613153351],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
    ['', 1, 0x514e28b7],
  ])('murmur3(%j, %i) = %i', (text, seed, expected) => {
    expect(murmur3(text, seed)).toBe(expected);
  });

  // A straightforward byte-wise reference, to check the on-the-fly UTF-8 encoding.
  function reference(bytes: Uint8Array, seed: number): number {
    let h = seed >>> 0;
    const blocks = bytes.length >> 2;
    const mix = (k0: number): number => {
      let k = Math.imul(k0, 0xcc9e2d51);
      k = (k << 15) | (k >>> 17);
      return Math.imul(k, 0x1b873593);
    };
    for (let i = 0; i < blocks; i++) {
      const k =
        bytes[4 * i]! |
        (bytes[4 * i + 1]! << 8) |
        (bytes[4 * i + 2]! << 16) |
        (bytes[4 * i + 3]! << 24);
      h ^= mix(k);
      h = (h << 13) | (h >>> 19);
      h = (Math.imul(h, 5) + 0xe6546b64) | 0;
    }
    let tail = 0;
    for (let i = bytes.length - 1; i >= blocks * 4; i--) tail = (tail << 8) | bytes[i]!;
    if (bytes.length % 4 !== 0) h ^= mix(tail);
    h ^= bytes.length;
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
    return h >>> 0;
  }

  it.each([
    'a',
    'ab',
    'abc',
    'abcd',
    '10.0.0.1:8080',
    'gr\u00fc\u00dfe',
    '\u20ac uro',
    'smile \u{1f600}',
    'lone \ud800 surrogate',
  ])('hashes %j as its UTF-8 bytes', (text) => {
    const bytes = new TextEncoder().encode(text);
    expect(murmur3(text, 0)).toBe(reference(bytes, 0));
    expect(murmur3(text, 42)).toBe(reference(bytes, 42));
  });
});

describe('least-request (power of two choices)', () => {
  // draws: two uniform numbers per pick; n hosts -> first index floor(r*n),
  // second floor(r*(n-1)) skipping the first.
  it.each([
    { hosts: '', draws: [], pick: -1 },
    { hosts: 'a:5', draws: [], pick: 0 },
    { hosts: 'a:0 b:0', draws: [0.1, 0.9], pick: 0 }, // a vs b, tie -> first draw
    { hosts: 'a:3 b:1', draws: [0.1, 0.9], pick: 1 }, // a vs b, b has fewer
    { hosts: 'a:3 b:1', draws: [0.9, 0.1], pick: 1 }, // b vs a, b has fewer
    { hosts: 'a:1 b:3 c:0', draws: [0.0, 0.0], pick: 0 }, // a vs b (0 -> skips a)
    { hosts: 'a:1 b:3 c:0', draws: [0.5, 0.99], pick: 2 }, // b vs c
    { hosts: 'a:1 b:3 c:0', draws: [0.99, 0.0], pick: 2 }, // c vs a
  ])('$hosts with draws $draws -> $pick', ({ hosts: spec, draws, pick }) => {
    const balancer = createBalancer('least-request', { random: scripted(draws) });
    balancer.setHosts(hosts(spec));
    expect(balancer.pick(0)).toBe(pick);
  });

  it('never picks the most loaded of three hosts', () => {
    const balancer = createBalancer('least-request', { random: Math.random });
    balancer.setHosts(hosts('a:1 b:9 c:2'));
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[balancer.pick(0)]!++;
    expect(counts[1]).toBe(0);
    expect(counts[0]).toBeGreaterThan(counts[2]!);
  });
});

describe('round-robin', () => {
  it.each([
    { hosts: '', start: 0.5, picks: [-1, -1] },
    { hosts: 'a', start: 0.5, picks: [0, 0, 0] },
    { hosts: 'a b c', start: 0, picks: [0, 1, 2, 0, 1] },
    { hosts: 'a b c', start: 0.7, picks: [2, 0, 1, 2] },
  ])('$hosts starting at $start -> $picks', ({ hosts: spec, start, picks }) => {
    const balancer = createBalancer('round-robin', { random: scripted([start]) });
    balancer.setHosts(hosts(spec));
    expect(picks.map(() => balancer.pick(0))).toEqual(picks);
  });

  it('keeps turning when the host list shrinks under the cursor', () => {
    const balancer = createBalancer('round-robin', { random: scripted([0]) });
    balancer.setHosts(hosts('a b c d'));
    expect([balancer.pick(0), balancer.pick(0), balancer.pick(0)]).toEqual([0, 1, 2]);
    balancer.setHosts(hosts('a b'));
    expect([balancer.pick(0), balancer.pick(0), balancer.pick(0)]).toEqual([0, 1, 0]);
  });
});

const keys10 = Array.from({ length: 10 }, (_, i) => `10.0.0.${i + 1}:8080`);

function spread(pick: (hash: number) => number, n: number, samples = 20000): number[] {
  const counts = new Array<number>(n).fill(0);
  for (let i = 0; i < samples; i++) counts[pick(murmur3(`client-${i}`))]!++;
  return counts;
}

describe.each(['ring-hash', 'maglev'] as BalancerKind[])('%s', (kind) => {
  it('is empty with no hosts', () => {
    const balancer = createBalancer(kind);
    balancer.setHosts([]);
    expect(balancer.pick(123)).toBe(-1);
  });

  it('sends one key to one host, whatever the order hosts are listed in', () => {
    const a = createBalancer(kind);
    const b = createBalancer(kind);
    const list = keys10.map((key) => ({ key, active: 0 }));
    a.setHosts(list);
    b.setHosts([...list].reverse());
    for (let i = 0; i < 500; i++) {
      const h = murmur3(`client-${i}`);
      expect(list[a.pick(h)]!.key).toBe([...list].reverse()[b.pick(h)]!.key);
      expect(a.pick(h)).toBe(a.pick(h));
    }
  });

  it('spreads keys evenly enough', () => {
    const balancer = createBalancer(kind);
    balancer.setHosts(keys10.map((key) => ({ key, active: 0 })));
    const counts = spread((h) => balancer.pick(h), 10);
    // 2000 expected each; the ring with 1024 points varies more than maglev.
    for (const c of counts) {
      expect(c).toBeGreaterThan(kind === 'maglev' ? 1700 : 1000);
      expect(c).toBeLessThan(kind === 'maglev' ? 2300 : 3000);
    }
  });

  it('moves only the removed host keys (and few others) when a host goes', () => {
    const before = createBalancer(kind);
    const after = createBalancer(kind);
    const all = keys10.map((key) => ({ key, active: 0 }));
    const fewer = all.filter((h) => h.key !== keys10[3]);
    before.setHosts(all);
    after.setHosts(fewer);
    let moved = 0;
    const samples = 20000;
    for (let i = 0; i < samples; i++) {
      const h = murmur3(`client-${i}`);
      const was = all[before.pick(h)]!.key;
      const now = fewer[after.pick(h)]!.key;
      if (was !== keys10[3] && was !== now) moved++;
    }
    // Ring hash moves none of the others' keys; Maglev a small share.
    expect(moved / samples).toBeLessThan(kind === 'maglev' ? 0.05 : 0.0001);
  });
});

describe('buildRing / lookupRing', () => {
  it('wraps around past the last point', () => {
    const ring = buildRing(['a', 'b'], 4);
    const last = ring.points[ring.points.length - 1]!;
    expect(lookupRing(ring, last + 1 > 0xffffffff ? 0 : last + 1)).toBe(ring.owners[0]);
    expect(lookupRing(ring, ring.points[1]!)).toBe(ring.owners[1]);
  });
});

describe('buildMaglevTable', () => {
  it('gives each host its share within one entry', () => {
    const table = buildMaglevTable(['a', 'b', 'c'], 7);
    const counts = [0, 0, 0];
    for (const owner of table) counts[owner]!++;
    expect(counts.sort()).toEqual([2, 2, 3]);
  });

  it('rejects a table size that is not prime', () => {
    expect(() => buildMaglevTable(['a'], 100)).toThrow(/prime/);
  });
});
