import { describe, expect, it } from 'vitest';
import { checkCase, type ModelCase } from '../test-table.ts';

const head = `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}]
`;

const cases: ModelCase[] = [
  {
    name: 'no rules: one rule matching PathPrefix "/"',
    yaml: head,
    accepted: {
      spec: {
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }],
        rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }],
      },
    },
  },
  {
    name: 'a rule with no matches gets one PathPrefix "/" match; backendRef defaults',
    yaml: `${head}
  rules:
  - backendRefs:
    - name: web
      port: 8080
`,
    accepted: {
      spec: {
        rules: [
          {
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [{ group: '', kind: 'Service', name: 'web', port: 8080, weight: 1 }],
          },
        ],
      },
    },
  },
  {
    name: 'an empty matches list is read as the default match',
    yaml: `${head}
  rules:
  - matches: []
`,
    accepted: { spec: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }] }] } },
  },
  {
    name: 'path type and value, header and query match types default',
    yaml: `${head}
  hostnames: [shop.example.com, "*.example.org"]
  rules:
  - matches:
    - path: {value: /api}
      headers: [{name: x-version, value: "2"}]
      queryParams: [{name: debug, value: "1"}, {type: RegularExpression, name: q, value: "^a.*"}]
      method: POST
    - headers: [{name: x-canary, value: "true"}]
`,
    accepted: {
      spec: {
        hostnames: ['shop.example.com', '*.example.org'],
        rules: [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: '/api' },
                headers: [{ type: 'Exact', name: 'x-version', value: '2' }],
                queryParams: [
                  { type: 'Exact', name: 'debug', value: '1' },
                  { type: 'RegularExpression', name: 'q', value: '^a.*' },
                ],
                method: 'POST',
              },
              {
                path: { type: 'PathPrefix', value: '/' },
                headers: [{ type: 'Exact', name: 'x-canary' }],
              },
            ],
          },
        ],
      },
    },
  },
  {
    name: 'weights, cross-namespace backend, backend filters',
    yaml: `${head}
  rules:
  - backendRefs:
    - {name: v1, port: 80, weight: 90}
    - name: v2
      namespace: canary
      port: 80
      weight: 10
      filters:
      - type: RequestHeaderModifier
        requestHeaderModifier:
          add: [{name: x-canary, value: "yes"}]
`,
    accepted: {
      spec: {
        rules: [
          {
            backendRefs: [
              { name: 'v1', weight: 90 },
              {
                name: 'v2',
                namespace: 'canary',
                weight: 10,
                filters: [
                  {
                    type: 'RequestHeaderModifier',
                    requestHeaderModifier: { add: [{ name: 'x-canary' }] },
                  },
                ],
              },
            ],
          },
        ],
      },
    },
  },
  {
    name: 'redirect: statusCode defaults to 302',
    yaml: `${head}
  rules:
  - filters:
    - type: RequestRedirect
      requestRedirect: {scheme: https}
`,
    accepted: {
      spec: {
        rules: [
          {
            filters: [
              { type: 'RequestRedirect', requestRedirect: { scheme: 'https', statusCode: 302 } },
            ],
          },
        ],
      },
    },
  },
  {
    name: 'URLRewrite with ReplacePrefixMatch under one PathPrefix match; mirror to a Service',
    yaml: `${head}
  rules:
  - matches: [{path: {type: PathPrefix, value: /old}}]
    filters:
    - type: URLRewrite
      urlRewrite:
        hostname: new.example.com
        path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}
    - type: RequestMirror
      requestMirror:
        backendRef: {name: shadow, port: 80}
        fraction: {numerator: 5}
    backendRefs: [{name: web, port: 80}]
`,
    accepted: {
      spec: {
        rules: [
          {
            filters: [
              {
                type: 'URLRewrite',
                urlRewrite: { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/new' } },
              },
              {
                type: 'RequestMirror',
                requestMirror: {
                  backendRef: { group: '', kind: 'Service', name: 'shadow', port: 80 },
                  fraction: { numerator: 5, denominator: 100 },
                },
              },
            ],
          },
        ],
      },
    },
  },
  {
    name: 'timeouts, retry, session persistence, extension filters',
    yaml: `${head}
  rules:
  - name: checkout
    timeouts: {request: 10s, backendRequest: 2s}
    retry: {codes: [502, 503], attempts: 2, backoff: 100ms}
    sessionPersistence: {sessionName: shop, absoluteTimeout: 1h, cookieConfig: {lifetimeType: Permanent}}
    filters:
    - type: ExtensionRef
      extensionRef: {group: pier.dev, kind: RateLimit, name: strict}
    - type: ResponseHeaderModifier
      responseHeaderModifier: {remove: [server]}
    backendRefs: [{name: web, port: 80}]
`,
    accepted: {
      spec: {
        rules: [
          {
            name: 'checkout',
            timeouts: { request: '10s', backendRequest: '2s' },
            retry: { codes: [502, 503], attempts: 2, backoff: '100ms' },
            sessionPersistence: { type: 'Cookie', cookieConfig: { lifetimeType: 'Permanent' } },
          },
        ],
      },
    },
  },
  {
    name: 'a backendRef to a non-Service kind needs no port',
    yaml: `${head}
  rules:
  - backendRefs: [{group: multicluster.x-k8s.io, kind: ServiceImport, name: web}]
`,
    accepted: { spec: { rules: [{ backendRefs: [{ kind: 'ServiceImport', weight: 1 }] }] } },
  },
  {
    name: 'parentRefs to one Gateway by section name',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1beta1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs:
  - {name: gw, sectionName: http}
  - {name: gw, sectionName: https}
  - {name: gw, namespace: infra, port: 8443}
`,
    accepted: {
      apiVersion: 'gateway.networking.k8s.io/v1beta1',
      spec: { parentRefs: [{ sectionName: 'http' }, {}, { port: 8443 }] },
    },
  },
  // rejected
  {
    name: 'a relative Exact path',
    yaml: `${head}
  rules:
  - matches: [{path: {type: Exact, value: api}}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].path.value',
      message: "must be an absolute path and start with '/' when type is Exact",
    },
  },
  {
    name: 'a PathPrefix with //',
    yaml: `${head}
  rules:
  - matches: [{path: {value: /a//b}}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].path.value',
      message: "must not contain '//' when type is PathPrefix",
    },
  },
  {
    name: 'a path with a space',
    yaml: `${head}
  rules:
  - matches: [{path: {value: /a b}}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].path.value',
      message:
        "must only contain valid path characters (RFC 3986 pchar or '/') when type is PathPrefix",
    },
  },
  {
    name: 'an unknown path match type',
    yaml: `${head}
  rules:
  - matches: [{path: {type: Prefix, value: /}}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].path.type',
      message: 'unsupported value "Prefix": must be one of Exact, PathPrefix, RegularExpression',
    },
  },
  {
    name: 'a lowercase method',
    yaml: `${head}
  rules:
  - matches: [{method: get}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].method',
      message:
        'unsupported value "get": must be one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH',
    },
  },
  {
    name: 'a header name with a colon',
    yaml: `${head}
  rules:
  - matches: [{headers: [{name: ":authority", value: x}]}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].headers[0].name',
      message: 'must be a valid HTTP header name (RFC 7230 token)',
    },
  },
  {
    name: 'a header matched twice',
    yaml: `${head}
  rules:
  - matches: [{headers: [{name: x, value: a}, {name: x, value: b}]}]
`,
    rejected: {
      path: 'spec.rules[0].matches[0].headers[1]',
      message: 'duplicate header match "x"',
    },
  },
  {
    name: 'a backendRef to a Service without a port',
    yaml: `${head}
  rules:
  - backendRefs: [{name: web}]
`,
    rejected: {
      path: 'spec.rules[0].backendRefs[0].port',
      message: 'Required value: a reference to a Service must have a port',
    },
  },
  {
    name: 'a negative weight',
    yaml: `${head}
  rules:
  - backendRefs: [{name: web, port: 80, weight: -1}]
`,
    rejected: {
      path: 'spec.rules[0].backendRefs[0].weight',
      message: 'must be an integer from 0 to 1000000',
    },
  },
  {
    name: 'a filter whose field does not match its type',
    yaml: `${head}
  rules:
  - filters:
    - type: RequestHeaderModifier
      responseHeaderModifier: {remove: [x]}
`,
    rejected: {
      path: 'spec.rules[0].filters[0].responseHeaderModifier',
      message:
        'filter.responseHeaderModifier must be nil if the filter.type is not ResponseHeaderModifier',
    },
  },
  {
    name: 'a filter type without its field',
    yaml: `${head}
  rules:
  - filters: [{type: URLRewrite}]
`,
    rejected: {
      path: 'spec.rules[0].filters[0].urlRewrite',
      message: 'Required value: filter.urlRewrite must be specified for URLRewrite filter.type',
    },
  },
  {
    name: 'RequestRedirect together with URLRewrite',
    yaml: `${head}
  rules:
  - filters:
    - {type: RequestRedirect, requestRedirect: {scheme: https}}
    - {type: URLRewrite, urlRewrite: {hostname: x.example.com}}
`,
    rejected: {
      path: 'spec.rules[0].filters',
      message:
        'May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both',
    },
  },
  {
    name: 'RequestHeaderModifier twice',
    yaml: `${head}
  rules:
  - filters:
    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [a]}}
    - {type: RequestHeaderModifier, requestHeaderModifier: {remove: [b]}}
`,
    rejected: {
      path: 'spec.rules[0].filters[1].type',
      message: 'RequestHeaderModifier filter cannot be repeated',
    },
  },
  {
    name: 'a redirect with backendRefs',
    yaml: `${head}
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}]
    backendRefs: [{name: web, port: 80}]
`,
    rejected: {
      path: 'spec.rules[0].filters',
      message: 'RequestRedirect filter must not be used together with backendRefs',
    },
  },
  {
    name: 'ReplacePrefixMatch without one PathPrefix match',
    yaml: `${head}
  rules:
  - matches: [{path: {type: Exact, value: /old}}]
    filters:
    - type: URLRewrite
      urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /new}}
`,
    rejected: {
      path: 'spec.rules[0].matches',
      message:
        'When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified',
    },
  },
  {
    name: 'a path modifier without its value',
    yaml: `${head}
  rules:
  - filters:
    - type: RequestRedirect
      requestRedirect: {path: {type: ReplaceFullPath}}
`,
    rejected: {
      path: 'spec.rules[0].filters[0].requestRedirect.path.replaceFullPath',
      message:
        "Required value: replaceFullPath must be specified when type is set to 'ReplaceFullPath'",
    },
  },
  {
    name: 'a redirect status code that is not a redirect',
    yaml: `${head}
  rules:
  - filters: [{type: RequestRedirect, requestRedirect: {statusCode: 200}}]
`,
    rejected: {
      path: 'spec.rules[0].filters[0].requestRedirect.statusCode',
      message: 'must be one of 301, 302, 303, 307, 308',
    },
  },
  {
    name: 'a mirror with both percent and fraction',
    yaml: `${head}
  rules:
  - filters:
    - type: RequestMirror
      requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}
`,
    rejected: {
      path: 'spec.rules[0].filters[0].requestMirror',
      message: 'Only one of percent or fraction may be specified in HTTPRequestMirrorFilter',
    },
  },
  {
    name: 'a timeout in an unsupported unit',
    yaml: `${head}
  rules:
  - timeouts: {request: 1d}
`,
    rejected: {
      path: 'spec.rules[0].timeouts.request',
      message:
        'must be a Gateway API duration: up to four <number><h|m|s|ms> parts, e.g. 1h2m3s500ms or 10s',
    },
  },
  {
    name: 'a backend timeout longer than the request timeout',
    yaml: `${head}
  rules:
  - timeouts: {request: 1s, backendRequest: 2s}
`,
    rejected: {
      path: 'spec.rules[0].timeouts.backendRequest',
      message: 'backendRequest timeout cannot be longer than request timeout',
    },
  },
  {
    name: 'a retry code outside 400-599',
    yaml: `${head}
  rules:
  - retry: {codes: [200]}
`,
    rejected: {
      path: 'spec.rules[0].retry.codes[0]',
      message: 'must be an integer from 400 to 599',
    },
  },
  {
    name: 'a Permanent cookie without absoluteTimeout',
    yaml: `${head}
  rules:
  - sessionPersistence: {cookieConfig: {lifetimeType: Permanent}}
`,
    rejected: {
      path: 'spec.rules[0].sessionPersistence.absoluteTimeout',
      message:
        'Required value: absoluteTimeout must be specified when cookie lifetimeType is Permanent',
    },
  },
  {
    name: 'an IP as a hostname',
    yaml: `${head}
  hostnames: ["10.0.0.1:80"]
`,
    rejected: {
      path: 'spec.hostnames[0]',
      message: 'must be a lowercase DNS name, optionally prefixed by "*.", e.g. *.example.com',
    },
  },
  {
    name: 'a wildcard that is not the first label',
    yaml: `${head}
  hostnames: ["shop.*.example.com"]
`,
    rejected: {
      path: 'spec.hostnames[0]',
      message: 'must be a lowercase DNS name, optionally prefixed by "*.", e.g. *.example.com',
    },
  },
  {
    name: 'two refs to one Gateway without section names',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web}
spec:
  parentRefs: [{name: gw}, {name: gw}]
`,
    rejected: {
      path: 'spec.parentRefs[1]',
      message:
        'sectionName or port must be unique when parentRefs includes 2 or more references to the same parent',
    },
  },
  {
    name: 'duplicate rule names',
    yaml: `${head}
  rules: [{name: a}, {name: a}]
`,
    rejected: { path: 'spec.rules[1].name', message: 'Rule name must be unique within the route' },
  },
  {
    name: 'more than 16 rules',
    yaml: `${head}
  rules: [${Array.from({ length: 17 }, () => '{}').join(', ')}]
`,
    rejected: { path: 'spec.rules', message: 'must have at most 16 items' },
  },
  {
    name: 'more than 128 matches in all',
    yaml: `${head}
  rules: [${Array.from({ length: 3 }, () => `{matches: [${Array.from({ length: 50 }, () => '{}').join(', ')}]}`).join(', ')}]
`,
    rejected: {
      path: 'spec.rules',
      message: 'the total number of matches across all rules must be at most 128 (found 150)',
    },
  },
  {
    name: 'HTTPRoute v1alpha1 is not served',
    yaml: `
apiVersion: gateway.networking.k8s.io/v1alpha1
kind: HTTPRoute
metadata: {name: web}
spec: {}
`,
    code: 'PIER_MODEL_UNKNOWN_KIND',
    rejected: {
      path: 'apiVersion',
      message:
        'HTTPRoute is not served as gateway.networking.k8s.io/v1alpha1; use gateway.networking.k8s.io/v1 or gateway.networking.k8s.io/v1beta1',
    },
  },
];

describe('HTTPRoute', () => {
  it.each(cases)('$name', (c) => {
    checkCase(c);
  });

  it('does not share default objects between routes', () => {
    const a = checkCase({ name: 'a', yaml: head, accepted: {} }) as unknown as {
      spec: { rules: { matches: { path: { value: string } }[] }[] };
    };
    const first = a.spec.rules[0]?.matches[0];
    if (first === undefined) throw new Error('no default match');
    first.path.value = '/mutated';
    const b = checkCase({ name: 'b', yaml: head, accepted: {} }) as unknown as typeof a;
    expect(b.spec.rules[0]?.matches[0]?.path.value).toBe('/');
  });
});
