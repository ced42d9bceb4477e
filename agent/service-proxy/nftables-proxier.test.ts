// The proxier with a real memory Store and informer, over the fake kernel:
// when it writes, what it writes (full or incremental), and how it recovers.

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store.ts';
import { createMemoryLogger } from '../logger.ts';
import type { ServiceProxy, SyncReport } from '../service-proxy.ts';
import { createNftablesProxier } from './nftables-proxier.ts';
import { createFakeConntrack, type FakeConntrack } from './testing/fake-conntrack.ts';
import { createFakeNft, type FakeNft } from './testing/fake-nft.ts';
import { service, slice } from './testing/objects.ts';

const TABLE = 'pier_services';
const web = service('web', { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] });
const webSlice = (...endpoints: string[]) => slice('web', endpoints, [{ port: 8080 }]);

async function until(what: string, check: () => boolean, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the nftables proxier', () => {
  let store: Store;
  let nft: FakeNft;
  let conntrack: FakeConntrack;
  let logger: ReturnType<typeof createMemoryLogger>;
  let proxy: ServiceProxy | undefined;
  let reports: SyncReport[];

  beforeEach(() => {
    store = createMemoryStore();
    nft = createFakeNft();
    conntrack = createFakeConntrack();
    logger = createMemoryLogger();
    reports = [];
  });
  afterEach(async () => {
    await proxy?.stop();
    await store.close();
  });

  const start = async () => {
    proxy = createNftablesProxier(
      {
        nodeName: 'node-1',
        table: TABLE,
        clusterCidr: '10.244.0.0/16',
        masqueradeBit: 14,
        minSyncIntervalMs: 20,
        syncPeriodMs: 60_000,
        fullSyncPeriodMs: 3_600_000,
        shards: 8,
      },
      {
        store,
        nftables: nft,
        reader: nft,
        conntrack,
        logger,
        observeSync: (r) => reports.push(r),
      },
    );
    await proxy.start();
    return proxy;
  };
  const table = () => nft.snapshot('ip', TABLE) ?? {};
  const serviceIps = () =>
    table()['map service-ips { type ipv4_addr . inet_proto . inet_service : verdict; }'];

  it('writes nothing before the informer has listed, then the whole table once', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2', '10.244.3.3 node-3'));
    const p = await start();
    expect(nft.scripts).toHaveLength(1);
    expect(nft.scripts[0]).toContain(`delete table ip ${TABLE}`);
    expect(serviceIps()).toEqual(['10.96.0.10 . tcp . 80 : goto svc-default/web/tcp/80']);
    expect(p.ready()).toBe(true);
    expect(p.info()).toMatchObject({ services: 1, servicePorts: 1, endpoints: 2, fullSyncs: 1 });
    expect(reports).toMatchObject([{ ok: true, full: true, reason: 'start' }]);
  });

  it('syncs only the Service that changed, incrementally', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2', '10.244.3.3 node-3'));
    await store.apply(service('other', { clusterIP: '10.96.0.11', ports: [{ port: 80 }] }));
    await start();
    await store.apply(webSlice('10.244.2.3 node-2', '10.244.3.9 node-3'));
    await until('a second sync', () => nft.scripts.length === 2);
    const script = nft.scripts[1] as string;
    expect(script).not.toContain('delete table');
    expect(script).toContain('10.244.3.9 . 8080');
    expect(script).not.toContain('other');
    expect(reports[1]).toMatchObject({ ok: true, full: false, services: 1 });
  });

  it('turns a burst of changes into few syncs', async () => {
    await start();
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        store.apply(service(`s${i}`, { clusterIP: `10.96.1.${i + 1}`, ports: [{ port: 80 }] })),
      ),
    );
    await until('all 30 Services', () => proxy?.info().services === 30);
    expect(nft.scripts.length).toBeLessThanOrEqual(3);
  });

  it.each([
    ['flushed', (n: FakeNft) => n.flushTable('ip', TABLE), 'its rules were flushed'],
    [
      'deleted',
      (n: FakeNft) => n.deleteTable('ip', TABLE),
      'the table or its marker chain is gone',
    ],
  ])('restores a table someone %s, in full', async (_what, tamper, reason) => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2'));
    const p = await start();
    const before = table();
    tamper(nft);
    await p.sync();
    expect(nft.scripts.at(-1)).toContain(`delete table ip ${TABLE}`);
    expect(reports.at(-1)).toMatchObject({ ok: true, full: true, reason: 'table changed' });
    expect(table()).toEqual({
      ...before,
      'chain sync-generation': ['counter comment "pier service proxy generation 2"'],
    });
    const err = logger.lines.find((l) => l.level === 'warn')?.fields.err as
      | { message: string; code: string }
      | undefined;
    expect(err?.message).toContain(reason);
    expect(err?.code).toBe('PIER_PROXY_TABLE_CHANGED');
  });

  it('cannot hide a flushed table behind later incremental syncs', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2'));
    const p = await start();
    nft.flushTable('ip', TABLE);
    // A change before the next check: applied incrementally, the marker stays gone.
    await store.apply(webSlice('10.244.2.4 node-2'));
    await until('the incremental sync', () => reports.length === 2);
    expect(reports[1]).toMatchObject({ ok: true, full: false });
    expect(await nft.chainComments('ip', TABLE, 'sync-generation')).toEqual([]);
    // The next check (each syncPeriod, or sync()) finds it and writes the table in full.
    await p.sync();
    expect(reports.at(-1)).toMatchObject({ ok: true, full: true, reason: 'table changed' });
    expect(await nft.chainComments('ip', TABLE, 'sync-generation')).toEqual([
      'pier service proxy generation 3',
    ]);
  });

  it('keeps the last table when an apply fails, and retries in full', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2'));
    await start();
    nft.failNext('Could not process rule: Device or resource busy');
    await store.apply(webSlice('10.244.2.4 node-2'));
    await until('a sync after the failure', () => reports.length === 3);
    expect(reports.map((r) => [r.ok, r.full])).toEqual([
      [true, true],
      [false, false],
      [true, true],
    ]);
    expect(reports[2]?.reason).toBe('after a failure');
    const error = logger.lines.find((l) => l.level === 'error')?.fields.err as { code: string };
    expect(error.code).toBe('PIER_PROXY_SYNC_FAILED');
    expect(JSON.stringify(table())).toContain('10.244.2.4 . 8080');
  });

  it('backs off while nft keeps failing, and recovers', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2'));
    await start();
    let broken = true;
    const apply = nft.apply.bind(nft);
    nft.apply = async (script, options) => {
      if (broken) throw new Error('nft: command not found');
      return apply(script, options);
    };
    await store.apply(webSlice('10.244.2.4 node-2'));
    const waits = () =>
      logger.lines.filter((l) => l.level === 'error').map((l) => l.fields.retryInMs);
    await until('three failures', () => waits().length >= 3);
    expect(waits().slice(0, 3)).toEqual([100, 200, 400]);
    broken = false;
    await until('a good sync', () => reports.at(-1)?.ok === true && reports.length > 4);
    expect(reports.at(-1)).toMatchObject({ ok: true, full: true, reason: 'after a failure' });
    expect(JSON.stringify(table())).toContain('10.244.2.4 . 8080');
  });

  it('deletes the conntrack entries of a UDP endpoint that left', async () => {
    const dns = service('dns', {
      clusterIP: '10.96.0.53',
      ports: [{ port: 53, protocol: 'UDP' }],
    });
    const dnsSlice = (...eps: string[]) => slice('dns', eps, [{ port: 53, protocol: 'UDP' }]);
    await store.apply(dns);
    await store.apply(dnsSlice('10.244.2.3 node-2', '10.244.3.3 node-3'));
    await start();
    expect(conntrack.deleted).toEqual([]);
    await store.apply(dnsSlice('10.244.3.3 node-3'));
    await until('the conntrack delete', () => conntrack.deleted.length > 0);
    expect(conntrack.deleted).toEqual([
      { proto: 'udp', origDst: '10.96.0.53', origPortDst: 53, dstNat: '10.244.2.3' },
    ]);
  });

  it('leaves the table in place when it stops', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2'));
    const p = await start();
    await p.stop();
    proxy = undefined;
    expect(serviceIps()).toEqual(['10.96.0.10 . tcp . 80 : goto svc-default/web/tcp/80']);
  });

  it('reports two Services that claim one address and port', async () => {
    await store.apply(web);
    await store.apply(webSlice('10.244.2.3 node-2'));
    await store.apply(
      service('web-copy', { clusterIP: '10.96.0.10', ports: [{ port: 80, targetPort: 8080 }] }),
    );
    const p = await start();
    expect(p.info().conflicts).toEqual([
      { service: 'default/web-copy', claims: ['10.96.0.10 . tcp . 80 (held by default/web)'] },
    ]);
    const err = logger.lines.find((l) => l.message === 'Service port conflict')?.fields.err as
      | { code: string }
      | undefined;
    expect(err?.code).toBe('PIER_PROXY_PORT_CONFLICT');
    // The first one goes away: the second one gets the address.
    await store.delete({ kind: 'Service', namespace: 'default', name: 'web' });
    await until('the copy to take over', () => p.info().conflicts.length === 0);
    expect(serviceIps()).toEqual([]);
    // (no endpoints for the copy: it rejects)
    expect(JSON.stringify(table())).toContain('10.96.0.10 . tcp . 80 : goto reject-chain');
  });
});
