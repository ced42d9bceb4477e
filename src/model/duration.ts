// Gateway API Duration (GEP-2257): one to four `<1-5 digits><h|m|s|ms>`
// components, read as Go's time.ParseDuration reads them: "1h2m3s500ms",
// "90s", "0s". Units may repeat and come in any order ("1s1s" is 2s); a value
// never has a sign or a fraction.

import { z } from 'zod';

const DURATION = /^([0-9]{1,5}(h|m|s|ms)){1,4}$/;
const COMPONENT = /([0-9]{1,5})(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };

export function isDuration(value: string): boolean {
  return DURATION.test(value);
}

/** Milliseconds of a Gateway API Duration, or undefined when the text is not one. */
export function parseDuration(value: string): number | undefined {
  if (!DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, digits, unit] of value.matchAll(COMPONENT)) {
    total += Number(digits) * (UNIT_MS[unit ?? ''] ?? 0);
  }
  return total;
}

/** Formats milliseconds as the canonical Duration: greatest unit first, each once, `0s` for zero. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`not a duration in milliseconds: ${ms}`);
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit] ?? 1;
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) out += `${n}${unit}`;
  }
  return out;
}

export const durationSchema = () =>
  z.string().refine(isDuration, {
    error:
      'must be a Gateway API duration: up to four <number><h|m|s|ms> parts, e.g. 1h2m3s500ms or 10s',
  });
