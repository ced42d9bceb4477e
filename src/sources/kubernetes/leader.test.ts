// Leader election on the memory Store: one leader at a time, hand-over on a
// clean stop (release), take-over after expiry when the leader goes silent,
// and a leader that cannot renew stepping down before anyone else leads.

import { afterEach, describe, expect, it } from 'vitest';
import { isPierError } from '../../errors.ts';
import { Kinds } from '../../model/object.ts';
import { StoreErrors } from '../../store/errors.ts';
import { createMemoryStore } from '../../store/memory.ts';
import type { Store } from '../../store.ts';
import { KubernetesErrors } from './errors.ts';
import { createLeaderElector, type LeaderElector } from './leader.ts';

const LEASE = { leaseMs: 600, renewMs: 100 };
const electors: LeaderElector[] = [];
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A Store whose calls fail while `broken` is set, as a Store behind a cut network does. */
function breakable(store: Store): Store & { broken: boolean } {
  const fail = () => {
    throw StoreErrors.UNAVAILABLE('test', 'network cut');
  };
  const wrapper = {
    broken: false,
    name: store.name,
    get: (ref: Parameters<Store['get']>[0]) => (wrapper.broken ? fail() : store.get(ref)),
    list: (kind: string, o?: Parameters<Store['list']>[1]) =>
      wrapper.broken ? fail() : store.list(kind, o),
    apply: (object: Parameters<Store['apply']>[0], o?: Parameters<Store['apply']>[1]) =>
      wrapper.broken ? fail() : store.apply(object, o),
    delete: (ref: Parameters<Store['delete']>[0], o?: Parameters<Store['delete']>[1]) =>
      wrapper.broken ? fail() : store.delete(ref, o),
    revision: () => store.revision(),
    watch: (from: number, o?: Parameters<Store['watch']>[1]) => store.watch(from, o),
    close: () => store.close(),
  };
  return wrapper as unknown as Store & { broken: boolean };
}

interface Candidate {
  elector: LeaderElector;
  terms: number;
  /** Aborted signals seen by the leader work, so tests can check work stops. */
  leading: boolean;
}

function candidate(store: Store, identity: string, extra: Partial<typeof LEASE> = {}): Candidate {
  const elector = createLeaderElector(store, { name: 'test', identity, ...LEASE, ...extra });
  electors.push(elector);
  const c: Candidate = { elector, terms: 0, leading: false };
  elector.start({
    onStartedLeading: async (signal) => {
      c.terms++;
      c.leading = true;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
      c.leading = false;
    },
  });
  return c;
}

describe('leader election', () => {
  it('a lone candidate takes the lease and records itself as holder', async () => {
    const store = createMemoryStore();
    const a = candidate(store, 'a');
    await until(() => a.leading, 'a to lead');
    expect(a.elector.isLeader()).toBe(true);
    const lease = (await store.get({ kind: Kinds.Lease, name: 'test' })) as unknown as {
      spec: { holderIdentity: string; leaseDurationMs: number; renewTime: string };
    };
    expect(lease.spec).toMatchObject({ holderIdentity: 'a', leaseDurationMs: 600 });
    const renewed = lease.spec.renewTime;
    await until(() => a.elector.holder() === 'a', 'a to be observed');
    await new Promise((r) => setTimeout(r, 250));
    const later = (await store.get({ kind: Kinds.Lease, name: 'test' })) as unknown as {
      spec: { renewTime: string };
    };
    expect(later.spec.renewTime > renewed).toBe(true);
  });

  it('of two candidates one leads; a clean stop hands over well within the lease', async () => {
    const store = createMemoryStore();
    const a = candidate(store, 'a');
    await until(() => a.leading, 'a to lead');
    const b = candidate(store, 'b');
    await new Promise((r) => setTimeout(r, 300));
    expect(b.terms).toBe(0);
    expect(b.elector.holder()).toBe('a');

    const stoppedAt = Date.now();
    await a.elector.stop();
    expect(a.leading).toBe(false);
    await until(() => b.leading, 'b to lead');
    // Released, so b only waits for its next look (retry 100 ms + jitter), not the 600 ms lease.
    expect(Date.now() - stoppedAt).toBeLessThan(400);
    const lease = (await store.get({ kind: Kinds.Lease, name: 'test' })) as unknown as {
      spec: { holderIdentity: string; leaseTransitions: number };
    };
    expect(lease.spec.holderIdentity).toBe('b');
    expect(lease.spec.leaseTransitions).toBe(1);
  });

  it('a leader cut off from the Store steps down before a follower takes over', async () => {
    const shared = createMemoryStore();
    const cut = breakable(shared);
    const a = candidate(cut, 'a');
    await until(() => a.leading, 'a to lead');
    const b = candidate(shared, 'b');
    await new Promise((r) => setTimeout(r, 200));

    let overlap = false;
    const sampler = setInterval(() => {
      if (a.leading && b.leading) overlap = true;
    }, 2);
    try {
      const cutAt = Date.now();
      cut.broken = true;
      await until(() => !a.leading, 'a to step down');
      const steppedDown = Date.now() - cutAt;
      await until(() => b.leading, 'b to take over');
      const tookOver = Date.now() - cutAt;
      // a stops within its renew deadline (400 ms after its last renewal);
      // b waits out the lease (600 ms after it saw the last renewal).
      expect(steppedDown).toBeLessThan(600);
      expect(tookOver).toBeGreaterThanOrEqual(400);
      expect(tookOver).toBeLessThan(600 + 300);
      expect(overlap).toBe(false);

      // Back on the network, a stays a follower: b renews.
      cut.broken = false;
      await new Promise((r) => setTimeout(r, 300));
      expect(a.leading).toBe(false);
      expect(a.elector.holder()).toBe('b');
    } finally {
      clearInterval(sampler);
    }
  });

  it('takes over a malformed lease instead of waiting on it', async () => {
    const store = createMemoryStore();
    await store.apply({
      apiVersion: 'pier.dev/v1',
      kind: 'Lease',
      metadata: { name: 'test' },
      spec: { holderIdentity: 'ghost', leaseDurationMs: 'soon' },
    } as never);
    const warnings: string[] = [];
    const elector = createLeaderElector(store, {
      name: 'test',
      identity: 'a',
      ...LEASE,
      logger: { info: () => undefined, warn: (_f, m) => warnings.push(m) },
    });
    electors.push(elector);
    let led = false;
    elector.start({
      onStartedLeading: () => {
        led = true;
      },
    });
    await until(() => led, 'a to lead');
    expect(warnings.join('\n')).toContain('lease test in the Store is malformed');
  });

  it.each([
    [{ leaseMs: 0, renewMs: 100 }, 'leaseMs'],
    [{ leaseMs: 600, renewMs: 500 }, 'renewMs'],
    [{ leaseMs: 600, renewMs: 100, renewDeadlineMs: 700 }, 'renewDeadlineMs'],
    [{ leaseMs: 600, renewMs: Number.NaN }, 'renewMs'],
  ])('refuses %o (%s)', (timing, option) => {
    try {
      createLeaderElector(createMemoryStore(), { name: 'x', identity: 'a', ...timing });
      expect.unreachable();
    } catch (error) {
      expect(isPierError(error, KubernetesErrors.codes.LEADER_BAD_OPTION)).toBe(true);
      expect((error as Error).message).toContain(option);
    }
  });
});
