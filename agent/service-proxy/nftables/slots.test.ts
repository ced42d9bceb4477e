import { describe, expect, it } from 'vitest';
import { assignSlots, capacityFor, placeSlots, shardOf } from './slots.ts';

describe('assignSlots', () => {
  // previous slots, wanted endpoints -> slots after
  const table: [string, string, string][] = [
    ['', 'a b c', 'a b c'],
    ['a b c', 'a b c', 'a b c'],
    ['a b c', 'c b a', 'a b c'],
    // A newcomer fills the hole the leaver left.
    ['a b c', 'a c d', 'a d c'],
    // The last slot moves down into a hole.
    ['a b c d', 'a c d', 'a d c'],
    ['a b c d', 'b', 'b'],
    ['a b c d', 'd', 'd'],
    ['a b c d', 'a d', 'a d'],
    ['a b c d', 'c d', 'd c'],
    ['a b', 'a b c d', 'a b c d'],
    ['a b c', '', ''],
  ];
  it.each(table)('%s, wanting %s -> %s', (before, wanted, after) => {
    const words = (s: string) => (s === '' ? [] : s.split(' '));
    expect(assignSlots(words(before), words(wanted)).join(' ')).toBe(after);
  });

  it('keeps every endpoint that stays in its slot when nothing needs to move down', () => {
    const before = ['a', 'b', 'c', 'd', 'e'];
    const after = assignSlots(before, ['a', 'x', 'c', 'd', 'e']);
    expect(after).toEqual(['a', 'x', 'c', 'd', 'e']);
  });
});

describe('placeSlots', () => {
  it('reuses a range while the selection fits, and takes a new one when it grows past it', () => {
    const next: Record<string, number> = {};
    const id = 'default/web/tcp/80#cluster';
    const shard = shardOf(id, 4);
    const first = placeSlots(id, 'tcp', ['a', 'b', 'c'], undefined, next, 4);
    const map = `endpoints-tcp-0${shard}`;
    expect(first).toMatchObject({ map, shard, offset: 0, capacity: 4, endpoints: ['a', 'b', 'c'] });
    expect(next[map]).toBe(4);
    const same = placeSlots(id, 'tcp', ['a', 'c', 'd', 'e'], first, next, 4);
    expect(same).toMatchObject({ offset: 0, capacity: 4, endpoints: ['a', 'd', 'c', 'e'] });
    const grown = placeSlots(id, 'tcp', ['a', 'b', 'c', 'd', 'e'], same, next, 4);
    expect(grown).toMatchObject({ offset: 4, capacity: 8 });
    expect(next[map]).toBe(12);
  });

  it('spreads selections over the shards by a stable hash', () => {
    const shards = new Set<number>();
    for (let i = 0; i < 200; i++) shards.add(shardOf(`ns/svc-${i}/tcp/80#cluster`, 16));
    expect(shards.size).toBe(16);
    expect(shardOf('default/web/tcp/80#cluster', 256)).toBe(
      shardOf('default/web/tcp/80#cluster', 256),
    );
  });

  it('sizes ranges in powers of two', () => {
    expect([0, 1, 2, 3, 5, 8, 9, 1000].map(capacityFor)).toEqual([1, 1, 2, 4, 8, 8, 16, 1024]);
  });
});
