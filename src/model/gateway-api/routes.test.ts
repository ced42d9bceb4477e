import { describe, it } from 'vitest';
import { checkCase, type ModelCase } from '../test-table.ts';

const GW = 'gateway.networking.k8s.io';

const cases: ModelCase[] = [
  // GRPCRoute
  {
    name: 'GRPCRoute: method and header match types default to Exact',
    yaml: `
apiVersion: ${GW}/v1
kind: GRPCRoute
metadata: {name: greeter}
spec:
  parentRefs: [{name: gw}]
  hostnames: [grpc.example.com]
  rules:
  - matches:
    - method: {service: helloworld.Greeter, method: SayHello}
      headers: [{name: x-env, value: canary}]
    backendRefs: [{name: greeter, port: 50051}]
  - matches:
    - method: {type: RegularExpression, service: "helloworld\\\\..*"}
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {set: [{name: x-route, value: regex}]}
    backendRefs: [{name: greeter-v2, port: 50051, weight: 3}]
`,
    accepted: {
      spec: {
        rules: [
          {
            matches: [
              {
                method: { type: 'Exact', service: 'helloworld.Greeter', method: 'SayHello' },
                headers: [{ type: 'Exact', name: 'x-env', value: 'canary' }],
              },
            ],
            backendRefs: [{ group: '', kind: 'Service', name: 'greeter', port: 50051, weight: 1 }],
          },
          { matches: [{ method: { type: 'RegularExpression' } }], backendRefs: [{ weight: 3 }] },
        ],
      },
    },
  },
  {
    name: 'GRPCRoute: a rule without matches stays without matches',
    yaml: `
apiVersion: ${GW}/v1
kind: GRPCRoute
metadata: {name: all}
spec:
  rules: [{backendRefs: [{name: grpc, port: 50051}]}]
`,
    accepted: { spec: { rules: [{ backendRefs: [{ name: 'grpc' }] }] } },
    absent: ['spec.rules.0.matches'],
  },
  {
    name: 'GRPCRoute: a method match with neither service nor method',
    yaml: `
apiVersion: ${GW}/v1
kind: GRPCRoute
metadata: {name: g}
spec:
  rules: [{matches: [{method: {type: Exact}}]}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].method',
      message: 'One or both of service or method must be specified',
    },
  },
  {
    name: 'GRPCRoute: an Exact service with a slash',
    yaml: `
apiVersion: ${GW}/v1
kind: GRPCRoute
metadata: {name: g}
spec:
  rules: [{matches: [{method: {service: helloworld/Greeter}}]}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].method.service',
      message: 'must be a valid fully qualified gRPC service name, e.g. foo.bar.Greeter',
    },
  },
  {
    name: 'GRPCRoute: URLRewrite is not a gRPC filter',
    yaml: `
apiVersion: ${GW}/v1
kind: GRPCRoute
metadata: {name: g}
spec:
  rules: [{filters: [{type: URLRewrite, urlRewrite: {hostname: x.example.com}}]}]
`,
    rejected: {
      path: 'spec.rules[0].filters[0].type',
      message:
        'unsupported value "URLRewrite": must be one of ResponseHeaderModifier, RequestHeaderModifier, RequestMirror, ExtensionRef',
    },
  },
  // ReferenceGrant
  {
    name: 'ReferenceGrant v1beta1',
    yaml: `
apiVersion: ${GW}/v1beta1
kind: ReferenceGrant
metadata: {name: allow-routes, namespace: backends}
spec:
  from:
  - {group: ${GW}, kind: HTTPRoute, namespace: frontends}
  to:
  - {group: "", kind: Service}
  - {group: "", kind: Secret, name: shared-cert}
`,
    accepted: {
      metadata: { namespace: 'backends' },
      spec: {
        from: [{ kind: 'HTTPRoute', namespace: 'frontends' }],
        to: [{ group: '', kind: 'Service' }, { name: 'shared-cert' }],
      },
    },
  },
  {
    name: 'ReferenceGrant v1alpha2 is served too',
    yaml: `
apiVersion: ${GW}/v1alpha2
kind: ReferenceGrant
metadata: {name: g}
spec:
  from: [{group: ${GW}, kind: Gateway, namespace: infra}]
  to: [{group: "", kind: Secret}]
`,
    accepted: { apiVersion: `${GW}/v1alpha2` },
  },
  {
    name: 'ReferenceGrant: from without a namespace',
    yaml: `
apiVersion: ${GW}/v1beta1
kind: ReferenceGrant
metadata: {name: g}
spec:
  from: [{group: ${GW}, kind: HTTPRoute}]
  to: [{group: "", kind: Service}]
`,
    rejected: { path: 'spec.from[0].namespace', message: 'Required value' },
  },
  {
    name: 'ReferenceGrant: an empty to',
    yaml: `
apiVersion: ${GW}/v1beta1
kind: ReferenceGrant
metadata: {name: g}
spec:
  from: [{group: ${GW}, kind: HTTPRoute, namespace: a}]
  to: []
`,
    rejected: { path: 'spec.to', message: 'must have at least 1 item' },
  },
  // TCPRoute, UDPRoute, TLSRoute
  {
    name: 'TCPRoute v1alpha2 with weighted backends',
    yaml: `
apiVersion: ${GW}/v1alpha2
kind: TCPRoute
metadata: {name: db}
spec:
  parentRefs: [{name: gw, sectionName: tcp}]
  rules:
  - backendRefs: [{name: db-primary, port: 5432, weight: 9}, {name: db-replica, port: 5432}]
`,
    accepted: {
      spec: { rules: [{ backendRefs: [{ weight: 9 }, { weight: 1, kind: 'Service' }] }] },
    },
  },
  {
    name: 'UDPRoute to a DNS Service',
    yaml: `
apiVersion: ${GW}/v1alpha2
kind: UDPRoute
metadata: {name: dns}
spec:
  parentRefs: [{name: gw, sectionName: udp}]
  rules: [{backendRefs: [{name: coredns, port: 53}]}]
`,
    accepted: { spec: { rules: [{ backendRefs: [{ name: 'coredns', port: 53 }] }] } },
  },
  {
    name: 'TLSRoute v1alpha3 with SNI hostnames',
    yaml: `
apiVersion: ${GW}/v1alpha3
kind: TLSRoute
metadata: {name: tls}
spec:
  parentRefs: [{name: gw, sectionName: tls}]
  hostnames: ["*.example.com"]
  rules: [{backendRefs: [{name: tls-backend, port: 443}]}]
`,
    accepted: { spec: { hostnames: ['*.example.com'] } },
  },
  {
    name: 'TCPRoute without rules',
    yaml: `
apiVersion: ${GW}/v1alpha2
kind: TCPRoute
metadata: {name: db}
spec: {parentRefs: [{name: gw}]}
`,
    rejected: { path: 'spec.rules', message: 'Required value' },
  },
  {
    name: 'TCPRoute rule without backendRefs',
    yaml: `
apiVersion: ${GW}/v1alpha2
kind: TCPRoute
metadata: {name: db}
spec: {rules: [{backendRefs: []}]}
`,
    rejected: { path: 'spec.rules[0].backendRefs', message: 'must have at least 1 item' },
  },
  {
    name: 'UDPRoute v1beta1 does not exist',
    yaml: `
apiVersion: ${GW}/v1beta1
kind: UDPRoute
metadata: {name: dns}
spec: {rules: [{backendRefs: [{name: coredns, port: 53}]}]}
`,
    code: 'PIER_MODEL_UNKNOWN_KIND',
    rejected: {
      path: 'apiVersion',
      message: `UDPRoute is not served as ${GW}/v1beta1; use ${GW}/v1alpha2 or ${GW}/v1`,
    },
  },
];

describe('GRPCRoute, ReferenceGrant, TCPRoute, UDPRoute, TLSRoute', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });
});
