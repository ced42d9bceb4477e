// Consistent hashing on a ring (Karger et al. 1997, as Envoy's ring_hash):
// each host owns many points on a 32-bit ring, a request goes to the owner of
// the first point at or after its hash. Removing a host moves only the keys
// it owned; adding one takes about 1/n of the keys from the others.

import type { Balancer, BalancerHost } from '../balancer.ts';
import { murmur3 } from './hash.ts';

// Points per host are fixed (ketama's 160), not a ring size divided among the
// hosts as in Envoy: then a host's points do not move when another host comes
// or goes, and only the keys of the changed host move.
const DEFAULT_POINTS_PER_HOST = 160;

export interface Ring {
  /** Point hashes, ascending. */
  readonly points: Uint32Array;
  /** Host index owning each point. */
  readonly owners: Int32Array;
}

/** Builds the ring for hosts (by key), `perHost` points each. */
export function buildRing(keys: readonly string[], perHost = DEFAULT_POINTS_PER_HOST): Ring {
  const n = keys.length;
  if (n === 0) return { points: new Uint32Array(0), owners: new Int32Array(0) };
  if (!Number.isInteger(perHost) || perHost < 1) {
    throw new RangeError(`ring points per host must be a positive integer, not ${perHost}`);
  }
  const total = perHost * n;
  const hashes = new Uint32Array(total);
  const owner = new Int32Array(total);
  let p = 0;
  for (let i = 0; i < n; i++) {
    const key = keys[i]!;
    for (let r = 0; r < perHost; r++) {
      hashes[p] = murmur3(`${key}_${r}`);
      owner[p] = i;
      p++;
    }
  }
  // Sort point indices by hash; equal hashes (rare) break ties by host key so
  // the ring is the same whatever order the hosts came in.
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  order.sort((x, y) => {
    const d = hashes[x]! - hashes[y]!;
    if (d !== 0) return d;
    const kx = keys[owner[x]!]!;
    const ky = keys[owner[y]!]!;
    return kx < ky ? -1 : kx > ky ? 1 : 0;
  });
  const points = new Uint32Array(total);
  const owners = new Int32Array(total);
  for (let i = 0; i < total; i++) {
    points[i] = hashes[order[i]!]!;
    owners[i] = owner[order[i]!]!;
  }
  return { points, owners };
}

/** The host index owning `hash` on the ring, -1 for an empty ring. */
export function lookupRing(ring: Ring, hash: number): number {
  const { points, owners } = ring;
  const n = points.length;
  if (n === 0) return -1;
  const h = hash >>> 0;
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]! < h) lo = mid + 1;
    else hi = mid;
  }
  return owners[lo === n ? 0 : lo]!;
}

export function createRingHashBalancer(perHost = DEFAULT_POINTS_PER_HOST): Balancer {
  let ring = buildRing([]);
  return {
    kind: 'ring-hash',
    hashes: true,
    setHosts(hosts: readonly BalancerHost[]) {
      ring = buildRing(
        hosts.map((h) => h.key),
        perHost,
      );
    },
    pick(hash) {
      return lookupRing(ring, hash);
    },
  };
}
