import { describe, expect, it } from 'vitest';
import { murmur3 } from '../balancer/hash.ts';
import {
  type AffinityTarget,
  affinityFromSessionPersistence,
  applyAffinity,
  compileAffinity,
  cookieValue,
} from './affinity.ts';

function run(
  policy: Parameters<typeof compileAffinity>[0],
  clientIp: string,
  captured?: string,
): AffinityTarget {
  const target: AffinityTarget = { hash: -1, setCookie: undefined };
  applyAffinity(compileAffinity(policy)!, clientIp, captured, target, () => 0.5);
  return target;
}

describe('affinity', () => {
  it.each([
    ['a=1; sticky=xyz; b=2', 'sticky', 'xyz'],
    ['sticky=xyz', 'sticky', 'xyz'],
    ['sticky="xyz"', 'sticky', 'xyz'],
    ['xsticky=1; sticky=2', 'sticky', '2'],
    ['a=1;sticky=3', 'sticky', '3'],
    ['a=1', 'sticky', undefined],
    ['sticky', 'sticky', undefined],
    ['', 'sticky', undefined],
  ])('cookieValue(%j, %s) = %s', (header, name, value) => {
    expect(cookieValue(header, name)).toBe(value);
  });

  it('hashes the client IP', () => {
    expect(run({ type: 'client-ip' }, '203.0.113.7')).toEqual({
      hash: murmur3('203.0.113.7'),
      setCookie: undefined,
    });
  });

  it('hashes a header, or draws a random hash without it', () => {
    expect(run({ type: 'header', name: 'X-User' }, '1.1.1.1', '42').hash).toBe(murmur3('42'));
    expect(run({ type: 'header', name: 'X-User' }, '1.1.1.1').hash).toBe(0x80000000);
  });

  it('hashes the cookie, or sets a new one whose value it hashes', () => {
    expect(run({ type: 'cookie', name: 'sticky' }, '1.1.1.1', 'a=1; sticky=abc')).toEqual({
      hash: murmur3('abc'),
      setCookie: undefined,
    });
    const fresh = run({ type: 'cookie', name: 'sticky', ttlSeconds: 3600 }, '1.1.1.1', 'a=1');
    const match = /^sticky=([0-9a-f]{24}); Path=\/; HttpOnly; SameSite=Lax; Max-Age=3600$/.exec(
      fresh.setCookie ?? '',
    );
    expect(match).not.toBeNull();
    // The next request carries the cookie and hashes alike: it sticks.
    expect(run({ type: 'cookie', name: 'sticky' }, '9.9.9.9', `sticky=${match![1]}`).hash).toBe(
      fresh.hash,
    );
  });

  it.each([
    [{ type: 'header', name: 'bad header' }, /not a valid header name/],
    [{ type: 'cookie', name: 'a;b' }, /not a valid cookie name/],
    [{ type: 'cookie', name: 'a', path: 'x' }, /not a valid path/],
    [{ type: 'cookie', name: 'a', ttlSeconds: 0 }, /ttlSeconds/],
  ] as const)('rejects %j', (policy, message) => {
    expect(() => compileAffinity(policy)).toThrow(message);
  });
});

describe('affinityFromSessionPersistence', () => {
  it.each([
    [{ type: 'Cookie' as const }, { type: 'cookie', name: 'pier-session' }],
    [
      {
        type: 'Cookie' as const,
        sessionName: 'sid',
        cookieLifetime: 'Permanent' as const,
        absoluteTimeoutMs: 1500,
      },
      { type: 'cookie', name: 'sid', ttlSeconds: 2 },
    ],
    [
      { type: 'Cookie' as const, cookieLifetime: 'Session' as const, absoluteTimeoutMs: 60_000 },
      { type: 'cookie', name: 'pier-session' },
    ],
    [{ type: 'Header' as const }, { type: 'header', name: 'x-pier-session' }],
    [
      { type: 'Header' as const, sessionName: 'X-Session' },
      { type: 'header', name: 'X-Session' },
    ],
  ])('%j -> %j', (sp, policy) => {
    expect(affinityFromSessionPersistence(sp)).toEqual(policy);
    expect(compileAffinity(affinityFromSessionPersistence(sp))).toBeDefined();
  });
});
