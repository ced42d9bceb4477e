import { describe, expect, it } from 'vitest';
import { checkCase, type ModelCase, parseYaml } from '../test-table.ts';
import { validateObject } from '../validate.ts';
import { type Ingress, ingressClassOf } from './ingress.ts';
import { type IngressClass, isDefaultIngressClass } from './ingress-class.ts';

const cases: ModelCase[] = [
  {
    name: 'rules with hosts, paths of each type, TLS',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  ingressClassName: pier
  tls:
  - hosts: [shop.example.com]
    secretName: shop-tls
  rules:
  - host: shop.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend: {service: {name: web, port: {number: 80}}}
      - path: /healthz
        pathType: Exact
        backend: {service: {name: web, port: {name: http}}}
  - host: "*.shop.example.com"
    http:
      paths:
      - pathType: ImplementationSpecific
        backend: {resource: {apiGroup: k8s.example.com, kind: StorageBucket, name: static}}
`,
    accepted: {
      spec: {
        ingressClassName: 'pier',
        tls: [{ hosts: ['shop.example.com'], secretName: 'shop-tls' }],
        rules: [
          {
            host: 'shop.example.com',
            http: {
              paths: [
                {
                  path: '/',
                  pathType: 'Prefix',
                  backend: { service: { name: 'web', port: { number: 80 } } },
                },
                {
                  path: '/healthz',
                  pathType: 'Exact',
                  backend: { service: { port: { name: 'http' } } },
                },
              ],
            },
          },
          { host: '*.shop.example.com' },
        ],
      },
    },
  },
  {
    name: 'only a default backend',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: fallback}
spec:
  defaultBackend: {service: {name: web, port: {number: 8080}}}
`,
    accepted: { spec: { defaultBackend: { service: { name: 'web' } } } },
  },
  {
    name: 'a path without pathType',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  rules:
  - http:
      paths:
      - path: /
        backend: {service: {name: web, port: {number: 80}}}
`,
    rejected: { path: 'spec.rules[0].http.paths[0].pathType', message: 'Required value' },
  },
  {
    name: 'a relative Prefix path',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  rules:
  - http:
      paths:
      - {path: api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}
`,
    rejected: {
      path: 'spec.rules[0].http.paths[0].path',
      message: 'must be an absolute path for pathType Prefix',
    },
  },
  {
    name: 'an Exact path with /../',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /a/../b, pathType: Exact, backend: {service: {name: web, port: {number: 80}}}}
`,
    rejected: {
      path: 'spec.rules[0].http.paths[0].path',
      message: "must not contain '/../' for pathType Exact",
    },
  },
  {
    name: 'a port with both name and number',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  defaultBackend: {service: {name: web, port: {name: http, number: 80}}}
`,
    rejected: {
      path: 'spec.defaultBackend.service.port',
      message: 'exactly one of name or number must be specified',
    },
  },
  {
    name: 'a backend with both service and resource',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  defaultBackend:
    service: {name: web, port: {number: 80}}
    resource: {kind: Bucket, name: b}
`,
    rejected: {
      path: 'spec.defaultBackend',
      message: 'exactly one of service or resource must be specified',
    },
  },
  {
    name: 'neither rules nor default backend',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec: {ingressClassName: pier}
`,
    rejected: { path: 'spec', message: 'either `defaultBackend` or `rules` must be specified' },
  },
  {
    name: 'an IP as host',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  rules: [{host: "10.0.0.1:80"}]
`,
    rejected: {
      path: 'spec.rules[0].host',
      message: 'must be a DNS name, optionally with a leading "*." wildcard label; not an IP',
    },
  },
  {
    name: 'Ingress extensions/v1beta1 is not served',
    yaml: `
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old}
spec: {}
`,
    code: 'PIER_MODEL_UNKNOWN_KIND',
    rejected: {
      path: 'kind',
      message: 'unknown kind Ingress in extensions/v1beta1: Pier does not handle it',
    },
  },
  // IngressClass
  {
    name: 'IngressClass: parameters scope defaults to Cluster',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: pier
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec:
  controller: pier.dev/ingress-controller
  parameters: {apiGroup: pier.dev, kind: IngressParameters, name: defaults}
`,
    accepted: {
      spec: { controller: 'pier.dev/ingress-controller', parameters: { scope: 'Cluster' } },
    },
    absent: ['metadata.namespace'],
  },
  {
    name: 'IngressClass: Namespace scope without a namespace',
    yaml: `
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: pier}
spec:
  parameters: {kind: P, name: p, scope: Namespace}
`,
    rejected: {
      path: 'spec.parameters.namespace',
      message: 'Required value: when scope is Namespace',
    },
  },
];

function valid<T>(yaml: string): T {
  const result = validateObject(parseYaml(yaml));
  if (!result.ok) throw result.error;
  return result.object as T;
}

describe('Ingress and IngressClass', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });

  it('reads the class from ingressClassName, else the legacy annotation', () => {
    const byField = valid<Ingress>(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: a, annotations: {kubernetes.io/ingress.class: other}}
spec: {ingressClassName: pier, defaultBackend: {service: {name: web, port: {number: 80}}}}
`);
    const byAnnotation = valid<Ingress>(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: b, annotations: {kubernetes.io/ingress.class: legacy}}
spec: {defaultBackend: {service: {name: web, port: {number: 80}}}}
`);
    expect(ingressClassOf(byField)).toBe('pier');
    expect(ingressClassOf(byAnnotation)).toBe('legacy');
    const cls = valid<IngressClass>(`
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: pier, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: pier.dev/ingress}
`);
    expect(isDefaultIngressClass(cls)).toBe(true);
  });
});
