// watch() on Redis: XREAD BLOCK on the change stream, on a connection of
// its own (a blocked connection can do nothing else).
//
// Every write is one stream entry with id `<revision>-0`, and revisions have
// no gaps, so the watcher knows exactly what comes next: after revision r it
// reads from `r-0` and the first entry must be r+1. Anything else means the
// stream was trimmed past r (MAXLEN ~) and the watcher answers `relist`.
//
// The watcher pulls: it reads at most `batch` entries at a time, only when
// its consumer asks for more, so a slow consumer costs Redis nothing and
// holds at most one batch in memory; if it falls behind the stream's length
// it gets `relist`.
//
// When Redis goes away the watcher waits for the connection to come back and
// goes on from the last revision it delivered: no change is missed or
// repeated. If Redis came back without its data (the revision is lower than
// the watcher's), it answers `relist`.

import type { Redis } from 'ioredis';
import type { KindKey } from '../model/object.ts';
import { sleep } from '../sleep.ts';
import type { RelistEvent, WatchEvent } from '../store.ts';
import { logInfo, type StoreLogger } from './logger.ts';
import { decodeChange, readChangeFields, revisionOfId } from './redis-codec.ts';
import { untilReady } from './redis-connection.ts';
import type { RedisKeys } from './redis-keys.ts';

export interface RedisWatchContext {
  /** A new connection for this watcher (closed when the watch ends). */
  connect(): Redis;
  keys: RedisKeys;
  logger: StoreLogger;
  /** How long one XREAD blocks; also how often a quiet watcher checks the revision. */
  blockMs: number;
  /** Entries read per XREAD. */
  batch: number;
  /** Aborts when the store closes. */
  closed: AbortSignal;
}

type StreamReply = [stream: string, entries: [id: string, fields: string[]][]][] | null;

const relist = (reason: string): RelistEvent => ({ type: 'relist', reason });

export async function* watchRedis(
  context: RedisWatchContext,
  fromRevision: number,
  kinds: readonly KindKey[] | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<WatchEvent> {
  const { keys, logger, blockMs, batch } = context;
  const only = kinds === undefined ? undefined : new Set(kinds);
  const stop = signal === undefined ? context.closed : AbortSignal.any([signal, context.closed]);
  if (stop.aborted) return;
  const redis = context.connect();
  let lastError = '';
  redis.on('error', (error: Error) => {
    lastError = error.message;
  });
  const hangUp = () => redis.disconnect();
  stop.addEventListener('abort', hangUp, { once: true });

  let last = fromRevision;
  // The id to read after: `<last>-0`, or past an entry Pier did not write.
  let cursor = `${fromRevision}-0`;
  // Checked on start and after every reconnect: is the store behind us?
  let checkRevision = true;
  let outage = false;
  let backoff = 50;
  try {
    while (!stop.aborted) {
      try {
        await untilReady(redis, stop);
        if (stop.aborted) return;
        if (outage) {
          logInfo(
            logger,
            { store: 'redis', fromRevision: last },
            'store watch reconnected; resuming',
          );
          outage = false;
        }
        if (checkRevision) {
          const head = Number((await redis.get(keys.revision)) ?? 0);
          if (head < last) {
            yield relist(`revision ${last} is ahead of the store (at ${head}): was Redis emptied?`);
            return;
          }
          checkRevision = false;
        }
        const reply = (await redis.xread(
          'COUNT',
          batch,
          'BLOCK',
          blockMs,
          'STREAMS',
          keys.changes,
          cursor,
        )) as StreamReply;
        backoff = 50;
        if (reply === null || reply.length === 0) {
          checkRevision = true;
          continue;
        }
        for (const [id, fields] of reply[0]![1]) {
          cursor = id;
          const revision = revisionOfId(id);
          if (revision === undefined) {
            logger.warn(
              { key: keys.changes, id },
              'skipping a change stream entry with a foreign id',
            );
            continue;
          }
          if (revision !== last + 1) {
            yield relist(`change log trimmed past revision ${last} (next kept is ${revision})`);
            return;
          }
          last = revision;
          const read = readChangeFields(fields);
          if (!read.ok) {
            logger.warn(
              { key: keys.changes, id, problem: read.problem },
              'skipping a corrupt change',
            );
            continue;
          }
          if (only !== undefined && !only.has(read.value.kind)) continue;
          const change = decodeChange(read.value, revision);
          if (!change.ok) {
            logger.warn(
              {
                key: keys.changes,
                id,
                kind: read.value.kind,
                field: read.value.field,
                problem: change.problem,
              },
              'skipping a corrupt change',
            );
            continue;
          }
          yield change.value;
          if (stop.aborted) return;
        }
      } catch (error) {
        if (stop.aborted) return;
        if (!outage) {
          logger.warn(
            { store: 'redis', err: error, lastError, revision: last },
            'store watch lost Redis; waiting for it to come back',
          );
          outage = true;
        }
        checkRevision = true;
        // The connection reconnects by itself; wait for it, but do not spin
        // if it is "ready" while commands still fail.
        await sleep(backoff, stop);
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  } finally {
    stop.removeEventListener('abort', hangUp);
    redis.disconnect();
  }
}
