import { describe, expect, it } from 'vitest';
import { isValidTraceparent, newTraceparent, traceIdOf } from './traceparent.ts';

describe('traceparent', () => {
  it.each([
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00', true],
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future', true], // later version, extra field
    ['01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', true],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x', false], // version 00 has no more fields
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false], // version ff is invalid
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01', false], // zero trace id
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', false], // zero parent id
    ['00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', false], // upper case
    ['00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', false], // short trace id
    ['00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', false],
    ['', false],
  ])('%j valid: %s', (value, valid) => {
    expect(isValidTraceparent(value)).toBe(valid);
  });

  it('starts valid, distinct traces', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const value = newTraceparent();
      expect(isValidTraceparent(value)).toBe(true);
      expect(value.endsWith('-00')).toBe(true);
      seen.add(traceIdOf(value));
    }
    expect(seen.size).toBe(1000);
  });
});
