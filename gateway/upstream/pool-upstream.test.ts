// The upstream's bookkeeping with fake dispatchers (the createDispatcher
// port): live endpoint replacement, draining, retries avoiding a host,
// ejection within the percentage cap and recovery by the timer.
// Real undici pools and sockets are exercised in test/gateway-forward*.

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { EndpointAddress, UpstreamHost } from '../upstream.ts';
import { createUpstream, hostKey } from './pool-upstream.ts';

interface FakeDispatcher {
  origin: string;
  closed: boolean;
  destroyed: boolean;
  finishClose: () => void;
  close(): Promise<void>;
  destroy(): Promise<void>;
}

function fakes() {
  const made: FakeDispatcher[] = [];
  const createDispatcher = (origin: string) => {
    let finish = () => {};
    const closing = new Promise<void>((resolve) => {
      finish = resolve;
    });
    const fake: FakeDispatcher = {
      origin,
      closed: false,
      destroyed: false,
      finishClose: () => finish(),
      close() {
        fake.closed = true;
        return closing;
      },
      destroy() {
        fake.destroyed = true;
        finish();
        return Promise.resolve();
      },
    };
    made.push(fake);
    return fake as unknown as UpstreamHost['dispatcher'];
  };
  return { made, createDispatcher };
}

function eps(...keys: string[]): EndpointAddress[] {
  return keys.map((k) => {
    const i = k.lastIndexOf(':');
    return {
      address: k.slice(0, i),
      port: Number(k.slice(i + 1)),
      ready: true,
      serving: true,
      terminating: false,
    };
  });
}

const keysOf = (hosts: readonly UpstreamHost[]) => hosts.map((h) => h.key).sort();

afterEach(() => {
  vi.useRealTimers();
});

describe('createUpstream', () => {
  it('brackets IPv6 in host keys', () => {
    expect(hostKey('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(hostKey('fd00::1', 80)).toBe('[fd00::1]:80');
  });

  it('keeps the pools of endpoints that stay and drains the removed ones', async () => {
    const { made, createDispatcher } = fakes();
    const upstream = createUpstream({ name: 'web', createDispatcher });
    upstream.setEndpoints(eps('10.0.0.1:80', '10.0.0.2:80'));
    expect(made.map((d) => d.origin)).toEqual(['http://10.0.0.1:80', 'http://10.0.0.2:80']);
    const second = upstream.available().find((h) => h.key === '10.0.0.2:80')!;

    upstream.setEndpoints(eps('10.0.0.1:80', '10.0.0.3:80', '10.0.0.3:80'));
    expect(keysOf(upstream.available())).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
    expect(made).toHaveLength(3); // 10.0.0.1 kept its pool, 10.0.0.3 got one (once)
    expect(made[1]!.closed).toBe(true);
    expect(second.live).toBe(false);
    expect(made[0]!.closed).toBe(false);

    // close() waits for the draining pool as well.
    let closed = false;
    const closing = upstream.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 5));
    expect(closed).toBe(false);
    for (const d of made) d.finishClose();
    await closing;
    expect(closed).toBe(true);
    expect(made.every((d) => d.closed)).toBe(true);
  });

  it('picks none when empty, and avoids the previous host on a retry', () => {
    const { createDispatcher } = fakes();
    const upstream = createUpstream({
      name: 'web',
      createDispatcher,
      balancer: 'round-robin',
      random: () => 0,
    });
    expect(upstream.pick(0)).toBeUndefined();
    upstream.setEndpoints(eps('10.0.0.1:80'));
    const only = upstream.pick(0)!;
    expect(upstream.pick(0, only)).toBe(only); // nothing else to go to
    upstream.setEndpoints(eps('10.0.0.1:80', '10.0.0.2:80'));
    const first = upstream.pick(0)!;
    const retry = upstream.pick(0, first)!;
    expect(retry).not.toBe(first);
  });

  it('counts requests in flight for least-request', () => {
    const { createDispatcher } = fakes();
    const upstream = createUpstream({ name: 'web', createDispatcher });
    upstream.setEndpoints(eps('10.0.0.1:80', '10.0.0.2:80'));
    const busy = upstream.available()[0]!;
    upstream.begin(busy);
    upstream.begin(busy);
    for (let i = 0; i < 20; i++) expect(upstream.pick(0)).not.toBe(busy);
    upstream.end(busy, 'success');
    upstream.end(busy, 'success');
    expect(busy.active).toBe(0);
  });

  it('ejects a failing host within the cap and brings it back after the interval', () => {
    vi.useFakeTimers();
    let clock = 0;
    const { createDispatcher } = fakes();
    const upstream = createUpstream({
      name: 'web',
      createDispatcher,
      now: () => clock,
      outlier: {
        consecutiveFailures: 2,
        consecutiveConnectFailures: 2,
        baseEjectionMs: 1000,
        maxEjectionPercent: 50,
      },
    });
    upstream.setEndpoints(eps('10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80'));
    const [a, b, c] = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'].map(
      (k) => upstream.available().find((h) => h.key === k)!,
    );
    const fail = (h: UpstreamHost, outcome: 'failure' | 'connect-failure' = 'failure') => {
      upstream.begin(h);
      upstream.end(h, outcome);
    };
    fail(a!);
    expect(upstream.available()).toHaveLength(4);
    fail(a!, 'connect-failure');
    expect(keysOf(upstream.available())).toEqual(['10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80']);
    fail(b!);
    fail(b!);
    expect(keysOf(upstream.available())).toEqual(['10.0.0.3:80', '10.0.0.4:80']);
    // 50% of 4 are out: the third failing host stays in.
    fail(c!);
    fail(c!);
    fail(c!);
    expect(keysOf(upstream.available())).toEqual(['10.0.0.3:80', '10.0.0.4:80']);
    expect(
      upstream
        .status()
        .filter((s) => s.ejected)
        .map((s) => s.key),
    ).toEqual(['10.0.0.1:80', '10.0.0.2:80']);

    clock = 1000;
    vi.advanceTimersByTime(1001);
    expect(upstream.available()).toHaveLength(4);
    void upstream.destroy();
  });

  it('never ejects a lone host', () => {
    const { createDispatcher } = fakes();
    const upstream = createUpstream({
      name: 'web',
      createDispatcher,
      outlier: { consecutiveFailures: 1 },
    });
    upstream.setEndpoints(eps('10.0.0.1:80'));
    const host = upstream.available()[0]!;
    for (let i = 0; i < 10; i++) {
      upstream.begin(host);
      upstream.end(host, 'failure');
    }
    expect(upstream.available()).toHaveLength(1);
    void upstream.destroy();
  });

  it('rejects a bad outlier policy by name', () => {
    expect(() => createUpstream({ name: 'web', outlier: { maxEjectionPercent: 150 } })).toThrow(
      /web: outlier policy: maxEjectionPercent/,
    );
  });
});
