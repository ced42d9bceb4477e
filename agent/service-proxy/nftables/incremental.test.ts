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
import { servicePortsOf } from '../service-ports.ts';
import { createFakeNft } from '../testing/fake-nft.ts';
import { random, randomService } from '../testing/random-services.ts';
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
