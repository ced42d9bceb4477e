// For the HTTP/1.1 parsers' tables (request-parser.test.ts,
// response-parser.test.ts): a case is written with \n line ends in HTTP's
// own notation and fed every way TCP could cut it, so that no verdict
// depends on where a read ended.

import { expect } from 'vitest';

/** `\n` line ends to CRLF: cases read as HTTP is written. */
export const crlf = (lines: string): string => lines.replace(/\n/g, '\r\n');

/**
 * The same bytes in one read, one byte per read, and split in two at every
 * position: every way must give what the single read gave, which it returns.
 */
export function everyWay<T, O>(
  parse: (chunks: string[], options?: O) => T,
  raw: string,
  options?: O,
): T {
  const whole = parse([raw], options);
  expect(parse([...raw], options), 'one byte per read').toEqual(whole);
  for (let i = 1; i < raw.length; i++) {
    expect(parse([raw.slice(0, i), raw.slice(i)], options), `split at ${i}`).toEqual(whole);
  }
  return whole;
}
