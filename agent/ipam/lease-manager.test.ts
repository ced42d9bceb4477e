// Subnet leases on a real (memory) Store: racing agents, returning nodes,
// expiry, loss. The Redis Store passes the same Store suite, and the
// cluster tests run these paths against a real Redis.

import { describe, expect, it } from 'vitest';
import { Kinds } from '../../src/model/object.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { createMemoryLogger } from '../logger.ts';
import { formatCidr, parseCidr, parseIp } from './ipv4.ts';
import { createLeaseManager } from './lease-manager.ts';
import { parseNetConf } from './net-conf.ts';
import { leaseObject, parseLease } from './subnet-lease.ts';

const conf = parseNetConf(
  '{"Network":"10.244.0.0/16","SubnetMin":"10.244.1.0","SubnetMax":"10.244.20.0","Backend":{"Type":"host-gw"}}',
);

function manager(
  store: ReturnType<typeof createMemoryStore>,
  node: string,
  extra: { now?: () => number; previous?: string; ttlMs?: number } = {},
) {
  return createLeaseManager({
    store,
    conf,
    node,
    publicIp: parseIp(`192.168.0.${node.length}`)!,
    backend: { type: 'host-gw' },
    ttlMs: extra.ttlMs ?? 60_000,
    logger: createMemoryLogger(),
    previous: extra.previous === undefined ? undefined : parseCidr(extra.previous),
    ...(extra.now === undefined ? {} : { now: extra.now }),
  });
}

describe('subnet leases', () => {
  it('gives ten agents racing for subnets ten different ones', async () => {
    const store = createMemoryStore();
    const nodes = Array.from({ length: 10 }, (_, i) => `node-${i}`);
    const leases = await Promise.all(nodes.map((n) => manager(store, n).acquire()));
    expect(new Set(leases.map((l) => formatCidr(l.subnet))).size).toBe(10);
    const stored = (await store.list(Kinds.SubnetLease)).items.map(parseLease);
    expect(stored.map((l) => l.node).sort()).toEqual([...nodes].sort());
  });

  it('keeps a returning node on its subnet while the lease is its own, expired or not', async () => {
    const store = createMemoryStore();
    let now = 1_000_000;
    const first = await manager(store, 'a', { now: () => now }).acquire();
    await manager(store, 'b', { now: () => now }).acquire();
    now += 120_000; // both expired
    const again = await manager(store, 'a', { now: () => now }).acquire();
    expect(formatCidr(again.subnet)).toBe(formatCidr(first.subnet));
    expect(again.expireTime).toBe(now + 60_000);
  });

  it('takes the previous subnet back from subnet.env when it is free', async () => {
    const store = createMemoryStore();
    const lease = await manager(store, 'a', { previous: '10.244.7.0/24' }).acquire();
    expect(formatCidr(lease.subnet)).toBe('10.244.7.0/24');
  });

  it('takes over an expired lease of another node only when nothing is free', async () => {
    const store = createMemoryStore();
    let now = 1_000_000;
    const small = parseNetConf(
      '{"Network":"10.244.0.0/16","SubnetMin":"10.244.1.0","SubnetMax":"10.244.2.0"}',
    );
    const make = (node: string) =>
      createLeaseManager({
        store,
        conf: small,
        node,
        publicIp: 1,
        backend: { type: 'host-gw' },
        ttlMs: 60_000,
        logger: createMemoryLogger(),
        now: () => now,
      });
    await make('a').acquire();
    await make('b').acquire();
    await expect(make('c').acquire()).rejects.toMatchObject({ code: 'PIER_AGENT_NO_FREE_SUBNET' });
    now += 61_000;
    const taken = await make('c').acquire();
    expect(taken.node).toBe('c');
    expect(formatCidr(taken.subnet)).toBe('10.244.1.0/24');
  });

  it('renews by compare-and-swap, and says so when another node took the lease', async () => {
    const store = createMemoryStore();
    let now = 1_000_000;
    const a = manager(store, 'a', { now: () => now });
    const lease = await a.acquire();
    now += 10_000;
    const renewed = await a.renew();
    expect(renewed.expireTime).toBe(now + 60_000);
    expect(renewed.revision).toBeGreaterThan(lease.revision);
    // Someone else writes the lease (it expired, and they took it).
    const stolen = leaseObject({
      subnet: formatCidr(lease.subnet),
      node: 'thief',
      publicIP: '192.168.0.99',
      backend: { type: 'host-gw' },
      renewTime: new Date(now).toISOString(),
      expireTime: new Date(now + 60_000).toISOString(),
    });
    await store.apply(stolen);
    await expect(a.renew()).rejects.toMatchObject({ code: 'PIER_AGENT_LEASE_LOST' });
    expect(a.current()).toBeUndefined();
  });

  it('writes the lease again when it was deleted under it', async () => {
    const store = createMemoryStore();
    const a = manager(store, 'a');
    const lease = await a.acquire();
    await store.delete({ kind: Kinds.SubnetLease, name: lease.name });
    const back = await a.renew();
    expect(back.name).toBe(lease.name);
    expect(await store.get({ kind: Kinds.SubnetLease, name: lease.name })).toBeDefined();
  });

  it('releases its lease, but not one that is no longer its own', async () => {
    const store = createMemoryStore();
    const a = manager(store, 'a');
    const lease = await a.acquire();
    await a.release();
    expect(await store.get({ kind: Kinds.SubnetLease, name: lease.name })).toBeUndefined();
    const b = manager(store, 'b');
    const leaseB = await b.acquire();
    await store.apply({ ...(await store.get({ kind: Kinds.SubnetLease, name: leaseB.name }))! });
    await b.release(); // the revision moved on: the delete is refused, the lease stays
    expect(await store.get({ kind: Kinds.SubnetLease, name: leaseB.name })).toBeDefined();
  });

  it('checks the SubnetLease shape: a malformed one is named, not trusted', () => {
    expect(() =>
      parseLease({
        apiVersion: 'pier.dev/v1',
        kind: 'SubnetLease',
        metadata: { name: '10.244.1.0-24' },
        spec: { subnet: 'x' },
      } as never),
    ).toThrowError(expect.objectContaining({ code: 'PIER_AGENT_BAD_LEASE' }));
    const object = leaseObject({
      subnet: '10.244.1.0/24',
      node: 'a',
      publicIP: '192.168.0.1',
      backend: { type: 'vxlan', vni: 1, vtepMAC: '0e:56:c0:a8:00:01' },
      renewTime: '2026-01-01T00:00:00.000Z',
      expireTime: '2026-01-02T00:00:00.000Z',
    });
    expect(object.metadata.name).toBe('10.244.1.0-24');
    expect(() => parseLease({ ...object, metadata: { name: '10.244.2.0-24' } })).toThrowError(
      /name must be 10.244.1.0-24/,
    );
  });
});
