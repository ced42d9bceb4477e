// The Redis key layout of one Pier cluster (docs/store.md has the picture).
//
// Every key starts with `pier:{<cluster>}:`. The braces are a Redis Cluster
// hash tag: all of a cluster's keys hash to one slot, so the write script and
// the list snapshot, which touch several keys, run on one node. The prefix
// also lets one Redis serve several Pier clusters side by side.

import type { KindKey } from '../model/object.ts';
import { StoreErrors } from './errors.ts';

export interface RedisKeys {
  /** `pier:{c}:` */
  readonly prefix: string;
  /** The global revision counter (INCR). */
  readonly revision: string;
  /** The change stream: one entry per write, id `<revision>-0`. */
  readonly changes: string;
  /** A kind's hash: field `namespace/name` (or `name`) -> object JSON. */
  kind(kind: KindKey): string;
}

const CLUSTER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function redisKeys(cluster: string): RedisKeys {
  if (typeof cluster !== 'string' || !CLUSTER_NAME.test(cluster)) {
    throw StoreErrors.INVALID_ARGUMENT(
      `cluster name ${JSON.stringify(cluster)}`,
      'use 1 to 63 letters, digits, ".", "_" or "-", starting with a letter or digit',
    );
  }
  const prefix = `pier:{${cluster}}:`;
  return {
    prefix,
    revision: `${prefix}revision`,
    changes: `${prefix}changes`,
    kind: (kind) => `${prefix}objects:${kind}`,
  };
}
