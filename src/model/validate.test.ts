import { describe, expect, expectTypeOf, it } from 'vitest';
import {
  type Gateway,
  type HTTPRoute,
  isHTTPRoute,
  isKind,
  isService,
  KIND_TABLE,
  Kinds,
  type KubeObject,
  type ObjectOfKind,
  type Service,
} from '../model.ts';
import { ModelError } from './errors.ts';
import { isKnownKind, isNamespaced } from './registry.ts';
import { checkCase, type ModelCase } from './test-table.ts';
import { formatPath, parseObject, validateObject } from './validate.ts';

const cases: ModelCase[] = [
  {
    name: 'a namespaced object without a namespace goes to default',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n',
    accepted: { metadata: { name: 's', namespace: 'default' } },
  },
  {
    name: 'an empty namespace counts as none',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: ""}\n',
    accepted: { metadata: { namespace: 'default' } },
  },
  {
    name: 'metadata fields are kept',
    yaml: `
apiVersion: v1
kind: Secret
metadata:
  name: s
  namespace: shop
  uid: 6f1c
  resourceVersion: "42"
  generation: 3
  labels: {app.kubernetes.io/name: shop, tier: ""}
  annotations: {kubectl.kubernetes.io/last-applied-configuration: "{}", Note: free text}
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: shop, uid: a1, controller: true}]
  finalizers: [example.com/cleanup]
`,
    accepted: {
      metadata: {
        resourceVersion: '42',
        generation: 3,
        labels: { 'app.kubernetes.io/name': 'shop', tier: '' },
        ownerReferences: [{ kind: 'Deployment', controller: true }],
        finalizers: ['example.com/cleanup'],
      },
    },
  },
  {
    name: 'no metadata',
    yaml: 'apiVersion: v1\nkind: Secret\n',
    rejected: { path: 'metadata', message: 'Required value' },
  },
  {
    name: 'no name',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {namespace: a}\n',
    rejected: { path: 'metadata.name', message: 'Required value' },
  },
  {
    name: 'a name with upper case',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: MySecret}\n',
    rejected: {
      path: 'metadata.name',
      message:
        "must be a DNS subdomain: at most 253 characters of lowercase alphanumerics, '-' or '.', starting and ending with an alphanumeric",
    },
  },
  {
    name: 'a namespace that is no label',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a.b}\n',
    rejected: {
      path: 'metadata.namespace',
      message:
        "must be a DNS label: at most 63 lowercase alphanumerics or '-', starting and ending with an alphanumeric",
    },
  },
  {
    name: 'a label key with two slashes',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, labels: {a/b/c: x}}\n',
    rejected: {
      path: 'metadata.labels[a/b/c]',
      message:
        "invalid key \"a/b/c\": name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric",
    },
  },
  {
    name: 'a label value that is a number',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, labels: {replicas: 3}}\n',
    rejected: { path: 'metadata.labels.replicas', message: 'must be a string, not a number' },
  },
  {
    name: 'an annotation key with a space',
    yaml: 'apiVersion: v1\nkind: Secret\nmetadata: {name: s, annotations: {"my note": x}}\n',
    rejected: {
      path: 'metadata.annotations[my note]',
      message:
        "invalid key \"my note\": name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric",
    },
  },
  {
    name: 'no apiVersion',
    yaml: 'kind: Service\nmetadata: {name: web}\n',
    rejected: { path: 'apiVersion', message: 'Required value' },
  },
  {
    name: 'no kind',
    yaml: 'apiVersion: v1\nmetadata: {name: web}\n',
    rejected: { path: 'kind', message: 'Required value' },
  },
  {
    name: 'a kind Pier does not handle',
    yaml: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n',
    code: 'PIER_MODEL_UNKNOWN_KIND',
    rejected: {
      path: 'kind',
      message: 'unknown kind Deployment in apps/v1: Pier does not handle it',
    },
  },
  {
    name: 'a core kind at a version that does not exist',
    yaml: 'apiVersion: v2\nkind: Service\nmetadata: {name: web}\n',
    code: 'PIER_MODEL_UNKNOWN_KIND',
    rejected: { path: 'apiVersion', message: 'Service is not served as v2; use v1' },
  },
  {
    name: 'spec that is a list',
    yaml: 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: [1]\n',
    rejected: { path: 'spec', message: 'must be an object, not a list' },
  },
];

describe('validateObject', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['a string', 'apiVersion: v1'],
    ['a list', [{ apiVersion: 'v1', kind: 'Service' }]],
    ['undefined', undefined],
  ])('rejects %s as a whole', (what, raw) => {
    const result = validateObject(raw);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.code).toBe('PIER_MODEL_INVALID');
    expect(result.error.issues).toEqual([{ path: '', message: `must be an object, not ${what}` }]);
    expect(result.error.message).toBe(`object: must be an object, not ${what}`);
  });

  // Bad input never crashes: every odd value in every known field of every kind gives an error or an object.
  const oddValues: unknown[] = [
    null,
    0,
    -1,
    Number.POSITIVE_INFINITY,
    Number.NaN,
    '',
    'x'.repeat(5000),
    [],
    [null],
    {},
    { a: { b: [] } },
    true,
  ];
  it.each(KIND_TABLE.map((k) => [k.key, k] as const))(
    'never throws on odd values in %s',
    (_key, info) => {
      const version = info.versions[0] ?? '';
      for (const field of [
        'metadata',
        'spec',
        'status',
        'data',
        'endpoints',
        'ports',
        'addressType',
        'type',
      ]) {
        for (const value of oddValues) {
          const result = validateObject({
            apiVersion: version,
            kind: info.kind,
            metadata: { name: 'x' },
            [field]: value,
          });
          expect(typeof result.ok).toBe('boolean');
          if (!result.ok) expect(result.error).toBeInstanceOf(ModelError);
        }
      }
    },
  );

  it('does not mutate its input, and passes unknown nested values through as they are', () => {
    const future = { nested: [1, { deep: true }] };
    const raw = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r' },
      spec: { rules: [{ backendRefs: [{ name: 'web', port: 80 }], futureField: future }] },
    };
    const before = structuredClone(raw);
    const result = validateObject(raw);
    expect(raw).toEqual(before);
    if (!result.ok) throw result.error;
    const route = result.object as HTTPRoute;
    expect((route.spec.rules[0] as Record<string, unknown> | undefined)?.futureField).toBe(future);
  });

  it('lists every issue, the message the first three', () => {
    const result = validateObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'shop' },
      spec: {
        ports: [
          { name: 'a', port: 0 },
          { name: 'b', port: -1 },
          { name: 'c', port: 70000 },
          { name: 'd', port: 1.5 },
        ],
      },
    });
    if (result.ok) throw new Error('accepted');
    expect(result.error.issues.map((i) => i.path)).toEqual([
      'spec.ports[0].port',
      'spec.ports[1].port',
      'spec.ports[2].port',
      'spec.ports[3].port',
    ]);
    expect(result.error.message).toBe(
      'Service shop/web: spec.ports[0].port: must be an integer from 1 to 65535; spec.ports[1].port: must be an integer from 1 to 65535; spec.ports[2].port: must be an integer from 1 to 65535 (and 1 more)',
    );
    expect(result.error.subject).toBe('Service shop/web');
  });

  it('names a cluster-scoped object without a namespace', () => {
    const result = validateObject({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'GatewayClass',
      metadata: { name: 'pier', namespace: 'ignored' },
      spec: {},
    });
    if (result.ok) throw new Error('accepted');
    expect(result.error.message).toBe('GatewayClass pier: spec.controllerName: Required value');
    expect(result.error.namespace).toBeUndefined();
  });

  it('parseObject returns the object or throws the ModelError', () => {
    expect(
      parseObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } }).metadata.name,
    ).toBe('a');
    expect(() =>
      parseObject({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'A' } }),
    ).toThrow(ModelError);
  });
});

describe('formatPath', () => {
  it.each([
    [[], ''],
    [['spec', 'ports', 0, 'targetPort'], 'spec.ports[0].targetPort'],
    [['data', 'tls.crt'], 'data[tls.crt]'],
    [['metadata', 'labels', 'app.kubernetes.io/name'], 'metadata.labels[app.kubernetes.io/name]'],
    [[0, 'a'], '[0].a'],
  ] as const)('%j -> %s', (path, text) => {
    expect(formatPath(path)).toBe(text);
  });
});

describe('the kind registry', () => {
  it.each([
    [Kinds.Service, true, true],
    [Kinds.EndpointSlice, true, true],
    [Kinds.Pod, true, true],
    [Kinds.Secret, true, true],
    [Kinds.Node, true, false],
    [Kinds.Namespace, true, false],
    [Kinds.GatewayClass, true, false],
    [Kinds.IngressClass, true, false],
    [Kinds.Gateway, true, true],
    [Kinds.HTTPRoute, true, true],
    [Kinds.GRPCRoute, true, true],
    [Kinds.ReferenceGrant, true, true],
    [Kinds.TCPRoute, true, true],
    [Kinds.UDPRoute, true, true],
    [Kinds.TLSRoute, true, true],
    [Kinds.Ingress, true, true],
    ['apps/Deployment', false, true],
    ['HTTPRoute', false, true], // the kind alone is not a KindKey for a grouped kind
  ])('%s: known %s, namespaced %s', (key, known, namespaced) => {
    expect(isKnownKind(key)).toBe(known);
    expect(isNamespaced(key)).toBe(namespaced);
  });

  it('has one row per kind, each schema accepting its own kind name only', () => {
    expect(new Set(KIND_TABLE.map((k) => k.key)).size).toBe(KIND_TABLE.length);
    for (const info of KIND_TABLE) {
      const result = info.schema.safeParse({
        apiVersion: info.versions[0],
        kind: 'Other',
        metadata: { name: 'x' },
      });
      expect(result.success, info.key).toBe(false);
    }
  });
});

describe('types and guards', () => {
  it('narrow a KubeObject by kind', () => {
    const objects: KubeObject[] = [
      parseObject({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'web' },
        spec: { ports: [{ port: 80 }] },
      }),
      parseObject({
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'HTTPRoute',
        metadata: { name: 'r' },
      }),
    ];
    const [service, route] = objects;
    if (service === undefined || route === undefined) throw new Error('missing');
    expect(isService(service)).toBe(true);
    expect(isHTTPRoute(service)).toBe(false);
    expect(isHTTPRoute(route)).toBe(true);
    if (isKind(service, Kinds.Service)) {
      expectTypeOf(service.spec.ports[0]?.targetPort).toEqualTypeOf<string | number | undefined>();
      expect(service.spec.ports[0]?.targetPort).toBe(80);
    }
  });

  it('are assignable to KubeObject and mapped by KindKey', () => {
    expectTypeOf<Service>().toExtend<KubeObject>();
    expectTypeOf<HTTPRoute>().toExtend<KubeObject>();
    expectTypeOf<Gateway>().toExtend<KubeObject>();
    expectTypeOf<ObjectOfKind<typeof Kinds.Gateway>>().toEqualTypeOf<Gateway>();
    expectTypeOf<ObjectOfKind<'apps/Deployment'>>().toEqualTypeOf<KubeObject>();
  });
});
