// Seeded random Services for the proxy's random-walk tests (unit and
// integration): a deterministic PRNG and a generator of Services that cover
// the layout's branches (NodePort, both traffic policies, affinity, external
// IPs, terminating and not-ready endpoints).

import type { Service } from '../../../src/model.ts';
import { service, slice } from './objects.ts';

/** A small deterministic PRNG (mulberry32). */
export function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random Service (of 12 names) with random endpoints. */
export function randomService(rand: () => number, i: number): [Service, ReturnType<typeof slice>] {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)] as T;
  const type = pick(['ClusterIP', 'ClusterIP', 'NodePort']);
  const spec: Record<string, unknown> = {
    type,
    clusterIP: `10.96.0.${i + 1}`,
    ports: [
      {
        name: 'a',
        port: 80,
        targetPort: 8080,
        ...(type === 'NodePort' ? { nodePort: 30000 + i } : {}),
      },
      { name: 'b', port: 53, protocol: 'UDP', targetPort: 5353 },
    ],
  };
  if (rand() < 0.3) spec.internalTrafficPolicy = 'Local';
  if (type === 'NodePort' && rand() < 0.5) spec.externalTrafficPolicy = 'Local';
  if (rand() < 0.25) {
    spec.sessionAffinity = 'ClientIP';
    spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: pick([60, 120]) } };
  }
  if (rand() < 0.2) spec.externalIPs = [`192.168.77.${100 + i}`];
  const count = Math.floor(rand() * 6);
  const endpoints = Array.from({ length: count }, () => {
    const node = pick([1, 2, 3]);
    const cond = pick(['', '', '', ' terminating', ' notready']);
    return `10.244.${node}.${Math.floor(rand() * 20) + 2} node-${node}${cond}`;
  });
  const name = `s${i}`;
  return [
    service(name, spec),
    slice(
      name,
      [...new Set(endpoints)],
      [
        { name: 'a', port: 8080 },
        { name: 'b', port: 5353, protocol: 'UDP' },
      ],
    ),
  ];
}
