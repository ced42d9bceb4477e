import { describe, expect, it } from 'vitest';
import { applyHeaderEdits, FILTER_ORDER, type FilterConfig, runFilters } from '../filters.ts';
import type { RequestView } from '../router.ts';

function request(overrides: Partial<RequestView> = {}): RequestView {
  return {
    method: 'GET',
    host: 'example.com',
    path: '/foo/bar',
    query: '',
    headers: [],
    scheme: 'http',
    ...overrides,
  };
}

// RequestRedirect on a listener on `port`: filter -> Location (HTTPRequestRedirectFilter's
// port rules, and the conformance suite's HTTPRouteRedirectPortAndScheme cases).
const REDIRECT_CASES: {
  name: string;
  port: number;
  scheme?: 'http' | 'https';
  filter: FilterConfig['requestRedirect'];
  location: string;
}[] = [
  {
    name: 'scheme nil, port nil, listener 80',
    port: 80,
    filter: { statusCode: 302, hostname: 'example.org' },
    location: 'http://example.org/foo/bar',
  },
  {
    name: 'scheme nil, port 80',
    port: 80,
    filter: { statusCode: 302, hostname: 'example.org', port: 80 },
    location: 'http://example.org/foo/bar',
  },
  {
    name: 'scheme nil, port 8080',
    port: 80,
    filter: { statusCode: 302, hostname: 'example.org', port: 8080 },
    location: 'http://example.org:8080/foo/bar',
  },
  {
    name: 'scheme https, port nil',
    port: 80,
    filter: { statusCode: 302, hostname: 'example.org', scheme: 'https' },
    location: 'https://example.org/foo/bar',
  },
  {
    name: 'scheme https, port 443',
    port: 80,
    filter: { statusCode: 302, hostname: 'example.org', scheme: 'https', port: 443 },
    location: 'https://example.org/foo/bar',
  },
  {
    name: 'scheme https, port 8443',
    port: 80,
    filter: { statusCode: 302, hostname: 'example.org', scheme: 'https', port: 8443 },
    location: 'https://example.org:8443/foo/bar',
  },
  {
    name: 'listener 8080, scheme nil, port nil',
    port: 8080,
    filter: { statusCode: 302, hostname: 'example.org' },
    location: 'http://example.org:8080/foo/bar',
  },
  {
    name: 'listener 8080, scheme nil, port 80',
    port: 8080,
    filter: { statusCode: 302, hostname: 'example.org', port: 80 },
    location: 'http://example.org/foo/bar',
  },
  {
    name: 'listener 8080, scheme https, port nil',
    port: 8080,
    filter: { statusCode: 302, hostname: 'example.org', scheme: 'https' },
    location: 'https://example.org/foo/bar',
  },
  {
    name: 'https listener 443, scheme nil',
    port: 443,
    scheme: 'https',
    filter: { statusCode: 302 },
    location: 'https://example.com/foo/bar',
  },
  {
    name: 'https listener 443, port 8443',
    port: 443,
    scheme: 'https',
    filter: { statusCode: 302, port: 8443 },
    location: 'https://example.com:8443/foo/bar',
  },
  {
    name: 'https listener 443, scheme http',
    port: 443,
    scheme: 'https',
    filter: { statusCode: 302, scheme: 'http' },
    location: 'http://example.com/foo/bar',
  },
  {
    name: 'https listener 443, scheme http port 8080',
    port: 443,
    scheme: 'https',
    filter: { statusCode: 302, scheme: 'http', port: 8080 },
    location: 'http://example.com:8080/foo/bar',
  },
  {
    name: 'full path replaced',
    port: 80,
    filter: { statusCode: 301, path: { type: 'ReplaceFullPath', value: '/new' } },
    location: 'http://example.com/new',
  },
  {
    name: 'prefix replaced',
    port: 80,
    filter: { statusCode: 308, path: { type: 'ReplacePrefixMatch', value: '/v2' } },
    location: 'http://example.com/v2/bar',
  },
];

describe('RequestRedirect', () => {
  it.each(REDIRECT_CASES)('$name -> $location', ({ port, scheme, filter, location }) => {
    const decision = runFilters(
      { requestRedirect: filter! },
      request({ scheme: scheme ?? 'http', host: 'example.com:9999' }),
      {
        prefix: '/foo',
        listenerPort: port,
      },
    );
    expect(decision).toMatchObject({ action: 'redirect', status: filter!.statusCode, location });
  });

  it('keeps the query string', () => {
    const decision = runFilters(
      { requestRedirect: { statusCode: 302, scheme: 'https' } },
      request({ query: 'a=1&b=2' }),
      {
        prefix: undefined,
        listenerPort: 80,
      },
    );
    expect(decision.location).toBe('https://example.com/foo/bar?a=1&b=2');
  });

  it('skips the request filters after it but still shapes the response', () => {
    const decision = runFilters(
      {
        requestRedirect: { statusCode: 302, hostname: 'example.org' },
        requestHeaderModifier: { set: [{ name: 'x-a', value: '1' }], add: [], remove: [] },
        responseHeaderModifier: { set: [{ name: 'x-b', value: '2' }], add: [], remove: [] },
        requestMirror: [{ backend: { namespace: 'ns', name: 'm', port: 80 }, fraction: 1 }],
      },
      request(),
      { prefix: undefined, listenerPort: 80 },
    );
    expect(decision.action).toBe('redirect');
    expect(decision.requestHeaders.set).toEqual([]);
    expect(decision.mirrors).toEqual([]);
    expect(decision.responseHeaders.set).toEqual([{ name: 'x-b', value: '2' }]);
  });
});

describe('URLRewrite', () => {
  it.each([
    [{ hostname: 'rewritten.example' }, '/foo/bar', 'rewritten.example'],
    [{ path: { type: 'ReplaceFullPath', value: '/one' } }, '/one', undefined],
    [{ path: { type: 'ReplacePrefixMatch', value: '/one' } }, '/one/bar', undefined],
    [{ path: { type: 'ReplacePrefixMatch', value: '' } }, '/bar', undefined],
  ] as const)('%j -> path %s, host %s', (urlRewrite, path, host) => {
    const decision = runFilters({ urlRewrite }, request(), { prefix: '/foo', listenerPort: 80 });
    expect(decision).toMatchObject({ action: 'forward', path, host });
  });
});

describe('RequestMirror', () => {
  const a = { namespace: 'ns', name: 'a', port: 80 };
  const b = { namespace: 'ns', name: 'b', port: 80 };
  it('mirrors by fraction against the random draw', () => {
    const filters: FilterConfig = {
      requestMirror: [
        { backend: a, fraction: 1 },
        { backend: b, fraction: 0.25 },
      ],
    };
    expect(
      runFilters(filters, request(), { prefix: undefined, listenerPort: 80, random: () => 0.1 })
        .mirrors,
    ).toEqual([a, b]);
    expect(
      runFilters(filters, request(), { prefix: undefined, listenerPort: 80, random: () => 0.3 })
        .mirrors,
    ).toEqual([a]);
  });
  it('never mirrors at fraction 0', () => {
    const filters: FilterConfig = { requestMirror: [{ backend: a, fraction: 0 }] };
    expect(
      runFilters(filters, request(), { prefix: undefined, listenerPort: 80, random: () => 0 })
        .mirrors,
    ).toEqual([]);
  });
});

describe('an unresolved filter', () => {
  it('answers with its status instead of forwarding', () => {
    const decision = runFilters(
      { unresolved: { status: 500, message: 'no such filter' }, urlRewrite: { hostname: 'x' } },
      request(),
      { prefix: undefined, listenerPort: 80 },
    );
    expect(decision).toMatchObject({ action: 'respond', status: 500, host: undefined });
  });
});

describe('filter order', () => {
  it('is fixed: errors, CORS, redirect, request headers, rewrite, mirror, response headers', () => {
    expect(FILTER_ORDER).toEqual([
      'unresolved',
      'cors',
      'requestRedirect',
      'requestHeaderModifier',
      'urlRewrite',
      'requestMirror',
      'responseHeaderModifier',
    ]);
  });
});

// HTTPHeaderFilter's own examples: input headers -> config -> output headers.
describe('header edits', () => {
  it.each([
    {
      name: 'set overwrites',
      input: ['my-header', 'foo'],
      edits: { set: [{ name: 'my-header', value: 'bar' }], add: [], remove: [] },
      output: ['my-header', 'bar'],
    },
    {
      name: 'add appends to the existing value',
      input: ['my-header', 'foo'],
      edits: { set: [], add: [{ name: 'my-header', value: 'bar,baz' }], remove: [] },
      output: ['my-header', 'foo,bar,baz'],
    },
    {
      name: 'remove drops, case-insensitively',
      input: ['My-Header1', 'foo', 'my-header2', 'bar', 'MY-HEADER3', 'baz'],
      edits: { set: [], add: [], remove: ['my-header1', 'my-header3'] },
      output: ['my-header2', 'bar'],
    },
    {
      name: 'set replaces every repeated value; add creates an absent header',
      input: ['X-A', '1', 'x-a', '2', 'keep', 'k'],
      edits: {
        set: [{ name: 'x-a', value: '3' }],
        add: [{ name: 'x-new', value: 'n' }],
        remove: [],
      },
      output: ['keep', 'k', 'x-a', '3', 'x-new', 'n'],
    },
  ])('$name', ({ input, edits, output }) => {
    const before = [...input];
    expect(applyHeaderEdits(input, edits)).toEqual(output);
    expect(input).toEqual(before);
  });
});
