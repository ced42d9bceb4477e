// A copy-on-write map: a shared, never-changed base and a small overlay of
// changes. derive() hands out a new map that can be changed without touching
// this one, in time proportional to the overlay, not to the whole map. The
// ruleset builder keeps its per-Service fragments and key owners in these, so
// a sync that changes one Service of 30 000 does not copy 30 000 entries,
// while every ruleset stays a value (a failed apply, or a test, can plan from
// an older one).
//
// When the overlay grows past an eighth of the base (and a floor), derive()
// folds it into a new base: amortised O(1) per changed key.

const DELETED: unique symbol = Symbol('deleted');

export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  #base: ReadonlyMap<K, V>;
  #overlay: Map<K, V | typeof DELETED>;
  #size: number;

  constructor(
    base: ReadonlyMap<K, V> = new Map(),
    overlay: Map<K, V | typeof DELETED> = new Map(),
    size?: number,
  ) {
    this.#base = base;
    this.#overlay = overlay;
    this.#size = size ?? base.size;
  }

  /** A layered copy of any map (the map is shared as the base: do not change it afterwards). */
  static of<K, V>(map: ReadonlyMap<K, V>): LayeredMap<K, V> {
    return map instanceof LayeredMap ? map.derive() : new LayeredMap(map);
  }

  /** A new map with the same contents; changes to it leave this one as it is. */
  derive(): LayeredMap<K, V> {
    const compact = this.compact();
    return new LayeredMap(compact.#base, new Map(compact.#overlay), compact.#size);
  }

  /** This map, or the same contents with a large overlay folded into the base. */
  compact(): LayeredMap<K, V> {
    if (this.#overlay.size <= Math.max(256, this.#base.size / 8)) return this;
    return new LayeredMap(new Map(this.entries()));
  }

  get size(): number {
    return this.#size;
  }

  get(key: K): V | undefined {
    const over = this.#overlay.get(key);
    if (over !== undefined || this.#overlay.has(key)) return over === DELETED ? undefined : over;
    return this.#base.get(key);
  }

  has(key: K): boolean {
    if (this.#overlay.has(key)) return this.#overlay.get(key) !== DELETED;
    return this.#base.has(key);
  }

  set(key: K, value: V): this {
    if (!this.has(key)) this.#size++;
    this.#overlay.set(key, value);
    return this;
  }

  delete(key: K): boolean {
    if (!this.has(key)) return false;
    this.#size--;
    if (this.#base.has(key)) this.#overlay.set(key, DELETED);
    else this.#overlay.delete(key);
    return true;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.#base) {
      if (!this.#overlay.has(key)) yield [key, value];
    }
    for (const [key, value] of this.#overlay) {
      if (value !== DELETED) yield [key, value];
    }
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(fn: (value: V, key: K, map: ReadonlyMap<K, V>) => void): void {
    for (const [key, value] of this.entries()) fn(value, key, this);
  }
}
