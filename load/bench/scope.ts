// A scope owns what a benchmark step started (processes, temp dirs) and
// releases it in reverse order, also when the step failed. Every cleanup runs
// even if an earlier one throws; the first error is reported after all ran.

export interface Scope {
  /** Registers a cleanup; cleanups run last-in, first-out on close(). */
  defer(cleanup: () => void | Promise<void>): void;
  /** Runs every cleanup once; later calls wait for the same close. */
  close(): Promise<void>;
  readonly closed: boolean;
}

export function createScope(): Scope {
  const cleanups: Array<() => void | Promise<void>> = [];
  let closing: Promise<void> | undefined;

  const run = async (): Promise<void> => {
    let firstError: unknown;
    while (cleanups.length > 0) {
      const cleanup = cleanups.pop()!;
      try {
        await cleanup();
      } catch (error) {
        firstError ??= error;
      }
    }
    if (firstError !== undefined) throw firstError;
  };

  return {
    defer(cleanup) {
      if (closing !== undefined) {
        // Registered after close began: release it right away rather than leak it.
        void Promise.resolve()
          .then(cleanup)
          .catch(() => {});
        return;
      }
      cleanups.push(cleanup);
    },
    close() {
      closing ??= run();
      return closing;
    },
    get closed() {
      return closing !== undefined;
    },
  };
}

/** Runs body with a fresh scope and closes it afterwards, whatever happened. */
export async function withScope<T>(body: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = createScope();
  try {
    return await body(scope);
  } finally {
    await scope.close();
  }
}
