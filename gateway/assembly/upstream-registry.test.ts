import { type Dispatcher, Pool } from 'undici';
import { describe, expect, it } from 'vitest';
import type { EndpointSlice, Service } from '../../src/model.ts';
import { Http1Pool } from '../upstream/http1/pool.ts';
import { createUpstreamRegistry, type UpstreamLookup } from './upstream-registry.ts';

/** A dispatcher that is never used for requests here: the registry only makes and closes them. */
function fakeDispatcher(closed: string[], origin: string): Dispatcher {
  return {
    close: async () => void closed.push(origin),
    destroy: async () => void closed.push(origin),
  } as unknown as Dispatcher;
}

function service(name: string, extra: Record<string, unknown> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'ns' },
    spec: { ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...extra },
  } as unknown as Service;
}

function slice(serviceName: string, port: number, ...addresses: string[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${serviceName}-${port}`,
      namespace: 'ns',
      labels: { 'kubernetes.io/service-name': serviceName },
    },
    addressType: 'IPv4',
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
    ports: [{ name: 'http', port, protocol: 'TCP' }],
  } as unknown as EndpointSlice;
}

function lookupOf(services: Service[], slices: EndpointSlice[]): UpstreamLookup {
  return {
    service: (namespace, name) =>
      services.find((s) => s.metadata.name === name && namespace === 'ns'),
    slices: () => slices,
  };
}

const web = { namespace: 'ns', name: 'web', port: 80 };

describe('the upstream registry', () => {
  it('makes an upstream per backend, updates its endpoints in place, and closes what is no longer wanted', async () => {
    const closed: string[] = [];
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: { createDispatcher: (origin) => fakeDispatcher(closed, origin) },
    });
    const first = registry.sync(
      [{ backend: web, persistent: false }],
      lookupOf([service('web')], [slice('web', 8080, '10.0.0.1', '10.0.0.2')]),
    );
    const entry = first.get('ns/web:80')!;
    expect(entry.endpoints).toBe(2);
    expect(entry.upstream.name).toBe('Service ns/web:80');
    expect(entry.upstream.balancer.kind).toBe('least-request');

    registry.sync(
      [{ backend: web, persistent: false }],
      lookupOf([service('web')], [slice('web', 8080, '10.0.0.2', '10.0.0.3')]),
    );
    const again = registry.get(web, false)!;
    expect(again.upstream).toBe(entry.upstream);
    expect(again.upstream.available().map((h) => h.key)).toEqual([
      '10.0.0.2:8080',
      '10.0.0.3:8080',
    ]);
    await new Promise((r) => setTimeout(r, 0));
    expect(closed).toEqual(['http://10.0.0.1:8080']);

    registry.sync([], lookupOf([], []));
    expect(registry.get(web, false)).toBeUndefined();
    await registry.close();
    expect(closed.sort()).toEqual([
      'http://10.0.0.1:8080',
      'http://10.0.0.2:8080',
      'http://10.0.0.3:8080',
    ]);
  });

  it('hashes for affinity (ClientIP Services, persistent routes) and keeps those pools apart', () => {
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: { createDispatcher: (o) => fakeDispatcher([], o) },
    });
    const lookup = lookupOf(
      [service('web'), service('sticky', { sessionAffinity: 'ClientIP' })],
      [slice('web', 8080, '10.0.0.1'), slice('sticky', 8080, '10.0.0.9')],
    );
    registry.sync(
      [
        { backend: web, persistent: false },
        { backend: web, persistent: true },
        { backend: { namespace: 'ns', name: 'sticky', port: 80 }, persistent: false },
      ],
      lookup,
    );
    expect(registry.get(web, false)!.upstream.balancer.kind).toBe('least-request');
    expect(registry.get(web, true)!.upstream.balancer.kind).toBe('maglev');
    expect(registry.get(web, true)!.upstream).not.toBe(registry.get(web, false)!.upstream);
    const sticky = registry.get({ namespace: 'ns', name: 'sticky', port: 80 }, false)!;
    expect(sticky.clientIpAffinity).toBe(true);
    expect(sticky.upstream.hashes).toBe(true);
  });

  it('says why a backend has no endpoints, and sends to the ClusterIP when asked', () => {
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: { createDispatcher: (o) => fakeDispatcher([], o) },
    });
    const resolved = registry.sync(
      [
        { backend: web, persistent: false },
        { backend: { namespace: 'ns', name: 'gone', port: 80 }, persistent: false },
      ],
      lookupOf([service('web')], []),
    );
    expect(resolved.get('ns/web:80')!.problem).toContain('no ready endpoint');
    expect(resolved.get('ns/gone:80')!.problem).toContain('does not exist');
    const viaClusterIP = createUpstreamRegistry({
      useClusterIP: true,
      upstream: { createDispatcher: (o) => fakeDispatcher([], o) },
    });
    viaClusterIP.sync(
      [{ backend: web, persistent: false }],
      lookupOf([service('web', { clusterIP: '10.96.0.5' })], []),
    );
    expect(
      viaClusterIP
        .get(web, false)!
        .upstream.available()
        .map((h) => h.key),
    ).toEqual(['10.96.0.5:80']);
  });

  it('makes new pools when the Service port turns h2c', () => {
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: { createDispatcher: (o) => fakeDispatcher([], o) },
    });
    registry.sync(
      [{ backend: web, persistent: false }],
      lookupOf([service('web')], [slice('web', 8080, '10.0.0.1')]),
    );
    const before = registry.get(web, false)!.upstream;
    const h2c = service('web', {
      ports: [
        {
          name: 'http',
          port: 80,
          targetPort: 'http',
          protocol: 'TCP',
          appProtocol: 'kubernetes.io/h2c',
        },
      ],
    });
    registry.sync(
      [{ backend: web, persistent: false }],
      lookupOf([h2c], [slice('web', 8080, '10.0.0.1')]),
    );
    const after = registry.get(web, false)!.upstream;
    expect(after).not.toBe(before);
    expect(after.protocol).toBe('h2c');
  });

  it('builds HTTP/1.1 pools with the client gateway.upstreamHttp1Client names', async () => {
    for (const [http1Client, kind] of [
      ['pier', Http1Pool],
      ['undici', Pool],
    ] as const) {
      const registry = createUpstreamRegistry({ useClusterIP: false, upstream: { http1Client } });
      registry.sync(
        [{ backend: web, persistent: false }],
        lookupOf([service('web')], [slice('web', 8080, '10.0.0.1')]),
      );
      const [host] = registry.get(web, false)!.upstream.available();
      expect(host!.dispatcher, http1Client).toBeInstanceOf(kind);
      await registry.close();
    }
  });
});

describe('the upstream registry and BackendTLSPolicy', () => {
  const tlsOf = (key: string) => ({
    tls: { serverName: 'web.ns.svc', ca: ['PEM'], subjectAltNames: [], key },
  });
  const lookupWithTls = (setting: ReturnType<typeof tlsOf> | { refused: string } | undefined) => ({
    ...lookupOf([service('web')], [slice('web', 8080, '10.0.0.1')]),
    backendTls: (namespace: string, name: string, port: number) =>
      namespace === 'ns' && name === 'web' && port === 80 ? setting : undefined,
  });

  it('gives the Service port TLS pools, and new pools when the settings change (the old ones drain)', async () => {
    const made: { origin: string; tls: string | undefined }[] = [];
    const closed: string[] = [];
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: {
        createDispatcher: (origin, _protocol, tls) => {
          made.push({ origin, tls: tls?.key });
          return fakeDispatcher(closed, origin) as never;
        },
      },
    });
    const want = [{ backend: web, persistent: false }];
    const first = registry.sync(want, lookupWithTls(tlsOf('k1'))).get('ns/web:80')!;
    expect(first.refused).toBeUndefined();
    expect(first.endpoints).toBe(1);
    registry.sync(want, lookupWithTls(tlsOf('k1')));
    expect(registry.get(web, false)!.upstream, 'same settings: same pools').toBe(first.upstream);
    registry.sync(want, lookupWithTls(tlsOf('k2')));
    expect(registry.get(web, false)!.upstream, 'new settings: new pools').not.toBe(first.upstream);
    registry.sync(want, lookupWithTls(undefined));
    await new Promise((r) => setTimeout(r, 0));
    expect(made.map((m) => m.tls)).toEqual(['k1', 'k2', undefined]);
    expect(closed.length).toBe(2);
    await registry.close();
  });

  it("a Gateway's client certificate: pools of their own over TLS, the plain ones without TLS", async () => {
    const made: { tls: string | undefined; client: string | undefined }[] = [];
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: {
        createDispatcher: (origin, _protocol, tls) => {
          made.push({ tls: tls?.key, client: tls?.clientCertificate?.cert });
          return fakeDispatcher([], origin) as never;
        },
      },
    });
    const clientCertificate = { cert: 'CERT', key: 'KEY', digest: 'd1' };
    const wants = [
      { backend: web, persistent: false },
      { backend: web, persistent: false, clientCertificate },
    ];
    registry.sync(wants, lookupWithTls(tlsOf('k1')));
    const plain = registry.get(web, false)!;
    const mutual = registry.get(web, false, 'd1')!;
    expect(mutual.upstream).not.toBe(plain.upstream);
    expect(made).toEqual([
      { tls: 'k1', client: undefined },
      { tls: 'k1#client:d1', client: 'CERT' },
    ]);
    // No TLS to the port: the certificate is of no use, both share one entry.
    registry.sync(wants, lookupWithTls(undefined));
    expect(registry.get(web, false, 'd1')!.upstream).toBe(registry.get(web, false)!.upstream);
    await registry.close();
  });

  it('a refused port (no valid CA) gets no endpoint and says why', async () => {
    const registry = createUpstreamRegistry({
      useClusterIP: false,
      upstream: { createDispatcher: (origin) => fakeDispatcher([], origin) as never },
    });
    const entry = registry
      .sync([{ backend: web, persistent: false }], lookupWithTls({ refused: 'no valid CA' }))
      .get('ns/web:80')!;
    expect(entry.refused).toBe('no valid CA');
    expect(entry.problem).toBe('no valid CA');
    expect(entry.endpoints).toBe(0);
    expect(entry.upstream.available()).toEqual([]);
    await registry.close();
  });
});
