import { describe, expect, it } from 'vitest';
import { maskSecret } from './mask.ts';

describe('maskSecret', () => {
  it.each([
    ['memory:', 'memory:'],
    ['redis://127.0.0.1:6379/0', 'redis://127.0.0.1:6379/0'],
    ['redis://:s3cret@127.0.0.1:6379', 'redis://:***@127.0.0.1:6379'],
    ['rediss://pier:s3cret@redis.internal:6380/2', 'rediss://pier:***@redis.internal:6380/2'],
    ['redis://token@host', 'redis://***@host'],
    ['not a url user:pw@host', '***@host'],
  ])('%s', (input, masked) => {
    expect(maskSecret(input)).toBe(masked);
  });
});
