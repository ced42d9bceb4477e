// ioredis connections set up so that nothing hangs (the Store's failure
// contract, docs/store.md):
// - enableOfflineQueue false: a command while disconnected fails at once
//   instead of waiting in a queue for a Redis that may not come back;
// - maxRetriesPerRequest 0 and no resend of unfulfilled commands: a command
//   in flight when the connection drops fails at once (a write is never
//   silently re-sent, so it is applied at most once);
// - commandTimeout: a command on a connection that went quiet fails after it;
// - reconnects with capped backoff forever: watchers resume when Redis does.

import { Redis, type RedisOptions } from 'ioredis';
import { isPierError } from '../errors.ts';
import { StoreErrors } from './errors.ts';

export const CONNECTION_DEFAULTS = {
  /** How long a command may take before it fails with PIER_STORE_UNAVAILABLE. */
  commandTimeoutMs: 2000,
  /** The cap of the reconnect backoff. */
  maxReconnectDelayMs: 2000,
} as const;

export function connectionOptions(
  base: RedisOptions,
  commandTimeoutMs: number,
  name: string,
): RedisOptions {
  return {
    ...base,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
    connectTimeout: base.connectTimeout ?? commandTimeoutMs,
    retryStrategy: (times: number) =>
      Math.min(50 * 2 ** Math.min(times, 10), CONNECTION_DEFAULTS.maxReconnectDelayMs),
    connectionName: base.connectionName ?? name,
    lazyConnect: false,
  };
}

export function openConnection(options: RedisOptions): Redis {
  return new Redis(options);
}

// Redis replies that mean "not now" rather than "wrong".
const TRANSIENT_REPLY = /^(LOADING|MASTERDOWN|READONLY|BUSY|TRYAGAIN|CLUSTERDOWN|NOREPLICAS)\b/;

/** A PierError for whatever ioredis threw: UNAVAILABLE for connection trouble, BACKEND for a Redis error reply. */
export function toStoreError(error: unknown): Error {
  if (isPierError(error)) return error;
  const e = error as { name?: string; message?: string };
  const message = e?.message ?? String(error);
  if (e?.name === 'ReplyError' && !TRANSIENT_REPLY.test(message)) {
    return Object.assign(StoreErrors.BACKEND('redis', message), { cause: error });
  }
  return Object.assign(StoreErrors.UNAVAILABLE('redis', message), { cause: error });
}

/**
 * A function that resolves when the connection can take a command. A
 * connection that has never been ready gets `waitMs` to get there (start-up;
 * all callers share one wait); one that was ready and lost Redis fails at
 * once, so calls reject promptly during an outage.
 */
export function readiness(
  redis: Redis,
  waitMs: number,
  lastError: () => string,
): () => Promise<void> {
  let everReady = redis.status === 'ready';
  let startup: Promise<void> | undefined;
  redis.on('ready', () => {
    everReady = true;
  });
  return () => {
    const status = redis.status;
    if (status === 'ready') return Promise.resolve();
    if (status === 'end')
      return Promise.reject(StoreErrors.UNAVAILABLE('redis', 'connection closed'));
    if (everReady)
      return Promise.reject(StoreErrors.UNAVAILABLE('redis', `${status}: ${lastError()}`));
    startup ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        redis.off('ready', onReady);
        startup = undefined;
        reject(
          StoreErrors.UNAVAILABLE('redis', `not connected after ${waitMs} ms: ${lastError()}`),
        );
      }, waitMs);
      const onReady = () => {
        clearTimeout(timer);
        startup = undefined;
        resolve();
      };
      redis.once('ready', onReady);
    });
    return startup;
  };
}

/** Resolves when the connection is ready, however long that takes, or when the signal aborts. */
export function untilReady(redis: Redis, signal: AbortSignal): Promise<void> {
  if (redis.status === 'ready' || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      redis.off('ready', done);
      redis.off('end', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    redis.once('ready', done);
    redis.once('end', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
