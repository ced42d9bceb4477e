import { describe, expect, it } from 'vitest';
import { createHostTable } from './host-table.ts';
import { hostMatches, hostOf, intersectHostnames } from './hostname.ts';

describe('hostOf', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM:8080', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com.:80', 'example.com'],
    ['[::1]:8080', '[::1]'],
    ['[::1]', '[::1]'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['', ''],
  ])('%j -> %j', (header, host) => {
    expect(hostOf(header)).toBe(host);
  });
});

describe('hostMatches', () => {
  it.each([
    ['*.example.com', 'foo.example.com', false, true],
    ['*.example.com', 'foo.bar.example.com', false, true],
    ['*.example.com', 'example.com', false, false],
    ['*.example.com', 'fooexample.com', false, false],
    ['*.example.com', 'foo.bar.example.com', true, false],
    ['*.example.com', 'foo.example.com', true, true],
    ['foo.example.com', 'foo.example.com', false, true],
    ['', 'anything.at.all', false, true],
  ])('%s covers %s (single label: %s) -> %s', (pattern, host, single, expected) => {
    expect(hostMatches(pattern, host, single)).toBe(expected);
  });
});

// Listener hostname x route hostname -> the hostname the route gets on that listener
// (HTTPRouteSpec.hostnames' examples).
describe('intersectHostnames', () => {
  it.each([
    ['test.example.com', 'test.example.com', 'test.example.com'],
    ['test.example.com', '*.example.com', 'test.example.com'],
    ['test.example.com', 'other.example.com', undefined],
    ['*.example.com', '*.example.com', '*.example.com'],
    ['*.example.com', 'test.example.com', 'test.example.com'],
    ['*.example.com', 'foo.test.example.com', 'foo.test.example.com'],
    ['*.example.com', '*.foo.example.com', '*.foo.example.com'],
    ['*.foo.example.com', '*.example.com', '*.foo.example.com'],
    ['*.example.com', 'example.com', undefined],
    ['*.example.com', 'test.example.net', undefined],
    [undefined, 'test.example.net', 'test.example.net'],
    ['test.example.com', '', 'test.example.com'],
  ])('listener %s, route %s -> %s', (listener, route, expected) => {
    expect(intersectHostnames(listener, route)).toBe(expected);
  });
});

describe('host table', () => {
  const table = createHostTable([
    { hostname: '', value: 'catch-all' },
    { hostname: '*.example.com', value: 'wild' },
    { hostname: '*.foo.example.com', value: 'wild-foo' },
    { hostname: 'foo.example.com', value: 'exact' },
    { hostname: '*.one.org', singleLabel: true, value: 'one-label' },
  ]);
  it.each([
    ['foo.example.com', 'exact'],
    ['bar.example.com', 'wild'],
    ['a.foo.example.com', 'wild-foo'],
    ['a.b.foo.example.com', 'wild-foo'],
    ['example.com', 'catch-all'],
    ['x.one.org', 'one-label'],
    ['x.y.one.org', 'catch-all'],
    ['other.net', 'catch-all'],
  ])('%s -> %s', (host, expected) => {
    expect(table.find(host)).toBe(expected);
  });

  it('without a catch-all entry, an unknown host finds nothing', () => {
    const exactOnly = createHostTable([{ hostname: 'a.example.com', value: 1 }]);
    expect(exactOnly.find('b.example.com')).toBeUndefined();
  });
});
