// Readiness: named checks that must all pass for /readyz to say 200. A
// component registers its own (`readiness.set('store', () => store.connected)`);
// shutdown() makes the process unready for good, so load balancers drain it
// before the listeners close.
//
// A check may be async; each gets a time limit, so /readyz answers even when
// a dependency hangs.

export type ReadinessCheck = () => boolean | Promise<boolean>;

export interface ReadinessFailure {
  name: string;
  reason: string;
}

export interface ReadinessReport {
  ready: boolean;
  failing: ReadinessFailure[];
}

export interface Readiness {
  /** Adds or replaces the check called `name`. */
  set(name: string, check: ReadinessCheck): void;
  delete(name: string): boolean;
  /** From now on the process is not ready, whatever the checks say. */
  shutdown(): void;
  readonly shuttingDown: boolean;
  /** Runs every check (in registration order for the report). */
  evaluate(): Promise<ReadinessReport>;
}

export interface ReadinessOptions {
  /** How long one check may take before it counts as failing. Default 2000 ms. */
  checkTimeoutMs?: number;
}

export function createReadiness(options: ReadinessOptions = {}): Readiness {
  const timeoutMs = options.checkTimeoutMs ?? 2000;
  const checks = new Map<string, ReadinessCheck>();
  let shuttingDown = false;

  const run = async (
    name: string,
    check: ReadinessCheck,
  ): Promise<ReadinessFailure | undefined> => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const result = check();
      const ok =
        typeof result === 'boolean'
          ? result
          : await Promise.race([
              result,
              new Promise<'timeout'>((resolve) => {
                timer = setTimeout(() => resolve('timeout'), timeoutMs);
              }),
            ]);
      if (ok === 'timeout') return { name, reason: `no answer within ${timeoutMs} ms` };
      return ok === true ? undefined : { name, reason: 'not ready' };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const message = error instanceof Error ? error.message : String(error);
      return {
        name,
        reason: `check failed: ${message}${typeof code === 'string' ? ` (${code})` : ''}`,
      };
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  };

  return {
    set(name, check) {
      checks.set(name, check);
    },
    delete: (name) => checks.delete(name),
    shutdown() {
      shuttingDown = true;
    },
    get shuttingDown() {
      return shuttingDown;
    },
    async evaluate() {
      const results = await Promise.all([...checks].map(([name, check]) => run(name, check)));
      const failing = results.filter((r): r is ReadinessFailure => r !== undefined);
      if (shuttingDown)
        failing.unshift({ name: 'shutdown', reason: 'the process is shutting down' });
      return { ready: failing.length === 0, failing };
    },
  };
}
