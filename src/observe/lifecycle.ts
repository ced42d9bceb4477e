// The process lifecycle: SIGTERM or SIGINT starts an ordered shutdown.
//
//   1. readiness.shutdown(): /readyz turns 503, load balancers stop sending;
//   2. wait drainMs (0 by default; a gateway behind a load balancer sets it);
//   3. the registered closers, last registered first (a listener opened after
//      the Store closes before it), each awaited, all within graceMs;
//   4. exit 0, or 1 when a closer failed or the grace ran out.
//
// A second signal during shutdown exits at once (1). Uncaught exceptions and
// unhandled rejections are logged as fatal with their code, then shut down
// the same way with exit code 1: the process may be in a bad state, so it
// does not go on.
//
// The process is a port (ProcessPort), so tests drive signals and see exits
// without killing the test runner.

import { ObserveErrors } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Readiness } from './readiness.ts';

type Signal = 'SIGTERM' | 'SIGINT';
type ProcessEvent = Signal | 'uncaughtException' | 'unhandledRejection';

export interface ProcessPort {
  on(event: ProcessEvent, listener: (arg: unknown) => void): unknown;
  off(event: ProcessEvent, listener: (arg: unknown) => void): unknown;
  exit(code: number): void;
}

export interface LifecycleOptions {
  logger: Logger;
  readiness?: Readiness;
  /** Time for all closers together. Default 10 000 ms. */
  graceMs?: number;
  /** Pause between turning unready and closing, for load balancers to notice. Default 0. */
  drainMs?: number;
  /** Defaults to the real process. */
  process?: ProcessPort;
}

export interface Lifecycle {
  /** Registers something to close on shutdown; closers run in reverse order of registration. */
  onShutdown(name: string, close: () => unknown): void;
  /** Hooks signals and uncaught errors; returns the function that unhooks them. */
  install(): () => void;
  /** Shuts down as a signal would; resolves to the exit code, then exits. Idempotent. */
  shutdown(reason: string, code?: number): Promise<number>;
  /** Resolves to the exit code once shutdown has finished (just before exit). */
  readonly done: Promise<number>;
}

export function createLifecycle(options: LifecycleOptions): Lifecycle {
  const logger = options.logger.child({ component: 'lifecycle' });
  const proc: ProcessPort = options.process ?? (process as unknown as ProcessPort);
  const graceMs = options.graceMs ?? 10_000;
  const drainMs = options.drainMs ?? 0;
  const closers: { name: string; close: () => unknown }[] = [];
  let running: Promise<number> | undefined;
  let settle: (code: number) => void = () => {};
  const done = new Promise<number>((resolve) => {
    settle = resolve;
  });

  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

  async function closeAll(): Promise<boolean> {
    let ok = true;
    const deadline = Date.now() + graceMs;
    const pending = closers.toReversed();
    for (let i = 0; i < pending.length; i++) {
      const { name, close } = pending[i]!;
      let timer: NodeJS.Timeout | undefined;
      const timeUp = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), Math.max(0, deadline - Date.now()));
      });
      try {
        const result = await Promise.race([Promise.resolve().then(close), timeUp]);
        if (result === 'timeout') {
          const waiting = pending.slice(i).map((c) => c.name);
          const error = ObserveErrors.SHUTDOWN_TIMEOUT(waiting.join(', '), graceMs);
          logger.error({ code: error.code, waiting }, error.message);
          return false;
        }
        logger.debug({ closer: name }, 'closed');
      } catch (err) {
        ok = false;
        const error = ObserveErrors.SHUTDOWN_CLOSER(
          name,
          err instanceof Error ? err.message : String(err),
        );
        logger.error({ err, code: error.code, closer: name }, error.message);
      } finally {
        clearTimeout(timer);
      }
    }
    return ok;
  }

  function shutdown(reason: string, code = 0): Promise<number> {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      options.readiness?.shutdown();
      if (drainMs > 0) await sleep(drainMs);
      const clean = await closeAll();
      const exitCode = clean ? code : 1;
      logger.info({ exitCode }, 'shutdown complete');
      settle(exitCode);
      proc.exit(exitCode);
      return exitCode;
    })();
    return running;
  }

  const onSignal = (signal: Signal) => {
    if (running !== undefined) {
      const error = ObserveErrors.FORCED_EXIT(signal);
      logger.warn({ code: error.code, signal }, error.message);
      settle(1);
      proc.exit(1);
      return;
    }
    void shutdown(signal, 0);
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  const onUncaught = (kind: string) => (err: unknown) => {
    const error = ObserveErrors.UNCAUGHT(kind, err instanceof Error ? err.message : String(err));
    const code = (err as { code?: unknown } | undefined)?.code;
    logger.fatal({ err, code: typeof code === 'string' ? code : error.code }, error.message);
    void shutdown(kind, 1);
  };
  const onException = onUncaught('uncaught exception');
  const onRejection = onUncaught('unhandled rejection');

  return {
    onShutdown(name, close) {
      closers.push({ name, close });
    },
    install() {
      proc.on('SIGTERM', onTerm);
      proc.on('SIGINT', onInt);
      proc.on('uncaughtException', onException);
      proc.on('unhandledRejection', onRejection);
      return () => {
        proc.off('SIGTERM', onTerm);
        proc.off('SIGINT', onInt);
        proc.off('uncaughtException', onException);
        proc.off('unhandledRejection', onRejection);
      };
    },
    shutdown,
    done,
  };
}
