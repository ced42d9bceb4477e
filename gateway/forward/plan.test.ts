import { describe, expect, it } from 'vitest';
import { compileForwardPolicy, defaultForwardPolicy } from './plan.ts';
import { connectRetryOnly } from './retry.ts';

describe('compileForwardPolicy', () => {
  it('has safe defaults: no timeouts, connect retries only, no trusted proxies, every upgrade but h2c', () => {
    expect(defaultForwardPolicy).toMatchObject({
      requestTimeoutMs: 0,
      backendTimeoutMs: 0,
      affinity: undefined,
      observer: undefined,
      upgrades: undefined,
    });
    expect(defaultForwardPolicy.retry).toBe(connectRetryOnly);
    expect(defaultForwardPolicy.trustedProxies.empty).toBe(true);
    expect(defaultForwardPolicy.responseEdits.empty).toBe(true);
    expect(Object.isFrozen(defaultForwardPolicy)).toBe(true);
  });

  it('compiles every part', () => {
    const policy = compileForwardPolicy({
      requestHeaders: [{ set: [{ name: 'X-A', value: '1' }] }, undefined, { remove: ['x-b'] }],
      responseHeaders: { add: [{ name: 'X-C', value: '2' }] },
      retry: { attempts: 2, codes: [503] },
      timeouts: { requestMs: 1000, backendRequestMs: 300 },
      affinity: { type: 'header', name: 'X-User' },
      trustedProxies: ['10.0.0.0/8'],
      upgrades: ['WebSocket'],
    });
    expect(policy.requestRules.edits.append).toEqual(['X-A', '1']);
    expect([...policy.requestRules.edits.drop].sort()).toEqual(['x-a', 'x-b']);
    expect(policy.requestRules.affinityHeader).toBe('x-user');
    expect(policy.responseEdits.append).toEqual(['X-C', '2']);
    expect(policy.retry.attempts).toBe(2);
    expect([policy.requestTimeoutMs, policy.backendTimeoutMs]).toEqual([1000, 300]);
    expect(policy.trustedProxies.contains('10.1.2.3')).toBe(true);
    expect([...(policy.upgrades ?? [])]).toEqual(['websocket']);
  });

  it.each([
    [{ timeouts: { requestMs: -1 } }, /timeouts.request must be/],
    [{ timeouts: { backendRequestMs: Number.NaN } }, /timeouts.backendRequest must be/],
    [{ timeouts: { requestMs: 2 ** 31 } }, /timeouts.request must be/],
    [{ retry: { attempts: 11 } }, /retry attempts/],
    [{ retry: { codes: [200] } }, /retry code 200/],
    [{ trustedProxies: ['10.0.0.0/33'] }, /prefix length/],
    [{ trustedProxies: ['nope'] }, /not an IP address/],
    [{ affinity: { type: 'cookie' as const, name: 'a b' } }, /not a valid cookie name/],
    [{ requestHeaders: { set: [{ name: 'X', value: 'a\r\nb' }] } }, /control character/],
  ])('refuses %j naming the field', (spec, message) => {
    expect(() => compileForwardPolicy(spec)).toThrow(message);
  });
});
