// Store URLs for Redis, read into ioredis options:
//
//   redis://[[user]:password@]host[:port][/db][?cluster=<name>]
//   rediss://...                                  (TLS, same shape)
//   redis+sentinel://[[user]:password@]host[:port][,host[:port]...]/<master>[/db]
//       [?cluster=<name>&sentinelUsername=..&sentinelPassword=..&role=master|slave]
//
// A malformed URL is PIER_STORE_BAD_URL naming it, with any password masked.

import type { RedisOptions } from 'ioredis';
import { StoreErrors } from './errors.ts';

export interface ParsedRedisUrl {
  redis: RedisOptions;
  /** From ?cluster=, when given. */
  cluster?: string;
}

/** The URL with its password replaced by ***, for messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/[^:@/]*:)[^/]*@/i, '$1***@');
}

const PORT = /^[0-9]{1,5}$/;

function hostPort(
  text: string,
  defaultPort: number,
  fail: (reason: string) => never,
): { host: string; port: number } {
  let host: string;
  let port: string | undefined;
  if (text.startsWith('[')) {
    const close = text.indexOf(']');
    if (close === -1) fail(`unterminated IPv6 address in ${JSON.stringify(text)}`);
    host = text.slice(1, close);
    const after = text.slice(close + 1);
    if (after !== '' && !after.startsWith(':'))
      fail(`unexpected ${JSON.stringify(after)} after the IPv6 address`);
    port = after === '' ? undefined : after.slice(1);
  } else {
    const colon = text.lastIndexOf(':');
    host = colon === -1 ? text : text.slice(0, colon);
    port = colon === -1 ? undefined : text.slice(colon + 1);
  }
  if (host === '') fail('the host is missing');
  if (port === undefined) return { host, port: defaultPort };
  const n = Number(port);
  if (!PORT.test(port) || n < 1 || n > 65535)
    fail(`port ${JSON.stringify(port)} is not a number from 1 to 65535`);
  return { host, port: n };
}

function parseDb(text: string, fail: (reason: string) => never): number {
  if (!/^[0-9]{1,5}$/.test(text)) fail(`database ${JSON.stringify(text)} is not a number`);
  return Number(text);
}

export function parseRedisUrl(url: string): ParsedRedisUrl {
  const shown = redactUrl(String(url));
  const fail = (reason: string): never => {
    throw StoreErrors.BAD_URL(shown, reason);
  };
  if (typeof url !== 'string') fail('not a string');
  const match = /^(redis|rediss|redis\+sentinel):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(url);
  if (match === null) fail('expected redis://, rediss:// or redis+sentinel://, with no #fragment');
  const scheme = match![1]!.toLowerCase();
  const authority = match![2]!;
  const path = match![3]!;
  const query = new URLSearchParams(match![4] ?? '');

  let userinfo: string | undefined;
  let hosts = authority;
  const at = authority.lastIndexOf('@');
  if (at !== -1) {
    userinfo = authority.slice(0, at);
    hosts = authority.slice(at + 1);
  }
  const decode = (text: string) => {
    try {
      return decodeURIComponent(text);
    } catch {
      return fail('the user or password has a bad %-escape');
    }
  };
  const redis: RedisOptions = {};
  if (userinfo !== undefined) {
    const colon = userinfo.indexOf(':');
    const user = colon === -1 ? userinfo : userinfo.slice(0, colon);
    if (colon === -1) fail('expected user:password@ or :password@ before the host');
    if (user !== '') redis.username = decode(user);
    redis.password = decode(userinfo.slice(colon + 1));
  }

  const allowed = new Set(['cluster']);
  const segments = path.split('/').slice(1);
  if (path === '/') segments.length = 0;
  if (scheme === 'redis+sentinel') {
    for (const p of ['sentinelUsername', 'sentinelPassword', 'role']) allowed.add(p);
    const sentinels = hosts.split(',').map((h) => hostPort(h, 26379, fail));
    if (sentinels.length === 0) fail('no sentinel host');
    const [master, db, ...extra] = segments;
    if (master === undefined || master === '')
      fail('the sentinel master name is missing: redis+sentinel://host:26379/<master>');
    if (extra.length > 0) fail(`unexpected path ${JSON.stringify(`/${extra.join('/')}`)}`);
    redis.sentinels = sentinels;
    redis.name = decode(master!);
    if (db !== undefined && db !== '') redis.db = parseDb(db, fail);
    const role = query.get('role');
    if (role !== null) {
      if (role !== 'master' && role !== 'slave')
        fail(`role must be master or slave, not ${JSON.stringify(role)}`);
      redis.role = role as 'master' | 'slave';
    }
    const sentinelUsername = query.get('sentinelUsername');
    if (sentinelUsername !== null) redis.sentinelUsername = sentinelUsername;
    const sentinelPassword = query.get('sentinelPassword');
    if (sentinelPassword !== null) redis.sentinelPassword = sentinelPassword;
  } else {
    if (hosts.includes(',')) fail('only redis+sentinel:// takes several hosts');
    const { host, port } = hostPort(hosts, 6379, fail);
    redis.host = host;
    redis.port = port;
    if (segments.length > 1) fail(`unexpected path ${JSON.stringify(path)}`);
    if (segments[0] !== undefined && segments[0] !== '') redis.db = parseDb(segments[0], fail);
    if (scheme === 'rediss') redis.tls = { servername: host };
  }

  for (const key of query.keys()) {
    if (!allowed.has(key))
      fail(`unknown parameter ${JSON.stringify(key)} (allowed: ${[...allowed].join(', ')})`);
  }
  const cluster = query.get('cluster');
  if (cluster === '') fail('cluster= is empty');
  return cluster === null ? { redis } : { redis, cluster };
}
