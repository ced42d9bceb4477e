// Per-request counter increments and histogram observations without
// prom-client's per-call work. A prom-client child (`labels(...)`) still
// validates its labels, builds the `name:value,` hash string and looks it up
// on every call: three times per request, it cost more than all of the
// gateway's own request handling (measured: user CPU per request 32.8 ->
// 25.2 µs without the observer).
//
// So a child here goes through prom-client once, then finds the value entry
// prom-client made for its labels and adds to that entry directly, as
// prom-client itself would (histogram: sum, count, the first bucket whose
// bound holds the value; counter: value). Before each direct add it checks
// that the entry is still the one prom-client holds under its key: after a
// reset() or remove() it goes through prom-client again and finds the new
// entry. A prom-client whose internals look different (no hashMap,
// upperBounds) is only ever called through its public API: slower, never
// wrong.

import type { Counter, Histogram } from 'prom-client';

interface HistogramEntry {
  labels: Record<string, string | number>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

interface CounterEntry {
  labels: Record<string, string | number>;
  value: number;
}

interface Internals<E> {
  hashMap?: Record<string, E | undefined>;
  labelNames?: readonly string[];
  upperBounds?: readonly number[];
}

/** The key of the entry whose labels are `values` (in labelNames order), or undefined. */
function findKey<E extends { labels: Record<string, string | number> }>(
  internals: Internals<E>,
  values: readonly string[],
): string | undefined {
  const map = internals.hashMap;
  const names = internals.labelNames;
  if (map === undefined || names === undefined || names.length !== values.length) return undefined;
  for (const key in map) {
    const labels = map[key]?.labels;
    if (labels === undefined) continue;
    let same = true;
    for (let i = 0; i < names.length; i++) {
      if (String(labels[names[i]!]) !== values[i]) {
        same = false;
        break;
      }
    }
    if (same) return key;
  }
  return undefined;
}

/** observe(seconds) for one label set of `histogram`. */
export function histogramChild<T extends string>(
  histogram: Histogram<T>,
  values: string[],
): (value: number) => void {
  const child = histogram.labels(...values);
  const internals = histogram as unknown as Internals<HistogramEntry>;
  const bounds = internals.upperBounds;
  const direct =
    Array.isArray(bounds) &&
    typeof internals.hashMap === 'object' &&
    Array.isArray(internals.labelNames);
  let key: string | undefined;
  let entry: HistogramEntry | undefined;
  return (value) => {
    if (
      direct &&
      entry !== undefined &&
      internals.hashMap![key!] === entry &&
      Number.isFinite(value)
    ) {
      entry.sum += value;
      entry.count += 1;
      const b = bounds!;
      for (let i = 0; i < b.length; i++) {
        if (value <= b[i]!) {
          const bound = b[i]!;
          if (Object.hasOwn(entry.bucketValues, bound)) entry.bucketValues[bound]! += 1;
          break;
        }
      }
      return;
    }
    child.observe(value);
    if (!direct) return;
    key = findKey(internals, values);
    const found = key === undefined ? undefined : internals.hashMap![key];
    entry =
      found !== undefined &&
      typeof found.sum === 'number' &&
      typeof found.count === 'number' &&
      typeof found.bucketValues === 'object'
        ? found
        : undefined;
  };
}

/** inc() by one for one label set of `counter`. */
export function counterChild<T extends string>(counter: Counter<T>, values: string[]): () => void {
  const child = counter.labels(...values);
  const internals = counter as unknown as Internals<CounterEntry>;
  const direct = typeof internals.hashMap === 'object' && Array.isArray(internals.labelNames);
  let key: string | undefined;
  let entry: CounterEntry | undefined;
  return () => {
    if (direct && entry !== undefined && internals.hashMap![key!] === entry) {
      entry.value += 1;
      return;
    }
    child.inc();
    if (!direct) return;
    key = findKey(internals, values);
    const found = key === undefined ? undefined : internals.hashMap![key];
    entry = found !== undefined && typeof found.value === 'number' ? found : undefined;
  };
}
