// Round robin: each available host in turn. The cursor starts at a random
// host so that gateway replicas (and a restarted one) do not all start by
// sending their first requests to the same endpoint.

import type { Balancer, BalancerHost } from '../balancer.ts';

export function createRoundRobinBalancer(random: () => number): Balancer {
  let hosts: readonly BalancerHost[] = [];
  let cursor = -1;
  return {
    kind: 'round-robin',
    hashes: false,
    setHosts(next) {
      hosts = next;
      if (cursor < 0 && next.length > 0) cursor = Math.floor(random() * next.length);
    },
    pick() {
      const n = hosts.length;
      if (n === 0) return -1;
      if (cursor >= n) cursor = 0;
      const chosen = Math.max(cursor, 0);
      cursor = chosen + 1;
      return chosen;
    },
  };
}
