import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import type { Secret } from '../../src/model.ts';
import type { ListenerConfig, SecretRef } from '../translate/gateway-config.ts';
import { createCertificateStore } from './certificates.ts';

const pem = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url));

function secret(name: string, file: string, resourceVersion = '1'): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'gw', resourceVersion },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': pem(`${file}.crt`).toString('base64'),
      'tls.key': pem(`${file}.key`).toString('base64'),
    },
  } as Secret;
}

function listener(hostname: string | undefined, ...secrets: string[]): ListenerConfig {
  return {
    identity: { gateway: 'gw/edge', name: hostname ?? 'any', port: 443, protocol: 'HTTPS' },
    source: 'Gateway',
    ...(hostname === undefined ? {} : { hostname }),
    certificates: secrets.map((name) => ({ namespace: 'gw', name })),
  };
}

const secrets = new Map([
  ['exact', secret('exact', 'exact')],
  ['wild', secret('wild', 'wild')],
  ['any', secret('any', 'any')],
]);
const lookup = (ref: SecretRef) => secrets.get(ref.name);

describe('certificate selection by SNI', () => {
  const store = createCertificateStore();
  const { selection, problems } = store.build(
    [
      listener('secure.example.com', 'exact'),
      listener('*.wild.example.com', 'wild'),
      listener(undefined, 'any'),
    ],
    lookup,
  );
  const exact = selection.select('secure.example.com');
  const wild = selection.select('a.wild.example.com');
  const any = selection.select(undefined);

  it('has no problems and three distinct contexts', () => {
    expect(problems).toEqual([]);
    expect(new Set([exact, wild, any]).size).toBe(3);
    expect(selection.size).toBe(3);
  });

  it.each([
    ['secure.example.com', 'exact'],
    ['SECURE.example.COM', 'exact'],
    ['a.wild.example.com', 'wild'],
    ['a.b.wild.example.com', 'wild'],
    ['wild.example.com', 'any'],
    ['other.example.com', 'any'],
    ['', 'any'],
  ])('%s -> %s', (servername, expected) => {
    const want = { exact, wild, any }[expected];
    expect(selection.select(servername)).toBe(want);
  });

  it('gives clients without SNI the catch-all pair', () => {
    expect(selection.fallback?.cert.equals(pem('any.crt'))).toBe(true);
  });

  it('presents the selected certificate in a real handshake', async () => {
    const server = createServer(
      { SNICallback: (name, cb) => cb(null, selection.select(name)) },
      (s) => s.end(),
    );
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    const subject = (servername: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(
          { host: '127.0.0.1', port, servername, rejectUnauthorized: false },
          () => {
            resolve(String(socket.getPeerCertificate().subject.CN));
            socket.destroy();
          },
        );
        socket.once('error', reject);
      });
    try {
      expect(await subject('secure.example.com')).toBe('secure.example.com');
      expect(await subject('x.y.wild.example.com')).toBe('*.wild.example.com');
      expect(await subject('nobody.example.net')).toBe('default.example.com');
    } finally {
      server.close();
    }
  });

  it('reuses a context while the Secret is unchanged and makes a new one when it changes', () => {
    const cache = createCertificateStore();
    const first = cache
      .build([listener('secure.example.com', 'exact')], lookup)
      .selection.select('secure.example.com');
    const again = cache
      .build([listener('secure.example.com', 'exact')], lookup)
      .selection.select('secure.example.com');
    expect(again).toBe(first);
    const updated = new Map(secrets);
    updated.set('exact', secret('exact', 'exact', '2'));
    const changed = cache
      .build([listener('secure.example.com', 'exact')], (ref) => updated.get(ref.name))
      .selection.select('secure.example.com');
    expect(changed).not.toBe(first);
    cache.prune();
    cache.prune();
    expect(cache.size).toBe(0);
  });

  it('leaves out an unusable certificate and says which Secret and why', () => {
    const broken = secret('broken', 'exact');
    broken.data!['tls.key'] = Buffer.from('not a key').toString('base64');
    const opaque = { ...secret('opaque', 'exact'), type: 'Opaque' } as Secret;
    const all = new Map([...secrets, ['broken', broken], ['opaque', opaque]]);
    const built = createCertificateStore().build(
      [
        listener('a.example.com', 'broken'),
        listener('b.example.com', 'opaque'),
        listener('c.example.com', 'gone'),
        listener('d.example.com', 'exact'),
      ],
      (ref) => all.get(ref.name),
    );
    expect(built.problems.map((p) => [p.secret, p.code])).toEqual([
      ['gw/broken', 'PIER_GW_LISTEN_CERTIFICATE'],
      ['gw/opaque', 'PIER_GW_LISTEN_CERTIFICATE'],
      ['gw/gone', 'PIER_GW_LISTEN_CERTIFICATE'],
    ]);
    expect(built.problems[2]!.message).toContain('does not exist');
    // The good one still serves, and is the fallback.
    expect(built.selection.select('d.example.com')).toBeDefined();
    expect(built.selection.select('a.example.com')).toBe(built.selection.select('d.example.com'));
  });
});

describe('client certificate validation (Gateway spec.tls.frontend)', () => {
  const ca = pem('any.crt').toString();
  const checking = (hostname: string, mode: 'AllowValidOnly' | 'AllowInsecureFallback') => ({
    ...listener(hostname, 'exact'),
    clientValidation: { ca: [ca], mode },
  });

  it('a port whose listeners check nothing asks no client for a certificate', () => {
    const { selection } = createCertificateStore().build(
      [listener('a.example.com', 'exact')],
      lookup,
    );
    expect(selection.requestsClientCertificates).toBe(false);
    expect(selection.clientValidation('a.example.com')).toBeUndefined();
  });

  it("each server name gets its listener's mode, and a context of its own with the CAs", () => {
    const store = createCertificateStore();
    const { selection } = store.build(
      [
        checking('strict.example.com', 'AllowValidOnly'),
        checking('*.lax.example.com', 'AllowInsecureFallback'),
        listener('secure.example.com', 'exact'),
      ],
      lookup,
    );
    expect(selection.requestsClientCertificates).toBe(true);
    expect(selection.clientValidation('strict.example.com')).toBe('AllowValidOnly');
    expect(selection.clientValidation('x.lax.example.com')).toBe('AllowInsecureFallback');
    expect(selection.clientValidation('secure.example.com')).toBeUndefined();
    // One Secret, two contexts: with the CAs, and without.
    expect(selection.select('strict.example.com')).not.toBe(selection.select('secure.example.com'));
    expect(selection.fallback?.ca).toEqual([ca]);
  });
});
