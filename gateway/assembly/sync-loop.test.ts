import { describe, expect, it } from 'vitest';
import { createSyncLoop } from './sync-loop.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the sync loop', () => {
  it('coalesces changes recorded within the delay into one sync', async () => {
    let syncs = 0;
    const loop = createSyncLoop(
      20,
      async () => void syncs++,
      () => {},
    );
    for (let i = 0; i < 50; i++) loop.schedule();
    await loop.settled();
    expect(syncs).toBe(1);
    await loop.stop();
  });

  it('picks up changes recorded while a sync runs with one more sync', async () => {
    let syncs = 0;
    let release: () => void = () => {};
    const loop = createSyncLoop(
      1,
      async () => {
        syncs++;
        if (syncs === 1) await new Promise<void>((r) => (release = r));
      },
      () => {},
    );
    loop.schedule();
    await sleep(10);
    expect(syncs).toBe(1);
    loop.schedule();
    loop.schedule();
    const settled = loop.settled();
    release();
    await settled;
    expect(syncs).toBe(2);
    await loop.stop();
  });

  it('settled() waits for a sync that starts after the call', async () => {
    const order: string[] = [];
    const loop = createSyncLoop(
      5,
      async () => void order.push('sync'),
      () => {},
    );
    await loop.runNow();
    const settled = loop.settled().then(() => order.push('settled'));
    await settled;
    expect(order).toEqual(['sync', 'sync', 'settled']);
    await loop.stop();
  });

  it('reports a failed sync and retries it', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    const loop = createSyncLoop(
      1,
      async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
      (e) => errors.push(e),
    );
    loop.schedule();
    await sleep(20);
    expect(errors).toHaveLength(1);
    // The retry waits at least a second after a failure.
    await sleep(1100);
    expect(calls).toBe(2);
    await loop.stop();
  });

  it('runs nothing after stop()', async () => {
    let syncs = 0;
    const loop = createSyncLoop(
      5,
      async () => void syncs++,
      () => {},
    );
    loop.schedule();
    await loop.stop();
    await sleep(20);
    expect(syncs).toBe(0);
  });
});
