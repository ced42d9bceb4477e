// The Store's error table (convention 9): one stable code per failure, and a
// message that tells the caller what to do about it.

import { errorTable } from '../errors.ts';

export const StoreErrors = errorTable('STORE', {
  /** Optimistic concurrency lost: someone else wrote the object first. */
  CONFLICT: (object: string, expected: number, actual: number | string) =>
    `${object}: expected revision ${expected}${expected === 0 ? ' (absent)' : ''} but the store has ${
      actual === 0 ? '0 (absent)' : actual
    }; read it again and retry the write`,
  /** The backing service cannot be reached; the write may or may not have happened when it timed out. */
  UNAVAILABLE: (store: string, detail: string) =>
    `${store} store is unavailable (${detail}); retry later (a write that timed out may have been applied: re-read before retrying with expectedRevision)`,
  INVALID_OBJECT: (object: string, reason: string) => `${object} cannot be stored: ${reason}`,
  INVALID_ARGUMENT: (what: string, reason: string) => `${what}: ${reason}`,
  BAD_SELECTOR: (selector: string, reason: string) =>
    `label selector ${JSON.stringify(selector)}: ${reason} (syntax: "a=b,c!=d,e,!f,g in (x,y),h notin (z)")`,
  BAD_URL: (url: string, reason: string) =>
    `store URL ${JSON.stringify(url)}: ${reason} (use memory:, redis://[:password@]host:port[/db], rediss://..., or redis+sentinel://host:port[,host:port]/<master>[/db], each optionally with ?cluster=<name>)`,
  CORRUPT: (key: string, reason: string) =>
    `stored value at ${key} is corrupt (${reason}); delete it or apply the object again`,
  CLOSED: (store: string) => `${store} store is closed; create a new one`,
  BACKEND: (store: string, detail: string) => `${store} store failed: ${detail}`,
});
