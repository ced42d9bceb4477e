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

// sessionPersistence timeouts: the cookie `key.began.seen` (Unix seconds) at
// `now` -> the key hashed, and the Set-Cookie value sent (none: keep).
describe('session cookies with timeouts (absolute 100 s, idle 40 s; refreshed after 10 s)', () => {
  const affinity = compileAffinity({
    type: 'cookie',
    name: 'sid',
    absoluteSeconds: 100,
    idleSeconds: 40,
  })!;
  const NOW = 1_000_000;
  const at = (cookie: string | undefined) => {
    const target: AffinityTarget = { hash: -1, setCookie: undefined };
    applyAffinity(affinity, '198.51.100.1', cookie, target, () => 0.5, NOW);
    const sent = target.setCookie?.split(';')[0]?.slice('sid='.length);
    return { hash: target.hash, sent };
  };
  it.each([
    {
      name: 'fresh (seen 5 s ago): kept, not re-sent',
      cookie: `k1.${NOW - 50}.${NOW - 5}`,
      key: 'k1',
      sent: undefined,
    },
    {
      name: 'seen 20 s ago: kept, refreshed',
      cookie: `k1.${NOW - 50}.${NOW - 20}`,
      key: 'k1',
      sent: `k1.${NOW - 50}.${NOW}`,
    },
    {
      name: 'idle 40 s: a new session',
      cookie: `k1.${NOW - 50}.${NOW - 40}`,
      key: undefined,
      sent: 'new',
    },
    {
      name: 'began 100 s ago: a new session, however active',
      cookie: `k1.${NOW - 100}.${NOW - 1}`,
      key: undefined,
      sent: 'new',
    },
    {
      name: 'from the future: a new session',
      cookie: `k1.${NOW + 50}.${NOW + 50}`,
      key: undefined,
      sent: 'new',
    },
    {
      name: 'without times (an older cookie): a new session',
      cookie: 'k1',
      key: undefined,
      sent: 'new',
    },
    { name: 'no cookie: a new session', cookie: undefined, key: undefined, sent: 'new' },
  ])('$name', ({ cookie, key, sent }) => {
    const out = at(cookie === undefined ? undefined : `a=1; sid=${cookie}`);
    if (key !== undefined) expect(out.hash).toBe(murmur3(key));
    if (sent === 'new') expect(out.sent).toMatch(new RegExp(`^[0-9a-f]{24}\\.${NOW}\\.${NOW}$`));
    else expect(out.sent).toBe(sent);
  });

  it('a new session is hashed by its new key', () => {
    const out = at(undefined);
    expect(out.hash).toBe(murmur3(out.sent!.split('.')[0]!));
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
      { type: 'cookie', name: 'sid', ttlSeconds: 2, absoluteSeconds: 2 },
    ],
    [
      { type: 'Cookie' as const, cookieLifetime: 'Session' as const, absoluteTimeoutMs: 60_000 },
      { type: 'cookie', name: 'pier-session', absoluteSeconds: 60 },
    ],
    [
      { type: 'Cookie' as const, idleTimeoutMs: 30_000 },
      { type: 'cookie', name: 'pier-session', idleSeconds: 30 },
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
