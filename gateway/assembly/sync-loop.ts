// Record, then sync (convention 4): watchers call schedule(); one sync runs
// at a time, at most once per `delayMs`, and every change recorded while it
// waits or runs is picked up by the next one. A failed sync is logged by its
// owner and retried a second later; the gateway keeps its last good state.

export interface SyncLoop {
  /** Something changed: sync within delayMs (coalescing with other changes). */
  schedule(): void;
  /** Runs a sync now (after any running one); resolves when it has finished. */
  runNow(): Promise<void>;
  /** Resolves once a sync that started after this call has finished. */
  settled(): Promise<void>;
  /** No more syncs; resolves when a running one has finished. */
  stop(): Promise<void>;
}

export function createSyncLoop(
  delayMs: number,
  sync: () => Promise<void>,
  onError: (error: unknown) => void,
): SyncLoop {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let dirty = false;
  let stopped = false;
  let lastStart = 0;
  let failed = false;
  /** Waiters for the next sync to start, and those for a sync that already started. */
  let waiting: (() => void)[] = [];

  const run = async (): Promise<void> => {
    timer = undefined;
    if (stopped) return;
    if (running !== undefined) {
      // Picked up when the running sync ends.
      dirty = true;
      return;
    }
    dirty = false;
    lastStart = performance.now();
    const waiters = waiting;
    waiting = [];
    running = sync()
      .then(
        () => {
          failed = false;
        },
        (error: unknown) => {
          onError(error);
          failed = true;
          dirty = true;
        },
      )
      .finally(() => {
        running = undefined;
        for (const resolve of waiters) resolve();
        if (dirty && !stopped) arm();
      });
    await running;
  };

  const arm = () => {
    if (timer !== undefined || stopped) return;
    // After a failure, retry no faster than once a second.
    const interval = failed ? Math.max(delayMs, 1000) : delayMs;
    const wait = Math.max(0, interval - (performance.now() - lastStart));
    timer = setTimeout(run, wait);
  };

  return {
    schedule() {
      if (running !== undefined) dirty = true;
      else arm();
    },
    async runNow() {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      while (running !== undefined) await running;
      await run();
    },
    settled() {
      return new Promise<void>((resolve) => {
        waiting.push(resolve);
        if (running !== undefined) dirty = true;
        else arm();
      });
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      for (const resolve of waiting) resolve();
      waiting = [];
      await running;
    },
  };
}
