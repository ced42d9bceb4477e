// The primary of `pier gateway --gateway.workers N`: forks N workers (each
// runs the whole gateway and binds the ports itself with SO_REUSEPORT, so
// the kernel spreads connections and the primary is never on the data
// path), restarts one that dies with a backoff, and on shutdown asks every
// worker to drain (an IPC message, not a signal: a worker that also got the
// terminal's SIGINT must not take the second signal as "exit now").
//
// Ready when every worker has said it listens (pier:ready).

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../../src/observe/logger.ts';
import { isReadyMessage, type ShutdownMessage } from './messages.ts';
import { createRestartBackoff } from './restart-backoff.ts';
import { withGatewayV8Flags } from './v8-flags.ts';

export interface SupervisorOptions {
  workers: number;
  logger: Logger;
  /** How long workers may drain after being asked to stop, before they are killed. */
  stopTimeoutMs: number;
  /** Environment for the workers, on top of the primary's. */
  env?: Record<string, string>;
}

export interface WorkerStatus {
  slot: number;
  pid: number | undefined;
  ready: boolean;
  restarts: number;
}

export interface Supervisor {
  /** Forks the workers. */
  start(): void;
  /** Resolves once every worker is ready (at start, or again after restarts). */
  whenReady(): Promise<void>;
  ready(): boolean;
  status(): WorkerStatus[];
  /** Asks every worker to drain and exit; resolves true when all exited 0 within the timeout. */
  stop(reason: string): Promise<boolean>;
}

interface Slot {
  index: number;
  worker: Worker | undefined;
  ready: boolean;
  restarts: number;
  startedAt: number;
  backoff: ReturnType<typeof createRestartBackoff>;
  timer: NodeJS.Timeout | undefined;
}

export function createSupervisor(options: SupervisorOptions): Supervisor {
  const logger = options.logger.child({ component: 'supervisor' });
  const slots: Slot[] = Array.from({ length: options.workers }, (_, index) => ({
    index,
    worker: undefined,
    ready: false,
    restarts: 0,
    startedAt: 0,
    backoff: createRestartBackoff(),
    timer: undefined,
  }));
  let stopping = false;
  let waiters: (() => void)[] = [];
  const exits = new Map<Worker, Promise<number>>();

  function checkAllReady(): void {
    if (waiters.length > 0 && slots.every((s) => s.ready)) {
      for (const resolve of waiters) resolve();
      waiters = [];
    }
  }

  function fork(slot: Slot): void {
    slot.timer = undefined;
    if (stopping) return;
    // Workers run with the gateway's V8 flags (v8-flags.ts) whatever the primary was given.
    cluster.setupPrimary({ execArgv: withGatewayV8Flags(process.execArgv) });
    const worker = cluster.fork({ ...options.env, PIERGW_WORKER_SLOT: String(slot.index) });
    slot.worker = worker;
    slot.ready = false;
    slot.startedAt = performance.now();
    exits.set(
      worker,
      new Promise<number>((resolve) => {
        worker.once('exit', (code, signal) => {
          exits.delete(worker);
          const exitCode = code ?? (signal === null ? 1 : 128);
          onExit(slot, worker, exitCode, signal);
          resolve(exitCode);
        });
      }),
    );
    worker.on('message', (message: unknown) => {
      if (!isReadyMessage(message)) return;
      slot.ready = true;
      logger.info(
        { worker: worker.id, pid: worker.process.pid, ports: message.ports },
        'worker ready',
      );
      checkAllReady();
    });
    worker.on('error', (error) =>
      logger.warn({ err: error, worker: worker.id }, 'worker IPC error'),
    );
  }

  function onExit(slot: Slot, worker: Worker, code: number, signal: string | null): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.ready = false;
    if (stopping) {
      logger.info({ worker: worker.id, pid: worker.process.pid, code, signal }, 'worker exited');
      return;
    }
    const uptime = performance.now() - slot.startedAt;
    const wait = slot.backoff.next(uptime);
    slot.restarts++;
    logger.error(
      {
        worker: worker.id,
        pid: worker.process.pid,
        code,
        signal,
        uptimeMs: Math.round(uptime),
        restartInMs: wait,
      },
      'worker exited unexpectedly; restarting it',
    );
    slot.timer = setTimeout(fork, wait, slot);
  }

  return {
    start() {
      for (const slot of slots) fork(slot);
    },
    whenReady() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        checkAllReady();
      });
    },
    ready() {
      return !stopping && slots.every((s) => s.ready);
    },
    status() {
      return slots.map((s) => ({
        slot: s.index,
        pid: s.worker?.process.pid,
        ready: s.ready,
        restarts: s.restarts,
      }));
    },
    async stop(reason) {
      stopping = true;
      const message: ShutdownMessage = { type: 'pier:shutdown', reason };
      const pending: Promise<number>[] = [];
      for (const slot of slots) {
        if (slot.timer !== undefined) clearTimeout(slot.timer);
        const worker = slot.worker;
        if (worker === undefined) continue;
        const exit = exits.get(worker);
        if (exit === undefined) continue;
        if (worker.isConnected()) worker.send(message);
        else worker.process.kill('SIGTERM');
        pending.push(exit);
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(resolve, options.stopTimeoutMs, 'timeout');
      });
      const result = await Promise.race([Promise.all(pending), timeout]);
      clearTimeout(timer);
      if (result === 'timeout') {
        for (const slot of slots) slot.worker?.process.kill('SIGKILL');
        logger.error({ timeoutMs: options.stopTimeoutMs }, 'workers did not exit in time; killed');
        return false;
      }
      return result.every((code) => code === 0);
    },
  };
}
