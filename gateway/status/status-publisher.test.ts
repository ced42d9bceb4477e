// The gateway's status publisher over a Store's objects (manifests in the
// Gateway API's own YAML): which objects get a patch, what it says, and
// that applying the patches makes the next plan empty (no write loop).

import { describe, expect, it } from 'vitest';
import { describeRef, type KindKey, Kinds, kindKeyOf, refOf } from '../../src/model/object.ts';
import type { KubeObject } from '../../src/model.ts';
import type { StatusPatch, StatusView } from '../../src/sources/kubernetes/status-publisher.ts';
import { loadManifestText } from '../../src/sources/manifests/load.ts';
import { createGatewayStatusPublisher } from './status-publisher.ts';

const NOW = new Date('2026-11-30T04:00:00Z');
const LATER = new Date('2026-11-30T05:00:00Z');

const CLUSTER = `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: pier, generation: 1 }
spec: { controllerName: pier.dev/gateway }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: theirs, generation: 1 }
spec: { controllerName: example.com/other }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: shop, generation: 2 }
spec:
  gatewayClassName: pier
  listeners: [{ name: http, port: 80, protocol: HTTP }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: other-edge, namespace: shop, generation: 1 }
spec:
  gatewayClassName: theirs
  listeners: [{ name: http, port: 80, protocol: HTTP }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { ports: [{ port: 80 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: shop, generation: 4 }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: broken, namespace: shop, generation: 1 }
spec:
  parentRefs: [{ name: edge }]
  hostnames: [broken.example]
  rules: [{ backendRefs: [{ name: nowhere, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: foreign, namespace: shop, generation: 1 }
spec:
  parentRefs: [{ name: other-edge }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
status:
  parents:
    - parentRef: { name: other-edge }
      controllerName: example.com/other
      conditions: [{ type: Accepted, status: "True", reason: Accepted, message: ok, lastTransitionTime: "2026-01-01T00:00:00Z" }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: moved, namespace: shop, generation: 2 }
spec:
  parentRefs: [{ name: other-edge }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
status:
  parents:
    - parentRef: { name: edge }
      controllerName: pier.dev/gateway
      conditions: [{ type: Accepted, status: "True", reason: Accepted, message: ok, lastTransitionTime: "2026-01-01T00:00:00Z" }]
    - parentRef: { name: other-edge }
      controllerName: example.com/other
      conditions: [{ type: Accepted, status: "True", reason: Accepted, message: ok, lastTransitionTime: "2026-01-01T00:00:00Z" }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: web-tls, namespace: shop, generation: 3 }
spec:
  targetRefs: [{ group: "", kind: Service, name: web }]
  validation: { wellKnownCACertificates: System, hostname: web.shop.svc }
---
apiVersion: v1
kind: Service
metadata: { name: unrouted, namespace: shop }
spec: { ports: [{ port: 443 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: idle-tls, namespace: shop, generation: 1 }
spec:
  targetRefs: [{ group: "", kind: Service, name: unrouted }]
  validation: { wellKnownCACertificates: System, hostname: unrouted.shop.svc }
`;

function load(text: string): KubeObject[] {
  const loaded = loadManifestText('cluster.yaml', text);
  expect(loaded.problems).toEqual([]);
  return loaded.objects;
}

function viewOf(objects: readonly KubeObject[]): StatusView {
  return {
    list: <T extends KubeObject>(kind: KindKey) =>
      objects.filter((o) => kindKeyOf(o) === kind) as T[],
  };
}

/** What the API server does with our patches: status keys replaced (lists are replaced whole). */
function apply(objects: readonly KubeObject[], patches: readonly StatusPatch[]): KubeObject[] {
  return objects.map((o) => {
    const patch = patches.find((p) => describeRef(p.ref) === describeRef(refOf(o)));
    if (patch === undefined) return o;
    const status = (o as { status?: Record<string, unknown> }).status ?? {};
    return { ...o, status: { ...status, ...patch.patch.status } } as KubeObject;
  });
}

const publisher = createGatewayStatusPublisher({ controllerName: 'pier.dev/gateway' });

describe('gateway status publisher', () => {
  const objects = load(CLUSTER);
  const patches = publisher.plan(viewOf(objects), NOW);
  const byName = new Map(patches.map((p) => [describeRef(p.ref), p.patch.status]));

  it('patches our class, our Gateway, the routes that reference it or carry our entries, and the policies on Services it routes to', () => {
    expect([...byName.keys()].sort()).toEqual([
      'gateway.networking.k8s.io/BackendTLSPolicy shop/web-tls',
      'gateway.networking.k8s.io/Gateway shop/edge',
      'gateway.networking.k8s.io/GatewayClass pier',
      'gateway.networking.k8s.io/HTTPRoute shop/broken',
      'gateway.networking.k8s.io/HTTPRoute shop/moved',
      'gateway.networking.k8s.io/HTTPRoute shop/web',
    ]);
  });

  it('writes the spec vocabulary: Accepted/Programmed, listeners with attachedRoutes, route parents', () => {
    expect(byName.get('gateway.networking.k8s.io/GatewayClass pier')).toEqual({
      conditions: [
        expect.objectContaining({
          type: 'Accepted',
          status: 'True',
          observedGeneration: 1,
          lastTransitionTime: '2026-11-30T04:00:00Z',
        }),
      ],
    });
    const gateway = byName.get('gateway.networking.k8s.io/Gateway shop/edge') as {
      conditions: { type: string; status: string; observedGeneration: number }[];
      listeners: { name: string; attachedRoutes: number; supportedKinds: unknown[] }[];
    };
    expect(gateway.conditions.map((c) => `${c.type}=${c.status}@${c.observedGeneration}`)).toEqual([
      'Accepted=True@2',
      'Programmed=True@2',
    ]);
    expect(gateway).not.toHaveProperty('addresses');
    expect(gateway.listeners).toEqual([
      expect.objectContaining({
        name: 'http',
        attachedRoutes: 2,
        supportedKinds: expect.arrayContaining([
          { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
        ]),
      }),
    ]);
    expect(byName.get('gateway.networking.k8s.io/HTTPRoute shop/web')).toEqual({
      parents: [
        {
          // As validateObject (and the CRD) default it in the spec.
          parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' },
          controllerName: 'pier.dev/gateway',
          conditions: [
            expect.objectContaining({ type: 'Accepted', status: 'True', observedGeneration: 4 }),
            expect.objectContaining({
              type: 'ResolvedRefs',
              status: 'True',
              observedGeneration: 4,
            }),
          ],
        },
      ],
    });
  });

  it('a BackendTLSPolicy gets our Gateway as its ancestor, with its conditions', () => {
    expect(byName.get('gateway.networking.k8s.io/BackendTLSPolicy shop/web-tls')).toEqual({
      ancestors: [
        {
          ancestorRef: {
            group: 'gateway.networking.k8s.io',
            kind: 'Gateway',
            namespace: 'shop',
            name: 'edge',
          },
          controllerName: 'pier.dev/gateway',
          conditions: [
            expect.objectContaining({ type: 'Accepted', status: 'True', observedGeneration: 3 }),
            expect.objectContaining({
              type: 'ResolvedRefs',
              status: 'True',
              observedGeneration: 3,
            }),
          ],
        },
      ],
    });
  });

  it('an unresolvable backendRef: ResolvedRefs False, BackendNotFound', () => {
    const broken = byName.get('gateway.networking.k8s.io/HTTPRoute shop/broken') as {
      parents: { conditions: { type: string; status: string; reason: string }[] }[];
    };
    expect(broken.parents[0]!.conditions).toContainEqual(
      expect.objectContaining({ type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }),
    );
  });

  it('a route that moved to another controller loses our entry and keeps theirs', () => {
    expect(byName.get('gateway.networking.k8s.io/HTTPRoute shop/moved')).toEqual({
      parents: [
        {
          parentRef: { name: 'other-edge' },
          controllerName: 'example.com/other',
          conditions: [
            {
              type: 'Accepted',
              status: 'True',
              reason: 'Accepted',
              message: 'ok',
              lastTransitionTime: '2026-01-01T00:00:00Z',
            },
          ],
        },
      ],
    });
  });

  it('once applied, the next plan is empty, an hour later too', () => {
    const after = apply(objects, patches);
    expect(publisher.plan(viewOf(after), LATER)).toEqual([]);
  });
});

describe('Ingress status.loadBalancer', () => {
  const INGRESSES = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { ports: [{ port: 80 }] }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ours, namespace: shop }
spec:
  ingressClassName: pier
  rules: [{ http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: theirs, namespace: shop }
spec:
  ingressClassName: nginx
  rules: [{ http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] } }]
`;
  const objects = load(INGRESSES);
  const ingressPatches = (address: string | undefined, view = objects) =>
    createGatewayStatusPublisher({
      controllerName: 'pier.dev/gateway',
      ...(address === undefined ? {} : { ingressStatusAddress: address }),
    })
      .plan(viewOf(view), NOW)
      .filter((p) => p.ref.kind === Kinds.Ingress);

  it('publishes the configured address on the Ingresses of our class only', () => {
    expect(ingressPatches('192.0.2.10')).toEqual([
      {
        ref: { kind: Kinds.Ingress, namespace: 'shop', name: 'ours' },
        patch: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } } },
      },
    ]);
  });

  it('writes nothing without an address, and nothing more once it is published', () => {
    expect(ingressPatches(undefined)).toEqual([]);
    expect(ingressPatches('')).toEqual([]);
    const after = apply(objects, ingressPatches('192.0.2.10'));
    expect(ingressPatches('192.0.2.10', after)).toEqual([]);
  });
});
