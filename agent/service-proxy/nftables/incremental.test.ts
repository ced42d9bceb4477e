// An incremental plan must leave the table exactly as a full plan of the same
// desired ruleset would. A seeded random walk of changes (Services added,
// removed, scaled, switched between policies, affinity, NodePorts) is applied
// step by step to one fake kernel, and each step's ruleset written in full to
// another; the two tables must be equal after every step. The fake kernel
// refuses what the real one refuses (a chain or set deleted while in use, a
// reference to something missing, an element added twice), so an ordering
// mistake in the planner fails here. test/service-proxy.test.ts runs a walk
// like this against the real nft.

import { describe, expect, it } from 'vitest';
import type { Service } from '../../../src/model.ts';
import { servicePortsOf } from '../service-ports.ts';
import { createFakeNft } from '../testing/fake-nft.ts';
import { service, slice } from '../testing/objects.ts';
import { buildRuleset, emptyRuleset } from './build.ts';
import { Names } from './layout.ts';
import type { LayoutOptions, Ruleset } from './model.ts';
import { plan } from './plan.ts';

const options: LayoutOptions = {
  table: 'pier_services',
  clusterCidr: '10.244.0.0/16',
  masqueradeBit: 14,
  shards: 8,
};

/** A small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
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

describe('incremental plans', () => {
  it.each([1, 2, 3, 4, 5])('leave the table as a full plan would (walk %i)', async (seed) => {
    const rand = random(seed);
    const incremental = createFakeNft();
    let current: Ruleset | undefined;
    let ruleset = emptyRuleset(options);
    for (let step = 0; step < 60; step++) {
      const changes = new Map<string, ReturnType<typeof servicePortsOf> | undefined>();
      const touched = 1 + Math.floor(rand() * 3);
      for (let t = 0; t < touched; t++) {
        const i = Math.floor(rand() * 12);
        if (rand() < 0.2) changes.set(`default/s${i}`, undefined);
        else {
          const [svc, sl] = randomService(rand, i);
          changes.set(`default/s${i}`, servicePortsOf(svc, [sl], { nodeName: 'node-1' }));
        }
      }
      ruleset = buildRuleset(ruleset, changes);
      const step1 = plan(ruleset, current);
      expect(step1.full).toBe(current === undefined);
      await incremental.apply(step1.script);
      current = ruleset;

      const full = createFakeNft();
      await full.apply(plan(ruleset, undefined).script);
      const except = [Names.generation];
      expect(incremental.snapshot('ip', options.table, { except }), `step ${step}`).toEqual(
        full.snapshot('ip', options.table, { except }),
      );
    }
  });
});
