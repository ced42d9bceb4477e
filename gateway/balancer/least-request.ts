// Power of two random choices, least in-flight requests (Mitzenmacher 2001):
// two distinct hosts at random, the one with fewer requests in flight wins.
// Nearly as good as scanning all hosts for the least loaded, in O(1), and it
// avoids the herd that pure least-request sends to a freshly added host.

import type { Balancer, BalancerHost } from '../balancer.ts';

export function createLeastRequestBalancer(random: () => number): Balancer {
  let hosts: readonly BalancerHost[] = [];
  return {
    kind: 'least-request',
    hashes: false,
    setHosts(next) {
      hosts = next;
    },
    pick() {
      const n = hosts.length;
      if (n <= 1) return n - 1;
      const a = Math.floor(random() * n);
      let b = Math.floor(random() * (n - 1));
      if (b >= a) b++;
      // Ties go to the first draw, which is itself uniform.
      return hosts[b]!.active < hosts[a]!.active ? b : a;
    },
  };
}
