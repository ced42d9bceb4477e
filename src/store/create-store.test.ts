import { describe, expect, it } from 'vitest';
import { isPierError } from '../errors.ts';
import { createStore } from './create-store.ts';
import { StoreErrors } from './errors.ts';
import { parseRedisUrl, redactUrl } from './redis-url.ts';

describe('createStore', () => {
  it.each([undefined, '', 'memory:', 'memory://', 'memory:?changeLogLength=5'])(
    '%j is the memory store',
    async (url) => {
      const store = createStore(url);
      expect(store.name).toBe('memory');
      await store.close();
    },
  );

  it('memory:?changeLogLength=N sets the log length', async () => {
    const store = createStore('memory:?changeLogLength=2');
    for (let i = 0; i < 3; i++)
      await store.apply({ apiVersion: 'v1', kind: 'Node', metadata: { name: `n${i}` } });
    for await (const event of store.watch(0)) {
      expect(event.type).toBe('relist');
      break;
    }
    await store.close();
  });

  it.each([
    ['memcached://x', /unknown scheme "memcached:"/],
    ['localhost:6379', /unknown scheme "localhost:"/],
    ['no-scheme', /no scheme/],
    ['memory:/path', /no host or path/],
    ['memory:?size=3', /unknown parameter "size"/],
    ['memory:?changeLogLength=0', /positive integer/],
    ['redis://', /host is missing/],
    ['redis://host:99999', /port "99999"/],
    ['redis://host:6379/x', /database "x"/],
    ['redis://host/0/1', /unexpected path/],
    ['redis://a:1,b:2', /only redis\+sentinel/],
    ['redis://host?db=1', /unknown parameter "db"/],
    ['redis://host?cluster=', /cluster= is empty/],
    ['redis://host#frag', /no #fragment/],
    ['redis+sentinel://s1:26379', /master name is missing/],
    ['redis+sentinel://s1/m?role=leader', /role must be/],
    ['redis://:s3cret@host:70000', /port/],
  ])('%s -> PIER_STORE_BAD_URL (%s)', (url, reason) => {
    let error: unknown;
    try {
      createStore(url);
    } catch (e) {
      error = e;
    }
    expect(isPierError(error, StoreErrors.codes.BAD_URL), String(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(reason);
    expect(message).not.toContain('s3cret');
  });

  it('names the cluster in the URL a valid cluster name or fails', () => {
    expect(() => createStore('redis://127.0.0.1:1?cluster=a}b')).toThrow(
      expect.objectContaining({ code: StoreErrors.codes.INVALID_ARGUMENT }),
    );
  });
});

describe('parseRedisUrl', () => {
  // URL -> the ioredis options it means
  it.each([
    ['redis://localhost', { host: 'localhost', port: 6379 }],
    ['redis://10.0.0.5:6380/2', { host: '10.0.0.5', port: 6380, db: 2 }],
    ['redis://:p%40ss@h:1', { host: 'h', port: 1, password: 'p@ss' }],
    ['redis://user:pw@h', { host: 'h', port: 6379, username: 'user', password: 'pw' }],
    ['redis://[::1]:7000/', { host: '::1', port: 7000 }],
    ['rediss://h:6380', { host: 'h', port: 6380, tls: { servername: 'h' } }],
    [
      'redis+sentinel://:pw@s1,s2:5000/mymaster/3?sentinelPassword=sp&role=slave',
      {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 5000 },
        ],
        name: 'mymaster',
        db: 3,
        password: 'pw',
        sentinelPassword: 'sp',
        role: 'slave',
      },
    ],
  ])('%s', (url, redis) => {
    expect(parseRedisUrl(url).redis).toEqual(redis);
  });

  it('reads ?cluster=', () => {
    expect(parseRedisUrl('redis://h?cluster=prod').cluster).toBe('prod');
    expect(parseRedisUrl('redis://h').cluster).toBeUndefined();
  });

  it.each([
    ['redis://:secret@h:1', 'redis://:***@h:1'],
    ['redis://u:se@cret@h/0', 'redis://u:***@h/0'],
    ['redis://h:1/0', 'redis://h:1/0'],
  ])('redacts %s', (url, shown) => {
    expect(redactUrl(url)).toBe(shown);
  });
});
