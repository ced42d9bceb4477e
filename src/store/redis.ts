// The shared Store: Redis, for several processes and hosts (docs/store.md).
//
// One hash per kind holds the objects (field `namespace/name` -> JSON), one
// counter the revision, one stream the changes; every key of a Pier cluster
// carries the same hash tag (redis-keys.ts). Writes are single Lua scripts
// (redis-scripts.ts), list() is a script too (one consistent snapshot with
// its revision), watch() reads the stream (redis-watch.ts).
//
// Only src/store/redis* import ioredis (convention 5).

import type { Redis, RedisOptions } from 'ioredis';
import {
  describeRef,
  type KindKey,
  type KubeObject,
  kindKeyOf,
  type ObjectRef,
} from '../model/object.ts';
import type {
  ListOptions,
  ListResult,
  Store,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../store.ts';
import { StoreErrors } from './errors.ts';
import { parseLabelSelector } from './label-selector.ts';
import { logInfo, type StoreLogger, stderrLogger } from './logger.ts';
import { decodeObject, encodeObject } from './redis-codec.ts';
import {
  CONNECTION_DEFAULTS,
  connectionOptions,
  openConnection,
  readiness,
  toStoreError,
} from './redis-connection.ts';
import { redisKeys } from './redis-keys.ts';
import { APPLY_SCRIPT, DELETE_SCRIPT, LIST_SCRIPT } from './redis-scripts.ts';
import { parseRedisUrl } from './redis-url.ts';
import { watchRedis } from './redis-watch.ts';
import {
  byNamespaceAndName,
  checkObject,
  checkRef,
  checkRevision,
  deepFreeze,
  describeObject,
  fieldOfObject,
  fieldOfRef,
} from './stored-object.ts';

export interface RedisStoreOptions {
  /** redis://, rediss:// or redis+sentinel:// (redis-url.ts); its ?cluster= wins over `cluster`. */
  url?: string;
  /** ioredis options; merged over what the URL says. */
  redis?: RedisOptions;
  /** The Pier cluster whose objects this store holds; one Redis serves several. Default `default`. */
  cluster?: string;
  /** The change stream keeps at least this many changes (XADD MAXLEN ~). Default 10 000. */
  streamMaxLen?: number;
  logger?: StoreLogger;
  /** A command that takes longer fails with PIER_STORE_UNAVAILABLE. Default 2000. */
  commandTimeoutMs?: number;
  /** How long a watcher's XREAD blocks. Default 5000. */
  watchBlockMs?: number;
}

export const DEFAULT_STREAM_MAX_LEN = 10_000;
const WATCH_BATCH = 100;

interface ScriptCommands {
  pierApply(...args: (string | number)[]): Promise<[number, number, string?]>;
  pierDelete(...args: (string | number)[]): Promise<[number, number]>;
  pierList(...args: string[]): Promise<[number, string[]]>;
}

export function createRedisStore(options: RedisStoreOptions = {}): Store {
  const fromUrl = options.url === undefined ? undefined : parseRedisUrl(options.url);
  const cluster = fromUrl?.cluster ?? options.cluster ?? 'default';
  const keys = redisKeys(cluster);
  const maxLen = options.streamMaxLen ?? DEFAULT_STREAM_MAX_LEN;
  if (!Number.isSafeInteger(maxLen) || maxLen < 1) {
    throw StoreErrors.INVALID_ARGUMENT(
      'streamMaxLen',
      `must be a positive integer, got ${String(maxLen)}`,
    );
  }
  const logger = options.logger ?? stderrLogger;
  const timeout = options.commandTimeoutMs ?? CONNECTION_DEFAULTS.commandTimeoutMs;
  const blockMs = options.watchBlockMs ?? 5000;
  const base: RedisOptions = { ...fromUrl?.redis, ...options.redis };
  const redis = openConnection(connectionOptions(base, timeout, `pier-${cluster}-store`)) as Redis &
    ScriptCommands;
  redis.defineCommand('pierApply', { numberOfKeys: 3, lua: APPLY_SCRIPT });
  redis.defineCommand('pierDelete', { numberOfKeys: 3, lua: DELETE_SCRIPT });
  redis.defineCommand('pierList', { numberOfKeys: 2, lua: LIST_SCRIPT, readOnly: true });

  let down = false;
  let lastError = 'not connected yet';
  let closed = false;
  const closing = new AbortController();
  const ready = readiness(redis, timeout, () => lastError);
  redis.on('ready', () => {
    if (down) logInfo(logger, { store: 'redis', cluster }, 'redis store connected again');
    down = false;
  });
  redis.on('error', (error: Error) => {
    lastError = error.message;
    if (!down) {
      down = true;
      logger.warn(
        { store: 'redis', cluster, err: error },
        'redis store lost its connection; retrying',
      );
    }
  });

  /** Runs one Redis call with the Store's failure contract: CLOSED, UNAVAILABLE or BACKEND, nothing else. */
  const run = async <T>(call: () => Promise<T>): Promise<T> => {
    if (closed) throw StoreErrors.CLOSED('redis');
    await ready();
    try {
      return await call();
    } catch (error) {
      throw closed ? StoreErrors.CLOSED('redis') : toStoreError(error);
    }
  };

  const conflict = (name: string, expected: number, actual: number) =>
    StoreErrors.CONFLICT(
      name,
      expected,
      actual === -1 ? 'an unreadable revision (corrupt value)' : actual,
    );

  return {
    name: 'redis',

    async get<T extends KubeObject = KubeObject>(ref: ObjectRef): Promise<T | undefined> {
      checkRef(ref);
      const key = keys.kind(ref.kind);
      const field = fieldOfRef(ref);
      const json = await run(() => redis.hget(key, field));
      if (json === null) return undefined;
      const decoded = decodeObject(json);
      if (!decoded.ok) {
        logger.warn({ key, field, problem: decoded.problem }, 'corrupt object in the store');
        throw StoreErrors.CORRUPT(`${key} ${field}`, decoded.problem);
      }
      return decoded.value as T;
    },

    async list<T extends KubeObject = KubeObject>(
      kind: KindKey,
      listOptions: ListOptions = {},
    ): Promise<ListResult<T>> {
      const selector = parseLabelSelector(listOptions.labelSelector);
      const namespace = listOptions.namespace;
      const key = keys.kind(kind);
      const [revision, flat] = await run(() => redis.pierList(keys.revision, key));
      const items: T[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const field = flat[i]!;
        if (namespace !== undefined) {
          const slash = field.indexOf('/');
          if ((slash === -1 ? '' : field.slice(0, slash)) !== namespace) continue;
        }
        const decoded = decodeObject(flat[i + 1]);
        if (!decoded.ok) {
          logger.warn(
            { key, field, problem: decoded.problem },
            'skipping a corrupt object in the store',
          );
          continue;
        }
        if (!selector.empty && !selector.matches(decoded.value.metadata.labels)) continue;
        items.push(decoded.value as T);
      }
      items.sort(byNamespaceAndName);
      return { items, revision: Number(revision) };
    },

    async apply<T extends KubeObject>(object: T, writeOptions: WriteOptions = {}): Promise<T> {
      checkObject(object);
      const expected = writeOptions.expectedRevision;
      if (expected !== undefined) checkRevision('expectedRevision', expected);
      const kind = kindKeyOf(object);
      const [head, tail] = encodeObject(object);
      const [status, value] = await run(() =>
        redis.pierApply(
          keys.revision,
          keys.kind(kind),
          keys.changes,
          fieldOfObject(object),
          expected === undefined ? '' : String(expected),
          head,
          tail,
          maxLen,
          kind,
        ),
      );
      if (status === 0) throw conflict(describeObject(object), expected!, Number(value));
      return deepFreeze(JSON.parse(`${head}${value}${tail}`) as T);
    },

    async delete(ref: ObjectRef, writeOptions: WriteOptions = {}): Promise<boolean> {
      checkRef(ref);
      const expected = writeOptions.expectedRevision;
      if (expected !== undefined) checkRevision('expectedRevision', expected);
      const [status, value] = await run(() =>
        redis.pierDelete(
          keys.revision,
          keys.kind(ref.kind),
          keys.changes,
          fieldOfRef(ref),
          expected === undefined ? '' : String(expected),
          maxLen,
          ref.kind,
        ),
      );
      if (status === 0) throw conflict(describeRef(ref), expected!, Number(value));
      return status === 1;
    },

    async revision() {
      const value = await run(() => redis.get(keys.revision));
      return value === null ? 0 : Number(value);
    },

    watch(fromRevision: number, watchOptions: WatchOptions = {}): AsyncIterable<WatchEvent> {
      checkRevision('watch fromRevision', fromRevision);
      const context = {
        connect: () =>
          redis.duplicate({
            commandTimeout: blockMs + timeout,
            connectionName: `pier-${cluster}-watch`,
          }) as unknown as Redis,
        keys,
        logger,
        blockMs,
        batch: WATCH_BATCH,
        closed: closing.signal,
      };
      return {
        [Symbol.asyncIterator]: () =>
          watchRedis(context, fromRevision, watchOptions.kinds, watchOptions.signal),
      };
    },

    async close() {
      if (closed) return;
      closed = true;
      closing.abort();
      try {
        await redis.quit();
      } catch {
        redis.disconnect();
      }
    },
  };
}
