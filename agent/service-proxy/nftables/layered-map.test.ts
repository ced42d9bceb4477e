import { describe, expect, it } from 'vitest';
import { LayeredMap } from './layered-map.ts';

describe('LayeredMap', () => {
  it('behaves as a Map', () => {
    const m = LayeredMap.of(
      new Map([
        ['a', 1],
        ['b', 2],
      ]),
    );
    m.set('c', 3).set('a', 10);
    expect(m.delete('b')).toBe(true);
    expect(m.delete('b')).toBe(false);
    expect(m.delete('zz')).toBe(false);
    expect(m.size).toBe(2);
    expect(m.get('a')).toBe(10);
    expect(m.has('b')).toBe(false);
    expect(m.get('b')).toBeUndefined();
    expect(Object.fromEntries(m)).toEqual({ a: 10, c: 3 });
    expect([...m.keys()].sort()).toEqual(['a', 'c']);
    m.set('b', 20);
    expect(m.size).toBe(3);
    expect(Object.fromEntries(m)).toEqual({ a: 10, b: 20, c: 3 });
  });

  it('leaves the map it was derived from as it was', () => {
    const base = new Map(Array.from({ length: 1000 }, (_, i) => [`k${i}`, i]));
    const first = LayeredMap.of(base);
    first.set('k1', -1);
    const second = first.derive();
    second.set('k2', -2);
    second.delete('k3');
    second.set('new', 7);
    expect([first.get('k1'), first.get('k2'), first.get('k3'), first.get('new')]).toEqual([
      -1,
      2,
      3,
      undefined,
    ]);
    expect(first.size).toBe(1000);
    expect([second.get('k1'), second.get('k2'), second.has('k3'), second.get('new')]).toEqual([
      -1,
      -2,
      false,
      7,
    ]);
    expect(second.size).toBe(1000);
    expect(base.get('k1')).toBe(1);
  });

  it('folds a large overlay into a new base with the same contents', () => {
    const m = LayeredMap.of(new Map<string, number>());
    for (let i = 0; i < 2000; i++) m.set(`k${i}`, i);
    for (let i = 0; i < 500; i++) m.delete(`k${i}`);
    const compact = m.compact();
    expect(compact).not.toBe(m);
    expect(compact.size).toBe(1500);
    expect(new Map(compact)).toEqual(new Map(m));
    expect(compact.compact()).toBe(compact);
  });
});
