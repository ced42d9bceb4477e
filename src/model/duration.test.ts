import { describe, expect, it } from 'vitest';
import { formatDuration, isDuration, parseDuration } from './duration.ts';

// text | milliseconds (undefined: not a Gateway API duration)
const table: [string, number | undefined][] = [
  ['0s', 0],
  ['1h', 3_600_000],
  ['1h2m3s500ms', 3_723_500],
  ['90s', 90_000],
  ['500ms', 500],
  ['01h', 3_600_000],
  ['00060m', 3_600_000],
  ['99999h', 99_999 * 3_600_000],
  ['1s1s', 2000], // units may repeat, as in time.ParseDuration
  ['1ms1h', 3_600_001], // and come in any order
  ['', undefined],
  ['1', undefined],
  ['1d', undefined],
  ['1.5s', undefined],
  ['-1s', undefined],
  ['100000s', undefined], // six digits
  ['1h1m1s1ms1h', undefined], // five parts
  ['1us', undefined],
  [' 1s', undefined],
  ['1S', undefined],
];

describe('Gateway API Duration (GEP-2257)', () => {
  it.each(table)('%j -> %s ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(isDuration(text)).toBe(ms !== undefined);
  });

  it.each([
    [0, '0s'],
    [500, '500ms'],
    [90_000, '1m30s'],
    [3_723_500, '1h2m3s500ms'],
  ])('formats %d ms as %s, which parses back', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
    expect(parseDuration(text)).toBe(ms);
  });

  it('refuses to format what is not a duration', () => {
    expect(() => formatDuration(-1)).toThrow(RangeError);
    expect(() => formatDuration(1.5)).toThrow(RangeError);
  });
});
