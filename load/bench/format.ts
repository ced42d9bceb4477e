// Number formatting shared by the markdown and SVG renderers.

import type { MetricDef } from './benchmark.ts';

const formatters = new Map<number, Intl.NumberFormat>();

/** `12345.6` with 0 digits -> `12,346`; fixed digits so columns line up. */
export function formatNumber(value: number, digits: number): string {
  let f = formatters.get(digits);
  if (f === undefined) {
    f = new Intl.NumberFormat('en-US', {
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formatters.set(digits, f);
  }
  return f.format(value);
}

export function formatMetric(value: number | undefined, def: MetricDef): string {
  if (value === undefined) return '–';
  const n = formatNumber(value, def.digits);
  return def.unit === '' ? n : `${n} ${def.unit}`;
}

/** `1.234` -> `1.23x`; null -> `n/a`. */
export function formatRatio(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : `${formatNumber(value, 2)}x`;
}
