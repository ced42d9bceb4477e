// Picks the Store a process runs on from one URL (config `store.url`):
//
//   memory:                      the embedded default, this process only
//   memory:?changeLogLength=N
//   redis://[[user]:password@]host[:port][/db][?cluster=<name>]
//   rediss://...                 the same over TLS
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master>[/db][?cluster=<name>]
//
// A URL it cannot read is PIER_STORE_BAD_URL naming it (password masked).

import type { Store } from '../store.ts';
import { StoreErrors } from './errors.ts';
import type { StoreLogger } from './logger.ts';
import { createMemoryStore } from './memory.ts';
import { createRedisStore } from './redis.ts';
import { redactUrl } from './redis-url.ts';

export interface CreateStoreOptions {
  logger?: StoreLogger;
  /** The Pier cluster (Redis key prefix); a URL's ?cluster= wins. Default `default`. */
  cluster?: string;
  /** Changes kept for watch(): the memory log's length, or Redis' stream MAXLEN ~. */
  changeLogLength?: number;
  /** Redis command timeout (ms). */
  commandTimeoutMs?: number;
}

export function createStore(
  url: string | undefined = 'memory:',
  options: CreateStoreOptions = {},
): Store {
  const text = url === undefined || url === '' ? 'memory:' : url;
  if (typeof text !== 'string') throw StoreErrors.BAD_URL(String(text), 'not a string');
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
  if (scheme === 'memory')
    return createMemoryStore({ changeLogLength: memoryLogLength(text, options) });
  if (scheme === 'redis' || scheme === 'rediss' || scheme === 'redis+sentinel') {
    return createRedisStore({
      url: text,
      cluster: options.cluster,
      streamMaxLen: options.changeLogLength,
      logger: options.logger,
      commandTimeoutMs: options.commandTimeoutMs,
    });
  }
  throw StoreErrors.BAD_URL(
    redactUrl(text),
    scheme === undefined ? 'no scheme' : `unknown scheme ${JSON.stringify(`${scheme}:`)}`,
  );
}

function memoryLogLength(url: string, options: CreateStoreOptions): number | undefined {
  const match = /^memory:(?:\/\/)?(\?.*)?$/i.exec(url);
  if (match === null) throw StoreErrors.BAD_URL(url, 'memory: takes no host or path');
  const query = new URLSearchParams(match[1] ?? '');
  let length = options.changeLogLength;
  for (const [key, value] of query) {
    if (key !== 'changeLogLength') {
      throw StoreErrors.BAD_URL(
        url,
        `unknown parameter ${JSON.stringify(key)} (allowed: changeLogLength)`,
      );
    }
    const n = Number(value);
    if (!/^[0-9]+$/.test(value) || n < 1)
      throw StoreErrors.BAD_URL(url, 'changeLogLength must be a positive integer');
    length = n;
  }
  return length;
}
