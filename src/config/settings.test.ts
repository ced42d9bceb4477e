import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { hostPort, hostPortAccepts } from './formats.ts';
import { resolveConfig } from './resolve.ts';
import { section, setting } from './setting.ts';
import { settingsTable } from './settings.ts';

// A section as a later issue would add it (src/config/README.md): a nested
// group, camelCase keys, a list and a number. Its names follow from the path.
const dns = section('Cluster DNS.', {
  listen: setting(hostPort(), {
    default: '127.0.0.1:53',
    accepts: hostPortAccepts('127.0.0.1:53'),
    description: 'Where DNS listens.',
  }),
  cacheSize: setting(z.number().int().min(0), { default: 10000, description: 'Answers kept.' }),
  upstreams: setting(z.array(hostPort()), {
    default: ['1.1.1.1:53'],
    accepts: 'a comma-separated list of host:port',
    description: 'Forwarders.',
  }),
  negative: section('Negative caching.', {
    ttlSeconds: setting(z.number().int().min(1), { default: 30, description: 'Seconds.' }),
  }),
});
const schema = z.strictObject({ dns });

describe('settingsTable', () => {
  const table = settingsTable(schema);

  it('names each setting for the file, the environment and the command line', () => {
    expect(table.settings.map((s) => [s.path, s.env, `--${s.flag}`, s.kind])).toEqual([
      ['dns.listen', 'PIER_DNS_LISTEN', '--dns.listen', 'string'],
      ['dns.cacheSize', 'PIER_DNS_CACHE_SIZE', '--dns.cache-size', 'number'],
      ['dns.upstreams', 'PIER_DNS_UPSTREAMS', '--dns.upstreams', 'list'],
      [
        'dns.negative.ttlSeconds',
        'PIER_DNS_NEGATIVE_TTL_SECONDS',
        '--dns.negative.ttl-seconds',
        'number',
      ],
    ]);
    expect([...table.groups]).toEqual(['dns', 'dns.negative']);
    expect(table.byPath.get('dns.cacheSize')?.accepts).toBe('an integer');
  });

  it('resolves a new section from every source', () => {
    const { config, origins } = resolveConfig(
      {
        file: {
          path: 'dns.yaml',
          text: 'dns:\n  negative:\n    ttlSeconds: 5\n  upstreams: [9.9.9.9:53]\n',
        },
        env: { PIER_DNS_CACHE_SIZE: '500', PIER_DNS_UPSTREAMS: '8.8.8.8:53, 8.8.4.4:53' },
        flags: [
          { flag: 'dns.upstreams', value: '127.0.0.1:5353' },
          { flag: 'dns.upstreams', value: '127.0.0.1:5354' },
        ],
      },
      table,
    );
    expect(config).toEqual({
      dns: {
        listen: '127.0.0.1:53',
        cacheSize: 500,
        upstreams: ['127.0.0.1:5353', '127.0.0.1:5354'],
        negative: { ttlSeconds: 5 },
      },
    });
    expect(origins.get('dns.negative.ttlSeconds')).toEqual({ source: 'file', where: 'dns.yaml:3' });
  });

  it('reports bad numbers and list items with the setting wording', () => {
    expect(() => resolveConfig({ env: { PIER_DNS_CACHE_SIZE: '1e3x' } }, table)).toThrow(
      'PIER_DNS_CACHE_SIZE="1e3x": dns.cacheSize must be an integer',
    );
    expect(() => resolveConfig({ env: { PIER_DNS_UPSTREAMS: '1.1.1.1:53,nope' } }, table)).toThrow(
      'PIER_DNS_UPSTREAMS="1.1.1.1:53,nope": dns.upstreams must be a comma-separated list of host:port',
    );
    expect(() =>
      resolveConfig({ file: { path: 'f', text: 'dns:\n  negative: 3\n' } }, table),
    ).toThrow('f:2: dns.negative must be a mapping of settings (ttlSeconds)');
  });

  it('refuses schemas that break the rules', () => {
    expect(() => settingsTable(z.strictObject({ x: section('x', { a: z.string() }) }))).toThrow(
      'x.a must be made with setting()',
    );
    expect(() => settingsTable(z.strictObject({ x: z.object({}) }))).toThrow(
      'section x must be made with section()',
    );
    expect(() =>
      settingsTable(
        z.strictObject({
          x: section('x', {
            m: setting(z.record(z.string(), z.string()), {
              default: {},
              accepts: 'a map',
              description: 'm',
            }),
          }),
        }),
      ),
    ).toThrow('x.m must be a scalar or a list of scalars');
    expect(() => setting(z.string(), { default: '', description: 'needs words' })).toThrow(
      'needs an `accepts` phrase',
    );
    expect(() =>
      settingsTable(
        z.strictObject({
          a: section('a', {
            bC: setting(z.boolean(), { default: true, description: '' }),
            b: section('b', { c: setting(z.boolean(), { default: true, description: '' }) }),
          }),
        }),
      ),
    ).toThrow('a.b.c and a.bC share a name');
  });
});
