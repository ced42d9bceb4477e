import { describe, expect, it } from 'vitest';
import { createRestartBackoff } from './restart-backoff.ts';

describe('restart backoff', () => {
  it('doubles the wait for a worker that keeps crashing, up to the cap, and resets after a stable run', () => {
    const backoff = createRestartBackoff({ initialMs: 100, maxMs: 1000, stableMs: 30_000 });
    const waits = [10, 10, 10, 10, 10, 10].map((uptime) => backoff.next(uptime));
    expect(waits).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect(backoff.next(60_000)).toBe(0);
    expect(backoff.next(10)).toBe(100);
  });
});
