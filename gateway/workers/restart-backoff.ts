// When a crashed worker is started again. A worker that ran for a while
// (`stableMs`) is restarted at once; one that keeps crashing waits twice as
// long each time, up to `maxMs`, so a broken config or a port taken by
// another process does not turn into a fork loop.

export interface RestartBackoff {
  /** The wait before restarting a worker that ran for `uptimeMs` and crashed. */
  next(uptimeMs: number): number;
}

export interface RestartBackoffOptions {
  initialMs?: number;
  maxMs?: number;
  stableMs?: number;
}

export function createRestartBackoff(options: RestartBackoffOptions = {}): RestartBackoff {
  const initial = options.initialMs ?? 100;
  const max = options.maxMs ?? 10_000;
  const stable = options.stableMs ?? 30_000;
  let wait = 0;
  return {
    next(uptimeMs) {
      if (uptimeMs >= stable) {
        wait = 0;
        return 0;
      }
      wait = wait === 0 ? initial : Math.min(wait * 2, max);
      return wait;
    },
  };
}
