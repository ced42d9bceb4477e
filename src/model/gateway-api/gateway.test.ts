import { describe, it } from 'vitest';
import { checkCase, type ModelCase } from '../test-table.ts';

const gw = (listeners: string) => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge, namespace: infra}
spec:
  gatewayClassName: pier
  listeners:
${listeners}`;

const cases: ModelCase[] = [
  {
    name: 'allowedRoutes defaults to namespaces from Same',
    yaml: gw('  - {name: http, port: 80, protocol: HTTP}'),
    accepted: {
      metadata: { namespace: 'infra' },
      spec: {
        gatewayClassName: 'pier',
        listeners: [
          {
            name: 'http',
            port: 80,
            protocol: 'HTTP',
            allowedRoutes: { namespaces: { from: 'Same' } },
          },
        ],
      },
    },
  },
  {
    name: 'HTTPS: tls mode Terminate and certificateRef group/kind defaulted',
    yaml: gw(`  - name: https
    hostname: "*.example.com"
    port: 443
    protocol: HTTPS
    tls:
      certificateRefs: [{name: wildcard-cert}]
    allowedRoutes:
      namespaces: {from: All}
      kinds: [{kind: HTTPRoute}]`),
    accepted: {
      spec: {
        listeners: [
          {
            hostname: '*.example.com',
            tls: {
              mode: 'Terminate',
              certificateRefs: [{ group: '', kind: 'Secret', name: 'wildcard-cert' }],
            },
            allowedRoutes: {
              namespaces: { from: 'All' },
              kinds: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' }],
            },
          },
        ],
      },
    },
  },
  {
    name: 'TLS passthrough, TCP and UDP listeners; a namespace selector; addresses',
    yaml: `${gw(`  - {name: tls, port: 8443, protocol: TLS, tls: {mode: Passthrough}}
  - {name: tcp, port: 5432, protocol: TCP}
  - {name: udp, port: 53, protocol: UDP}
  - name: selected
    port: 8080
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Selector
        selector:
          matchLabels: {shared-gateway-access: "true"}
          matchExpressions: [{key: env, operator: In, values: [prod]}]`)}
  addresses:
  - {value: 203.0.113.10}
  - {type: Hostname, value: edge.example.com}
  infrastructure:
    labels: {team: net}
`,
    accepted: {
      spec: {
        listeners: [
          { tls: { mode: 'Passthrough' } },
          { protocol: 'TCP' },
          { protocol: 'UDP' },
          {
            allowedRoutes: {
              namespaces: {
                from: 'Selector',
                selector: { matchLabels: { 'shared-gateway-access': 'true' } },
              },
            },
          },
        ],
        addresses: [{ type: 'IPAddress', value: '203.0.113.10' }, { type: 'Hostname' }],
        infrastructure: { labels: { team: 'net' } },
      },
    },
  },
  {
    name: 'an implementation-specific protocol',
    yaml: gw('  - {name: quic, port: 443, protocol: pier.dev/QUIC}'),
    accepted: { spec: { listeners: [{ protocol: 'pier.dev/QUIC' }] } },
  },
  // rejected
  {
    name: 'no listeners',
    yaml: gw('    []'),
    rejected: { path: 'spec.listeners', message: 'must have at least 1 item' },
  },
  {
    name: 'no gatewayClassName',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: edge}
spec:
  listeners: [{name: http, port: 80, protocol: HTTP}]
`,
    rejected: { path: 'spec.gatewayClassName', message: 'Required value' },
  },
  {
    name: 'a protocol with a space',
    yaml: gw('  - {name: x, port: 80, protocol: "HTTP 2"}'),
    rejected: {
      path: 'spec.listeners[0].protocol',
      message:
        'must be HTTP, HTTPS, TLS, TCP, UDP or a domain-prefixed protocol (example.com/proto)',
    },
  },
  {
    name: 'duplicate listener names',
    yaml: gw(`  - {name: web, port: 80, protocol: HTTP}
  - {name: web, port: 8080, protocol: HTTP}`),
    rejected: {
      path: 'spec.listeners[1].name',
      message: 'Listener name must be unique within the Gateway',
    },
  },
  {
    name: 'two listeners on one port, protocol and hostname',
    yaml: gw(`  - {name: a, port: 80, protocol: HTTP, hostname: a.example.com}
  - {name: b, port: 80, protocol: HTTP, hostname: a.example.com}`),
    rejected: {
      path: 'spec.listeners[1]',
      message: 'Combination of port, protocol and hostname must be unique for each listener',
    },
  },
  {
    name: 'tls on an HTTP listener',
    yaml: gw('  - {name: a, port: 80, protocol: HTTP, tls: {certificateRefs: [{name: c}]}}'),
    rejected: {
      path: 'spec.listeners[0].tls',
      message: 'tls must not be specified for protocol HTTP',
    },
  },
  {
    name: 'Passthrough on HTTPS',
    yaml: gw('  - {name: a, port: 443, protocol: HTTPS, tls: {mode: Passthrough}}'),
    rejected: {
      path: 'spec.listeners[0].tls.mode',
      message: 'tls mode must be Terminate for protocol HTTPS',
    },
  },
  {
    name: 'a TLS listener without a mode',
    yaml: gw('  - {name: a, port: 443, protocol: TLS, tls: {certificateRefs: [{name: c}]}}'),
    rejected: {
      path: 'spec.listeners[0].tls.mode',
      message: 'Required value: tls mode must be set for protocol TLS',
    },
  },
  {
    name: 'Terminate without certificates',
    yaml: gw('  - {name: a, port: 443, protocol: HTTPS, tls: {mode: Terminate}}'),
    rejected: {
      path: 'spec.listeners[0].tls.certificateRefs',
      message:
        'Required value: certificateRefs or options must be specified when mode is Terminate',
    },
  },
  {
    name: 'a hostname on a TCP listener',
    yaml: gw('  - {name: a, port: 5432, protocol: TCP, hostname: db.example.com}'),
    rejected: {
      path: 'spec.listeners[0].hostname',
      message: 'hostname must not be specified for protocol TCP',
    },
  },
  {
    name: 'from Selector without a selector',
    yaml: gw(
      '  - {name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector}}}',
    ),
    rejected: {
      path: 'spec.listeners[0].allowedRoutes.namespaces.selector',
      message: 'Required value: selector must be specified when from is Selector',
    },
  },
  {
    name: 'an unknown from',
    yaml: gw(
      '  - {name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Others}}}',
    ),
    rejected: {
      path: 'spec.listeners[0].allowedRoutes.namespaces.from',
      message: 'unsupported value "Others": must be one of All, Selector, Same',
    },
  },
  {
    name: 'an In expression without values',
    yaml: gw(
      '  - {name: a, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchExpressions: [{key: env, operator: In}]}}}}',
    ),
    rejected: {
      path: 'spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0].values',
      message: 'must be specified when operator is In',
    },
  },
  {
    name: 'an IPAddress address that is no IP',
    yaml: `${gw('  - {name: a, port: 80, protocol: HTTP}')}
  addresses: [{value: edge.example.com}]
`,
    rejected: { path: 'spec.addresses[0].value', message: 'value must be an IP address' },
  },
  {
    name: 'a listener port of 0',
    yaml: gw('  - {name: a, port: 0, protocol: HTTP}'),
    rejected: { path: 'spec.listeners[0].port', message: 'must be an integer from 1 to 65535' },
  },
  {
    name: 'an upper-case listener name',
    yaml: gw('  - {name: Web, port: 80, protocol: HTTP}'),
    rejected: {
      path: 'spec.listeners[0].name',
      message:
        "must be lowercase alphanumerics, '-' or '.', starting and ending with an alphanumeric",
    },
  },
  // GatewayClass
  {
    name: 'GatewayClass: cluster-scoped, controllerName as a domain path',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: pier}
spec:
  controllerName: pier.dev/gateway-controller
  description: Pier edge gateways
`,
    accepted: { spec: { controllerName: 'pier.dev/gateway-controller' } },
    absent: ['metadata.namespace'],
  },
  {
    name: 'GatewayClass: v1beta1 is served too',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: GatewayClass
metadata: {name: pier}
spec: {controllerName: pier.dev/gateway-controller}
`,
    accepted: { apiVersion: 'gateway.networking.k8s.io/v1beta1' },
  },
  {
    name: 'GatewayClass: a controllerName without a domain',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: pier}
spec: {controllerName: pier}
`,
    rejected: {
      path: 'spec.controllerName',
      message: 'must be a domain-prefixed path, e.g. pier.dev/gateway-controller',
    },
  },
];

describe('Gateway and GatewayClass', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });
});
