import { describe, expect, it } from 'vitest';
import { normalizePath, readTarget, type TargetView } from './request-target.ts';

const view = (): TargetView => ({
  method: 'GET',
  host: '',
  path: '',
  query: '',
  headers: [],
  scheme: 'http',
  target: undefined,
  absolute: false,
});

// request target, Host -> what the router sees and what goes upstream (undefined: the target as received).
const cases: [
  string,
  string,
  { host: string; path: string; query: string; target?: string } | 'invalid',
][] = [
  ['/', 'a.test', { host: 'a.test', path: '/', query: '' }],
  ['/a/b?x=1&y=2', 'a.test', { host: 'a.test', path: '/a/b', query: 'x=1&y=2' }],
  ['/a?', 'a.test:8080', { host: 'a.test:8080', path: '/a', query: '' }],
  ['/.well-known/acme', 'a.test', { host: 'a.test', path: '/.well-known/acme', query: '' }],
  ['/a/../b', 'a.test', { host: 'a.test', path: '/b', query: '', target: '/b' }],
  ['/a/./b/', 'a.test', { host: 'a.test', path: '/a/b/', query: '', target: '/a/b/' }],
  [
    '/a/%2e%2E/b?q=/../',
    'a.test',
    { host: 'a.test', path: '/b', query: 'q=/../', target: '/b?q=/../' },
  ],
  [
    '/../../etc/passwd',
    'a.test',
    { host: 'a.test', path: '/etc/passwd', query: '', target: '/etc/passwd' },
  ],
  ['http://b.test/x?y', 'a.test', { host: 'b.test', path: '/x', query: 'y', target: '/x?y' }],
  ['HTTP://b.test:81', 'a.test', { host: 'b.test:81', path: '/', query: '', target: '/' }],
  ['https://b.test?q', 'a.test', { host: 'b.test', path: '/', query: 'q', target: '/?q' }],
  ['http://b.test/a/../c', 'a.test', { host: 'b.test', path: '/c', query: '', target: '/c' }],
  ['http://u:p@b.test/', 'a.test', 'invalid'],
  ['http:///x', 'a.test', 'invalid'],
  ['*', 'a.test', 'invalid'],
  ['a.test:443', 'a.test', 'invalid'],
  ['ftp://b.test/', 'a.test', 'invalid'],
  ['', 'a.test', 'invalid'],
];

describe('readTarget', () => {
  it.each(cases)('%s (Host %s)', (url, host, expected) => {
    const v = view();
    const ok = readTarget(url, host, v);
    if (expected === 'invalid') {
      expect(ok).toBe(false);
      return;
    }
    expect(ok).toBe(true);
    expect({ host: v.host, path: v.path, query: v.query, target: v.target }).toEqual({
      target: undefined,
      ...expected,
    });
    expect(v.absolute).toBe(/^https?:/i.test(url));
  });
});

describe('normalizePath', () => {
  it.each([
    ['/a/b/c/./../../g', '/a/g'],
    ['/mid/content=5/../6', '/mid/6'],
    ['/a/..', '/'],
    ['/a/.', '/a/'],
    ['/.', '/'],
    ['//a/../b', '//b'],
  ])('%s -> %s', (path, normalized) => {
    expect(normalizePath(path)).toBe(normalized);
  });
});
