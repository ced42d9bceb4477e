import { describe, expect, it } from 'vitest';
import { isPierError } from '../../src/errors.ts';
import {
  createRouteTable,
  pickBackend,
  type RequestView,
  type RouteTableSpec,
  type WeightedBackend,
} from '../router.ts';
import { RouterErrors } from './errors.ts';

const listener = { gateway: 'default/gw', name: 'http', port: 80, protocol: 'HTTP' as const };
const backend = (name: string, weight = 1): WeightedBackend => ({
  resolved: true,
  namespace: 'default',
  name,
  port: 80,
  weight,
});

function request(path: string, host = 'example.com', headers: string[] = []): RequestView {
  return { method: 'GET', host, path, query: '', headers, scheme: 'http' };
}

function table(
  rules: RouteTableSpec['listeners'][number]['routes'][number]['rules'],
): RouteTableSpec {
  return {
    port: 80,
    protocol: 'HTTP',
    listeners: [
      {
        listener,
        routes: [{ kind: 'HTTPRoute', namespace: 'default', name: 'r', hostnames: [], rules }],
      },
    ],
  };
}

describe('createRouteTable', () => {
  it('returns the match built at compile time: a hit allocates no result', () => {
    const t = createRouteTable(
      table([
        {
          index: 0,
          matches: [{ path: { type: 'PathPrefix', value: '/a' }, headers: [], queryParams: [] }],
          backends: [backend('a')],
          filters: {},
        },
      ]),
    );
    const first = t.lookup(request('/a/1'));
    const second = t.lookup(request('/a/2'));
    expect(first).toBeDefined();
    expect(second).toBe(first);
    expect(first?.route).toEqual({
      kind: 'HTTPRoute',
      namespace: 'default',
      name: 'r',
      rule: 0,
      match: 0,
    });
    expect(first?.prefix).toBe('/a');
    expect(t.lookup(request('/b'))).toBeUndefined();
  });

  it('names the listener a host reaches', () => {
    const t = createRouteTable(table([]));
    expect(t.listenerFor('Example.com:80')).toEqual(listener);
  });

  it('refuses a regex that does not compile, with a stable code', () => {
    const spec = table([
      {
        index: 0,
        matches: [
          { path: { type: 'RegularExpression', value: '([' }, headers: [], queryParams: [] },
        ],
        backends: [],
        filters: {},
      },
    ]);
    let caught: unknown;
    try {
      createRouteTable(spec);
    } catch (error) {
      caught = error;
    }
    expect(isPierError(caught, RouterErrors.codes.INVALID_REGEX)).toBe(true);
    expect((caught as Error).message).toContain('HTTPRoute default/r rule 0 match 0 path');
  });

  it('refuses weight-0 backends, which translation leaves out', () => {
    expect(() =>
      createRouteTable(
        table([{ index: 0, matches: [], backends: [backend('a', 0)], filters: {} }]),
      ),
    ).toThrow(/weight 0/);
  });

  it('repeated headers are matched as one comma-joined value', () => {
    const t = createRouteTable(
      table([
        {
          index: 0,
          matches: [
            {
              path: { type: 'PathPrefix', value: '/' },
              headers: [{ type: 'Exact', name: 'X-A', value: '1,2' }],
              queryParams: [],
            },
          ],
          backends: [backend('a')],
          filters: {},
        },
      ]),
    );
    expect(t.lookup(request('/', 'example.com', ['x-a', '1', 'X-A', '2']))?.route.rule).toBe(0);
    expect(t.lookup(request('/', 'example.com', ['x-a', '1']))).toBeUndefined();
  });
});

describe('pickBackend', () => {
  const match = { backends: [backend('a', 80), backend('b', 20)], totalWeight: 100 };
  it.each([
    [0, 'a'],
    [0.5, 'a'],
    [0.7999, 'a'],
    [0.8, 'b'],
    [0.9999, 'b'],
  ])('random %s -> %s', (random, name) => {
    const picked = pickBackend(match, random);
    expect(picked?.resolved === true ? picked.name : undefined).toBe(name);
  });
  it('has nothing to pick without weight', () => {
    expect(pickBackend({ backends: [], totalWeight: 0 }, 0.5)).toBeUndefined();
  });
  it('splits by weight over many draws', () => {
    const counts: Record<string, number> = { a: 0, b: 0 };
    for (let i = 0; i < 1000; i++) {
      const picked = pickBackend(match, i / 1000);
      if (picked?.resolved) counts[picked.name] = (counts[picked.name] ?? 0) + 1;
    }
    expect(counts).toEqual({ a: 800, b: 200 });
  });
});
