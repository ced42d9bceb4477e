// Medians of several runs: one slow run (a GC pause, a noisy neighbour) moves
// a mean but not a median.

import type { Sample } from './benchmark.ts';

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The median of each metric over samples, metric by metric. */
export function medianMetrics(samples: readonly Sample[]): Record<string, number> {
  const keys = new Set(samples.flatMap((s) => Object.keys(s.metrics)));
  const out: Record<string, number> = {};
  for (const key of keys) {
    const values = samples.map((s) => s.metrics[key]).filter((v): v is number => v !== undefined);
    if (values.length > 0) out[key] = median(values);
  }
  return out;
}
