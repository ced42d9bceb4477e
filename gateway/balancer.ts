// Balancers choose one host of an upstream for each request attempt.
//
// A balancer is pure: it sees only the host list it was given, the hosts'
// in-flight counts, an affinity hash and an injected random source, so each
// one is tested with tables of (hosts, inputs) -> picks. The upstream owns
// the host list: it gives a new list (never mutated afterwards) whenever the
// available set changes (endpoints updated, a host ejected or back), and the
// balancer rebuilds what it precomputes (rings, tables) only then. pick() is
// on the hot path and allocates nothing.
//
// Implementations (gateway/balancer/):
//   least-request  power of two random choices, fewer in-flight wins (default)
//   round-robin    each host in turn
//   ring-hash      consistent hashing on a ring (Karger et al.), affinity by key
//   maglev         Maglev lookup table (Eisenbud et al., NSDI 2016), affinity by key

import { createLeastRequestBalancer } from './balancer/least-request.ts';
import { createMaglevBalancer } from './balancer/maglev.ts';
import { createRingHashBalancer } from './balancer/ring-hash.ts';
import { createRoundRobinBalancer } from './balancer/round-robin.ts';

/** What a balancer reads of a host. */
export interface BalancerHost {
  /** Stable identity, `ip:port`: hashing balancers place hosts by it. */
  readonly key: string;
  /** Requests in flight to this host right now. */
  readonly active: number;
}

export interface Balancer {
  readonly kind: BalancerKind;
  /** Whether pick() uses the hash (affinity); the forwarder computes one only then. */
  readonly hashes: boolean;
  /** Takes a new host list; the list is not mutated afterwards. */
  setHosts(hosts: readonly BalancerHost[]): void;
  /**
   * Index into the current host list, -1 when it is empty. `hash` is the
   * request's 32-bit affinity hash (ignored by balancers that do not hash).
   */
  pick(hash: number): number;
}

export const balancerKinds = ['least-request', 'round-robin', 'ring-hash', 'maglev'] as const;
export type BalancerKind = (typeof balancerKinds)[number];

export interface BalancerOptions {
  /** A uniform random number in [0, 1): injected so tests are exact. Default Math.random. */
  random?: () => number;
  /** ring-hash: points on the ring per host (default 160). */
  ringPointsPerHost?: number;
  /** maglev: lookup table size, a prime (default 65537). */
  tableSize?: number;
}

export function createBalancer(kind: BalancerKind, options: BalancerOptions = {}): Balancer {
  switch (kind) {
    case 'least-request':
      return createLeastRequestBalancer(options.random ?? Math.random);
    case 'round-robin':
      return createRoundRobinBalancer(options.random ?? Math.random);
    case 'ring-hash':
      return createRingHashBalancer(options.ringPointsPerHost);
    case 'maglev':
      return createMaglevBalancer(options.tableSize);
  }
}
