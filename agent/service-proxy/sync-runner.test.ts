import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSyncRunner, type SyncRunner } from './sync-runner.ts';

describe('the sync runner', () => {
  let starts: number[];
  let errors: unknown[];
  let runner: SyncRunner | undefined;
  let runTime = 0;
  let fail = false;

  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
    starts = [];
    errors = [];
    runTime = 0;
    fail = false;
  });
  afterEach(async () => {
    const stopping = runner?.stop();
    await vi.runAllTimersAsync();
    await stopping;
    vi.useRealTimers();
  });

  const make = (minIntervalMs: number, maxIntervalMs = 0) => {
    runner = createSyncRunner({
      minIntervalMs,
      maxIntervalMs,
      run: async () => {
        // Node runs a 0 ms timer after 1 ms: starts are kept to 10 ms.
        starts.push(Math.round(Date.now() / 10) * 10);
        if (runTime > 0) await new Promise((r) => setTimeout(r, runTime));
        if (fail) throw new Error('nft said no');
      },
      onError: (error) => errors.push(error),
    });
    return runner;
  };

  it('turns a burst of requests into one run', async () => {
    const r = make(1000);
    for (let i = 0; i < 100; i++) r.request();
    await vi.advanceTimersByTimeAsync(10);
    expect(starts).toEqual([0]);
  });

  it('keeps minInterval between the starts of two runs', async () => {
    const r = make(1000);
    r.request();
    await vi.advanceTimersByTimeAsync(100);
    r.request();
    r.request();
    await vi.advanceTimersByTimeAsync(500);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0, 1000]);
  });

  it('runs one at a time, and once more after a run for what came in during it', async () => {
    runTime = 3000;
    const r = make(1000);
    r.request();
    await vi.advanceTimersByTimeAsync(1500);
    r.request();
    r.request();
    await vi.advanceTimersByTimeAsync(1000);
    expect(starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(600);
    expect(starts).toEqual([0, 3000]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(starts).toEqual([0, 3000]);
  });

  it('runs every maxInterval without being asked', async () => {
    const r = make(100, 5000);
    r.request();
    await vi.advanceTimersByTimeAsync(12_000);
    expect(starts).toEqual([0, 5000, 10_000]);
  });

  it('reports a failed run and goes on', async () => {
    const r = make(100);
    fail = true;
    r.request();
    await vi.advanceTimersByTimeAsync(10);
    fail = false;
    r.request();
    await vi.advanceTimersByTimeAsync(200);
    expect(starts).toEqual([0, 100]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['nft said no']);
  });

  it('runNow does not wait for minInterval and resolves when its run ended', async () => {
    runTime = 50;
    const r = make(10_000);
    r.request();
    await vi.advanceTimersByTimeAsync(100);
    let done = false;
    const waiting = r.runNow().then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(20);
    expect(starts).toEqual([0, 100]);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(40);
    await waiting;
    expect(done).toBe(true);
  });

  it('stops: nothing scheduled runs, and a running run is waited for', async () => {
    runTime = 100;
    const r = make(1000, 2000);
    r.request();
    await vi.advanceTimersByTimeAsync(10);
    r.request();
    const stopping = r.stop();
    await vi.advanceTimersByTimeAsync(10_000);
    await stopping;
    expect(starts).toEqual([0]);
    expect(r.runs()).toBe(1);
  });
});
