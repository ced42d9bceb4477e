// Maglev hashing (Eisenbud et al., NSDI 2016): a lookup table of prime size M
// filled by each host's own permutation (offset, skip) in turn, so every host
// owns M/n entries (within one) and a removed host's entries go to the others
// while most other entries stay put. Lookups are one array read.

import type { Balancer, BalancerHost } from '../balancer.ts';
import { murmur3 } from './hash.ts';

const DEFAULT_TABLE_SIZE = 65537;

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Builds the table: entry -> host index; empty for no hosts. */
export function buildMaglevTable(keys: readonly string[], size = DEFAULT_TABLE_SIZE): Int32Array {
  if (!isPrime(size)) throw new RangeError(`maglev table size ${size} must be a prime`);
  const n = keys.length;
  if (n === 0) return new Int32Array(0);
  // Hosts in key order, so the table does not depend on the order they came in.
  const order = keys
    .map((_, i) => i)
    .sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const offset = new Uint32Array(n);
  const skip = new Uint32Array(n);
  const next = new Uint32Array(n);
  for (let j = 0; j < n; j++) {
    const key = keys[order[j]!]!;
    offset[j] = murmur3(key, 0x9e3779b9) % size;
    skip[j] = (murmur3(key, 0x85ebca6b) % (size - 1)) + 1;
  }
  const table = new Int32Array(size).fill(-1);
  let filled = 0;
  for (;;) {
    for (let j = 0; j < n; j++) {
      let c = (offset[j]! + next[j]! * skip[j]!) % size;
      while (table[c]! >= 0) {
        next[j] = next[j]! + 1;
        c = (offset[j]! + next[j]! * skip[j]!) % size;
      }
      table[c] = order[j]!;
      next[j] = next[j]! + 1;
      filled++;
      if (filled === size) return table;
    }
  }
}

export function createMaglevBalancer(tableSize = DEFAULT_TABLE_SIZE): Balancer {
  let table: Int32Array = new Int32Array(0);
  return {
    kind: 'maglev',
    hashes: true,
    setHosts(hosts: readonly BalancerHost[]) {
      table = buildMaglevTable(
        hosts.map((h) => h.key),
        tableSize,
      );
    },
    pick(hash) {
      return table.length === 0 ? -1 : table[(hash >>> 0) % table.length]!;
    },
  };
}
