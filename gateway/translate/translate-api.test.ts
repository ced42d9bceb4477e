// translate() as the glue calls it: options, determinism, status details and
// objects that never went through validateObject (bad input must not throw).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/model.ts';
import { loadManifestText } from '../../src/sources/manifests/load.ts';
import { TranslateProblems } from './problems.ts';
import { translate } from './translate.ts';

const DIR = join(import.meta.dirname, 'testdata');
const infra = loadManifestText('infra.yaml', readFileSync(join(DIR, 'infra.yaml'), 'utf8')).objects;

function load(text: string): KubeObject[] {
  const loaded = loadManifestText('test.yaml', text);
  expect(loaded.problems).toEqual([]);
  return loaded.objects;
}

const ROUTE = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: default, generation: 7 }
spec:
  parentRefs: [{ name: gw }]
  rules:
    - name: main
      matches: [{ path: { value: /a } }]
      retry: { codes: [502, 503], attempts: 2, backoff: 100ms }
      sessionPersistence: { sessionName: pier-session, type: Cookie, absoluteTimeout: 1h, cookieConfig: { lifetimeType: Permanent } }
      backendRefs: [{ name: v1, port: 8080 }, { name: missing, port: 8080 }]
`;

function request(path: string) {
  return {
    method: 'GET',
    host: 'example.com',
    path,
    query: '',
    headers: [],
    scheme: 'http' as const,
  };
}

describe('translate', () => {
  it('gives the same tables and status whatever order the objects come in', () => {
    const objects = [...infra, ...load(ROUTE)];
    const a = translate({ objects });
    const b = translate({ objects: [...objects].reverse() });
    expect(JSON.stringify(b.ports.map((p) => p.spec))).toBe(
      JSON.stringify(a.ports.map((p) => p.spec)),
    );
    expect(b.status).toEqual(a.status);
    expect(b.problems).toEqual(a.problems);
  });

  it('serves only the configured controller name', () => {
    const config = translate({
      objects: [...infra, ...load(ROUTE)],
      options: { controllerName: 'example.com/other' },
    });
    expect(config.ports).toEqual([]);
    expect(config.status.gateways).toEqual([]);
    expect(config.status.routes).toEqual([]);
    expect(config.status.gatewayClasses).toEqual([]);
  });

  it('reports conditions with the observed generation and problems with stable codes', () => {
    const config = translate({ objects: [...infra, ...load(ROUTE)] });
    const route = config.status.routes.find((r) => r.name === 'r');
    expect(route?.parents[0]?.controllerName).toBe('pier.dev/gateway');
    expect(
      route?.parents[0]?.conditions.map((c) => [c.type, c.status, c.observedGeneration]),
    ).toEqual([
      ['Accepted', 'True', 7],
      ['ResolvedRefs', 'False', 7],
    ]);
    expect(config.problems).toContainEqual(
      expect.objectContaining({
        object: 'HTTPRoute default/r (parent Gateway default/gw)',
        code: TranslateProblems.codes.BACKEND_NOT_FOUND,
        reason: 'BackendNotFound',
      }),
    );
    expect(config.status.gatewayClasses).toEqual([
      { name: 'pier', conditions: [expect.objectContaining({ type: 'Accepted', status: 'True' })] },
    ]);
  });

  it('carries retry, session persistence and the rule name into the match', () => {
    const config = translate({ objects: [...infra, ...load(ROUTE)] });
    const match = config.ports[0]?.table.lookup(request('/a'));
    expect(match?.route).toEqual({
      kind: 'HTTPRoute',
      namespace: 'default',
      name: 'r',
      rule: 0,
      ruleName: 'main',
      match: 0,
    });
    expect(match?.retry).toEqual({ codes: [502, 503], attempts: 2, backoffMs: 100 });
    expect(match?.sessionPersistence).toEqual({
      type: 'Cookie',
      sessionName: 'pier-session',
      absoluteTimeoutMs: 3_600_000,
      cookieLifetime: 'Permanent',
    });
    expect(match?.backends.map((b) => (b.resolved ? b.name : b.reason))).toEqual([
      'v1',
      'BackendNotFound',
    ]);
    expect(match?.totalWeight).toBe(2);
  });

  it('lists ports with their listeners for the TLS and listener glue', () => {
    const config = translate({ objects: [...infra, ...load(ROUTE)] });
    expect(
      config.ports.map((p) => ({ port: p.port, protocol: p.protocol, listeners: p.listeners })),
    ).toEqual([
      {
        port: 80,
        protocol: 'HTTP',
        listeners: [
          {
            identity: { gateway: 'default/gw', name: 'http', port: 80, protocol: 'HTTP' },
            source: 'Gateway',
            certificates: [],
          },
        ],
      },
    ]);
  });
});

// Objects as a buggy writer might store them, skipping validateObject: translation
// must still answer, dropping what it cannot use and saying why.
const MALFORMED: { name: string; object: unknown }[] = [
  {
    name: 'a Gateway without spec',
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'bare', namespace: 'default' },
    },
  },
  {
    name: 'a listener without protocol or port',
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'odd', namespace: 'default' },
      spec: { gatewayClassName: 'pier', listeners: [{ name: 'x' }, null] },
    },
  },
  {
    name: 'an HTTPRoute with redirect and rewrite, prefix rewrite on Exact, bad durations, negative weights',
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'messy', namespace: 'default' },
      spec: {
        parentRefs: [{ name: 'gw' }, {}],
        rules: [
          {
            filters: [
              { type: 'RequestRedirect', requestRedirect: {} },
              { type: 'URLRewrite', urlRewrite: {} },
            ],
          },
          {
            matches: [{ path: { type: 'Exact', value: '/x' } }],
            filters: [
              {
                type: 'URLRewrite',
                urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/y' } },
              },
            ],
            backendRefs: [{ name: 'v1', port: 8080 }],
          },
          { timeouts: { request: 'soon' }, backendRefs: [{ name: 'v1', port: 8080 }] },
          {
            filters: [{ type: 'RequestRedirect', requestRedirect: {} }],
            backendRefs: [{ name: 'v1', port: 8080 }],
          },
          { matches: [{ path: { type: 'Glob', value: '/*' } }] },
          {
            matches: [{ path: { value: '/neg' } }],
            backendRefs: [{ name: 'v1', port: 8080, weight: -5 }, { name: 'v2' }],
          },
          null,
        ],
      },
    },
  },
  {
    name: 'a GRPCRoute with a broken regex and a null match',
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GRPCRoute',
      metadata: { name: 'g', namespace: 'default' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        hostnames: ['grpc.example.com'],
        rules: [{ matches: [{ method: { type: 'RegularExpression', service: '((' } }, null] }],
      },
    },
  },
  {
    name: 'an Ingress with holes',
    object: {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'holes', namespace: 'default' },
      spec: {
        ingressClassName: 'pier',
        tls: [null, { hosts: ['a.example.com'] }],
        rules: [
          null,
          {
            host: 'a.example.com',
            http: {
              paths: [
                null,
                { path: '/x' },
                { pathType: 'Prefix', backend: { service: { name: 'v1' } } },
              ],
            },
          },
        ],
      },
    },
  },
  {
    name: 'a ReferenceGrant without from or to',
    object: {
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      kind: 'ReferenceGrant',
      metadata: { name: 'rg', namespace: 'x' },
      spec: {},
    },
  },
];

describe('translate with objects that were never validated', () => {
  it.each(MALFORMED)('$name: no throw, the rest still served', ({ object }) => {
    const config = translate({ objects: [...infra, object as KubeObject] });
    const table = config.ports.find((p) => p.port === 80)?.table;
    expect(table).toBeDefined();
    expect(config.status.gateways.find((g) => g.name === 'gw')).toBeDefined();
  });

  it('drops the rules it cannot serve and names each one', () => {
    const messy = MALFORMED[2]!.object as KubeObject;
    const config = translate({ objects: [...infra, messy] });
    const status = config.status.routes.find((r) => r.name === 'messy');
    const partially = status?.parents[0]?.conditions.find((c) => c.type === 'PartiallyInvalid');
    expect(partially?.status).toBe('True');
    for (const text of [
      'rule 0: RequestRedirect and URLRewrite cannot be combined',
      'rule 1: ReplacePrefixMatch needs the rule to have exactly one match',
      'rule 2: timeouts.request "soon" is not a Gateway API duration',
      'rule 3: RequestRedirect cannot be used together with backendRefs',
      'rule 4: path match type Glob',
    ]) {
      expect(partially?.message).toContain(text);
    }
    const match = config.ports[0]?.table.lookup(request('/neg'));
    expect(match?.backends.map((b) => (b.resolved ? b.name : b.reason))).toEqual([
      'UnsupportedValue',
    ]);
  });
});

describe('translate with lists that are not lists', () => {
  it.each([
    [
      'Gateway',
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'g2', namespace: 'default' },
        spec: { gatewayClassName: 'pier', listeners: { a: 1 } },
      },
    ],
    [
      'HTTPRoute rules',
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r2', namespace: 'default' },
        spec: { parentRefs: [{ name: 'gw' }], rules: 'all' },
      },
    ],
    [
      'HTTPRoute parentRefs',
      {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'r3', namespace: 'default' },
        spec: { parentRefs: { name: 'gw' } },
      },
    ],
    [
      'Ingress rules',
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'i2', namespace: 'default' },
        spec: { ingressClassName: 'pier', rules: 7 },
      },
    ],
    ['object without metadata', { apiVersion: 'v1', kind: 'Service' }],
  ])('%s', (_name, object) => {
    const config = translate({ objects: [...infra, object as unknown as KubeObject] });
    expect(config.ports.find((p) => p.port === 80)).toBeDefined();
  });
});

describe('Ingress ports', () => {
  const INGRESS = `
apiVersion: v1
kind: Secret
metadata: { name: tls, namespace: default }
type: kubernetes.io/tls
stringData: { tls.crt: "-----BEGIN CERTIFICATE-----", tls.key: "-----BEGIN PRIVATE KEY-----" }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: default }
spec:
  ingressClassName: pier
  tls: [{ hosts: [web.example.com], secretName: tls }]
  rules:
    - host: web.example.com
      http:
        paths: [{ path: /, pathType: Prefix, backend: { service: { name: v1, port: { number: 8080 } } } }]
`;
  it('serves HTTP and HTTPS on the configured ports', () => {
    const config = translate({
      objects: [...infra, ...load(INGRESS)],
      options: { ingress: { httpPort: 8000, httpsPort: 8443 } },
    });
    expect(
      config.ports.map((p) => [p.port, p.protocol, p.listeners.map((l) => l.identity.name)]),
    ).toEqual([
      [80, 'HTTP', ['http']],
      [8000, 'HTTP', ['ingress-http:web.example.com']],
      [8443, 'HTTPS', ['ingress-https:web.example.com']],
    ]);
    expect(config.ports[2]?.listeners[0]?.certificates).toEqual([
      { namespace: 'default', name: 'tls' },
    ]);
  });
  it('refuses one port for both protocols and says so', () => {
    const config = translate({
      objects: [...infra, ...load(INGRESS)],
      options: { ingress: { httpPort: 8000, httpsPort: 8000 } },
    });
    expect(config.ports.map((p) => [p.port, p.protocol])).toEqual([
      [80, 'HTTP'],
      [8000, 'HTTP'],
    ]);
    expect(config.status.ingresses[0]?.problems.map((p) => p.code)).toEqual([
      TranslateProblems.codes.INGRESS_PORT_CONFLICT,
    ]);
  });
  it('can be turned off', () => {
    const config = translate({
      objects: [...infra, ...load(INGRESS)],
      options: { ingress: { enabled: false } },
    });
    expect(config.ports.map((p) => p.port)).toEqual([80]);
    expect(config.status.ingresses).toEqual([]);
  });
});
