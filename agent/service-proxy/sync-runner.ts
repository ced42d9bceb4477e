// The rate-limited runner behind record-then-sync (convention 4), after
// kube-proxy's BoundedFrequencyRunner: watchers call request() as often as
// they like; runs start at most once per minInterval, a burst of requests
// becomes one run, one run at a time, and a run happens at least every
// maxInterval even when nothing asks (the periodic resync).
//
// A run that throws is reported and the next one is scheduled as usual; it
// never stops the runner.

export interface SyncRunnerOptions {
  /** Least time between the starts of two runs. */
  minIntervalMs: number;
  /** A run at least this often, requested or not; 0 turns it off. */
  maxIntervalMs: number;
  run: () => Promise<void>;
  onError: (error: unknown) => void;
  now?: () => number;
}

export interface SyncRunner {
  /** Asks for a run: as soon as minInterval allows, together with any other request meanwhile. */
  request(): void;
  /** Runs now (not waiting for minInterval) and resolves when a run that started after this call ends. */
  runNow(): Promise<void>;
  /** Cancels what is scheduled and waits for a running run to end. */
  stop(): Promise<void>;
  /** Runs started so far. */
  runs(): number;
}

export function createSyncRunner(options: SyncRunnerOptions): SyncRunner {
  const now = options.now ?? Date.now;
  let lastStart = Number.NEGATIVE_INFINITY;
  let pending = false;
  let urgent = false;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Number.POSITIVE_INFINITY;
  let periodic: NodeJS.Timeout | undefined;
  let stopped = false;
  let started = 0;
  /** Waiters for the next run to start, and for the run in progress to end. */
  let nextWaiters: (() => void)[] = [];

  const clearTimer = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    timerAt = Number.POSITIVE_INFINITY;
  };

  const schedule = () => {
    if (stopped || running !== undefined || !pending) return;
    const at = urgent ? now() : Math.max(now(), lastStart + options.minIntervalMs);
    if (timer !== undefined && timerAt <= at) return;
    clearTimer();
    timerAt = at;
    timer = setTimeout(fire, Math.max(0, at - now()));
  };

  const armPeriodic = () => {
    if (periodic !== undefined) clearTimeout(periodic);
    periodic = undefined;
    if (stopped || options.maxIntervalMs <= 0) return;
    periodic = setTimeout(() => {
      periodic = undefined;
      pending = true;
      schedule();
    }, options.maxIntervalMs);
  };

  const fire = () => {
    clearTimer();
    if (stopped || running !== undefined) return;
    pending = false;
    urgent = false;
    lastStart = now();
    started++;
    const waiters = nextWaiters;
    nextWaiters = [];
    armPeriodic();
    running = (async () => {
      try {
        await options.run();
      } catch (error) {
        options.onError(error);
      }
    })().finally(() => {
      running = undefined;
      for (const resolve of waiters) resolve();
      schedule();
    });
  };

  return {
    request() {
      pending = true;
      schedule();
    },
    runNow() {
      if (stopped) return Promise.resolve();
      const done = new Promise<void>((resolve) => nextWaiters.push(resolve));
      pending = true;
      urgent = true;
      schedule();
      return done;
    },
    async stop() {
      stopped = true;
      clearTimer();
      if (periodic !== undefined) clearTimeout(periodic);
      periodic = undefined;
      await running;
      for (const resolve of nextWaiters) resolve();
      nextWaiters = [];
    },
    runs: () => started,
  };
}
