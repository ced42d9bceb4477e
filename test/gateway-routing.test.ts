// Routing end to end, as a table in the Gateway API conformance suite's
// notation (manifests -> request -> expected backend, expectedRequest,
// response, redirectRequest), through a live gateway to real backends: each
// Service gets an echo backend that reports what it received, so the
// expectations are checked on the wire, not on the router's data.

import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type Backend,
  curl,
  curlMissing,
  describeWithTools,
  type Echo,
  endpointSliceYaml,
  freePort,
  type LiveGateway,
  LOOPBACK,
  startEchoBackend,
  startGateway,
} from './gateway-harness.ts';

interface Case {
  name: string;
  request: { host: string; path: string; method?: string; headers?: Record<string, string> };
  /** `namespace/service` that answers; absent for gateway answers. */
  backend?: string;
  /** One of these answers (weighted rules): every one must answer some of 40 requests. */
  backends?: string[];
  expectedRequest?: {
    path?: string;
    host?: string;
    headers?: Record<string, string>;
    absentHeaders?: string[];
  };
  response?: { statusCode: number; headers?: Record<string, string>; absentHeaders?: string[] };
  redirectRequest?: { scheme?: string; host?: string; port?: string; path?: string };
}

const SERVICES = [
  'infra/v1',
  'infra/v2',
  'infra/v3',
  'app/web',
  'app/mirror',
  'app/empty', // a Service whose EndpointSlice has no endpoint
];

const MANIFESTS = (port: number) => `
apiVersion: v1
kind: Namespace
metadata: { name: infra, labels: { shared: "true" } }
---
apiVersion: v1
kind: Namespace
metadata: { name: app, labels: { shared: "true" } }
---
apiVersion: v1
kind: Namespace
metadata: { name: other }
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: pier }
spec: { controllerName: pier.dev/gateway }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: infra }
spec:
  gatewayClassName: pier
  listeners:
    - name: http
      protocol: HTTP
      port: ${port}
      allowedRoutes: { namespaces: { from: Selector, selector: { matchLabels: { shared: "true" } } } }
    - name: only-infra
      protocol: HTTP
      port: ${port}
      hostname: "*.infra.example.com"
      allowedRoutes: { namespaces: { from: Same } }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: matching, namespace: infra }
spec:
  parentRefs: [{ name: gw, sectionName: http }]
  hostnames: [example.com]
  rules:
    - matches: [{ path: { type: PathPrefix, value: / } }]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /v2 } }]
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ path: { type: Exact, value: /exact } }]
      backendRefs: [{ name: v3, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /h }, headers: [{ name: version, value: two }] }]
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /h }, headers: [{ name: version, value: three }, { name: color, value: blue }] }]
      backendRefs: [{ name: v3, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /q }, queryParams: [{ name: animal, value: whale }] }]
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ path: { type: PathPrefix, value: /m }, method: POST }]
      backendRefs: [{ name: v3, port: 80 }]
    - matches: [{ path: { type: RegularExpression, value: "/re/[0-9]+" } }]
      backendRefs: [{ name: v3, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: filters, namespace: infra }
spec:
  parentRefs: [{ name: gw, sectionName: http }]
  hostnames: [filters.example.com]
  rules:
    - matches: [{ path: { value: /set } }]
      filters:
        - type: RequestHeaderModifier
          requestHeaderModifier:
            set: [{ name: X-Header-Set, value: set-overwrites-values }]
            add: [{ name: X-Header-Add, value: add-appends-values }]
            remove: [X-Header-Remove]
        - type: ResponseHeaderModifier
          responseHeaderModifier:
            set: [{ name: X-Resp-Set, value: "1" }]
            remove: [X-Backend]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ path: { value: /redirect/host } }]
      filters: [{ type: RequestRedirect, requestRedirect: { hostname: example.org } }]
    - matches: [{ path: { value: /redirect/https } }]
      filters: [{ type: RequestRedirect, requestRedirect: { scheme: https, statusCode: 301 } }]
    - matches: [{ path: { value: /redirect/prefix } }]
      filters:
        - type: RequestRedirect
          requestRedirect: { statusCode: 308, path: { type: ReplacePrefixMatch, replacePrefixMatch: /new } }
    - matches: [{ path: { value: /rewrite/prefix } }]
      filters:
        - type: URLRewrite
          urlRewrite: { hostname: rewritten.example, path: { type: ReplacePrefixMatch, replacePrefixMatch: /prefix } }
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ path: { value: /rewrite/full } }]
      filters: [{ type: URLRewrite, urlRewrite: { path: { type: ReplaceFullPath, replaceFullPath: /replacement } } }]
      backendRefs: [{ name: v2, port: 80 }]
    - matches: [{ path: { value: /mirror } }]
      filters: [{ type: RequestMirror, requestMirror: { backendRef: { name: mirror, namespace: app, port: 80 } } }]
      backendRefs: [{ name: v1, port: 80 }]
    - matches: [{ path: { value: /weighted } }]
      backendRefs: [{ name: v1, port: 80, weight: 50 }, { name: v2, port: 80, weight: 50 }, { name: v3, port: 80, weight: 0 }]
    - matches: [{ path: { value: /backend-headers } }]
      backendRefs:
        - name: v3
          port: 80
          filters: [{ type: RequestHeaderModifier, requestHeaderModifier: { set: [{ name: X-Backend-Filter, value: v3 }] } }]
    - matches: [{ path: { value: /missing } }]
      backendRefs: [{ name: does-not-exist, port: 80 }]
    - matches: [{ path: { value: /empty } }]
      backendRefs: [{ name: empty, namespace: app, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: { name: infra-to-web, namespace: app }
spec:
  from: [{ group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra }]
  to: [{ group: "", kind: Service, name: web }, { group: "", kind: Service, name: mirror }, { group: "", kind: Service, name: empty }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: cross, namespace: infra }
spec:
  parentRefs: [{ name: gw, sectionName: http }]
  hostnames: [cross.example.com]
  rules:
    - matches: [{ path: { value: /granted } }]
      backendRefs: [{ name: web, namespace: app, port: 80 }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: app }
spec:
  parentRefs: [{ name: gw, namespace: infra }]
  hostnames: [web.example.com, "*.infra.example.com"]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: outsider, namespace: other }
spec:
  parentRefs: [{ name: gw, namespace: infra }]
  hostnames: [outsider.example.com]
  rules: [{ backendRefs: [{ name: v1, namespace: infra, port: 80 }] }]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: infra-only, namespace: infra }
spec:
  parentRefs: [{ name: gw, sectionName: only-infra }]
  hostnames: ["*.infra.example.com"]
  rules: [{ backendRefs: [{ name: v3, port: 80 }] }]
`;

const CASES = `
- name: the catch-all prefix
  request: { host: example.com, path: /anything }
  backend: infra/v1
- name: the longest prefix wins
  request: { host: example.com, path: /v2/foo }
  backend: infra/v2
  expectedRequest: { path: /v2/foo, host: example.com }
- name: prefixes match whole path elements
  request: { host: example.com, path: /v2foo }
  backend: infra/v1
- name: Exact beats every prefix
  request: { host: example.com, path: /exact }
  backend: infra/v3
- name: Exact does not match a longer path
  request: { host: example.com, path: /exact/more }
  backend: infra/v1
- name: a header match
  request: { host: example.com, path: /h, headers: { version: two } }
  backend: infra/v2
- name: more header matches rank first
  request: { host: example.com, path: /h, headers: { version: three, color: blue } }
  backend: infra/v3
- name: headers that match no rule fall through
  request: { host: example.com, path: /h, headers: { version: three } }
  backend: infra/v1
- name: a query parameter match
  request: { host: example.com, path: "/q?animal=whale" }
  backend: infra/v2
  expectedRequest: { path: "/q?animal=whale" }
- name: a method match
  request: { host: example.com, path: /m, method: POST }
  backend: infra/v3
- name: another method falls through
  request: { host: example.com, path: /m }
  backend: infra/v1
- name: a regular expression path ranks after every prefix (Pier's choice, gateway/README.md), so the catch-all wins
  request: { host: example.com, path: /re/42 }
  backend: infra/v1
- name: Host with a port matches its hostname
  request: { host: "example.com:1234", path: /v2 }
  backend: infra/v2
- name: a host no route names
  request: { host: unknown.example.com, path: / }
  response: { statusCode: 404 }
- name: request headers set, added, removed
  request: { host: filters.example.com, path: /set, headers: { X-Header-Set: old, X-Header-Add: old, X-Header-Remove: gone } }
  backend: infra/v1
  expectedRequest:
    headers: { x-header-set: set-overwrites-values, x-header-add: "old,add-appends-values" }
    absentHeaders: [x-header-remove]
  response: { statusCode: 200, headers: { x-resp-set: "1" }, absentHeaders: [x-backend] }
- name: a redirect to another host
  request: { host: filters.example.com, path: "/redirect/host?x=1" }
  response: { statusCode: 302 }
  redirectRequest: { host: example.org, path: "/redirect/host?x=1" }
- name: a redirect to https
  request: { host: filters.example.com, path: /redirect/https }
  response: { statusCode: 301 }
  redirectRequest: { scheme: https, host: filters.example.com, path: /redirect/https }
- name: a redirect replacing the prefix
  request: { host: filters.example.com, path: /redirect/prefix/rest }
  response: { statusCode: 308 }
  redirectRequest: { path: /new/rest }
- name: a rewrite of host and path prefix
  request: { host: filters.example.com, path: "/rewrite/prefix/one?two=2" }
  backend: infra/v2
  expectedRequest: { host: rewritten.example, path: "/prefix/one?two=2" }
- name: a rewrite of the full path
  request: { host: filters.example.com, path: /rewrite/full/anything }
  backend: infra/v2
  expectedRequest: { path: /replacement }
- name: a mirrored request reaches the backend and the mirror
  request: { host: filters.example.com, path: /mirror }
  backend: infra/v1
- name: weighted backends share the requests; weight 0 gets none
  request: { host: filters.example.com, path: /weighted }
  backends: [infra/v1, infra/v2]
- name: backend-level header filters
  request: { host: filters.example.com, path: /backend-headers }
  backend: infra/v3
  expectedRequest: { headers: { x-backend-filter: v3 } }
- name: a backendRef to a missing Service
  request: { host: filters.example.com, path: /missing }
  response: { statusCode: 500 }
- name: a Service without a ready endpoint
  request: { host: filters.example.com, path: /empty }
  response: { statusCode: 503 }
- name: a cross-namespace backend permitted by a ReferenceGrant
  request: { host: cross.example.com, path: /granted }
  backend: app/web
- name: a route from another namespace the Selector admits
  request: { host: web.example.com, path: / }
  backend: app/web
- name: a route from a namespace the listener does not admit
  request: { host: outsider.example.com, path: / }
  response: { statusCode: 404 }
- name: listener isolation - the wildcard listener serves only its own routes
  request: { host: a.infra.example.com, path: / }
  backend: infra/v3
`;

const backends = new Map<string, Backend>();
let live: LiveGateway;
let port: number;

beforeAll(async () => {
  if (curlMissing !== undefined) return;
  port = await freePort();
  const services: string[] = [];
  for (const key of SERVICES) {
    const [ns, name] = key.split('/') as [string, string];
    services.push(`apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns} }
spec: { ports: [{ name: http, port: 80, targetPort: http }] }`);
    if (name === 'empty') {
      services.push(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: empty-0, namespace: app, labels: { kubernetes.io/service-name: empty } }
addressType: IPv4
endpoints: []
ports: [{ name: http, port: 1, protocol: TCP }]`);
      continue;
    }
    const backend = await startEchoBackend(key);
    backends.set(key, backend);
    services.push(endpointSliceYaml(ns, name, [backend.port]));
  }
  live = await startGateway([MANIFESTS(port), ...services].join('\n---\n'));
});

afterAll(async () => {
  await live?.close(200);
  await Promise.all([...backends.values()].map((b) => b.close()));
});

const cases = parse(CASES) as Case[];

describeWithTools('routing cases through a live gateway', [curlMissing], () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { request } = c;
    const args = ['-i', '-X', request.method ?? 'GET', '-H', `Host: ${request.host}`];
    for (const [name, value] of Object.entries(request.headers ?? {}))
      args.push('-H', `${name}: ${value}`);
    const url = `http://${LOOPBACK}:${port}${request.path}`;
    const send = async () => {
      const r = await curl([...args, url]);
      const split = r.body.indexOf('\r\n\r\n');
      const head = r.body.slice(0, split).split('\r\n');
      const headers = new Map(
        head.slice(1).map((line) => {
          const colon = line.indexOf(':');
          return [line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim()] as const;
        }),
      );
      return { status: r.status, headers, body: r.body.slice(split + 4) };
    };

    if (c.backends !== undefined) {
      const seen = new Set<string>();
      for (let i = 0; i < 40; i++) seen.add((JSON.parse((await send()).body) as Echo).server);
      expect([...seen].sort()).toEqual([...c.backends].sort());
      return;
    }

    const mirrorBefore = backends.get('app/mirror')!.requests;
    const r = await send();
    expect(r.status).toBe(c.response?.statusCode ?? 200);
    for (const [name, value] of Object.entries(c.response?.headers ?? {}))
      expect(r.headers.get(name)).toBe(value);
    for (const name of c.response?.absentHeaders ?? []) expect(r.headers.has(name)).toBe(false);

    if (c.redirectRequest !== undefined) {
      const location = new URL(r.headers.get('location') ?? '');
      const want = c.redirectRequest;
      expect(location.protocol).toBe(`${want.scheme ?? 'http'}:`);
      expect(location.hostname).toBe(want.host ?? request.host);
      expect(`${location.pathname}${location.search}`).toBe(want.path ?? request.path);
    }
    if (c.backend === undefined) return;
    const echo = JSON.parse(r.body) as Echo;
    expect(echo.server).toBe(c.backend);
    const expected = c.expectedRequest ?? {};
    expect(echo.path).toBe(expected.path ?? request.path);
    expect(echo.headers.host).toBe(expected.host ?? request.host);
    // A list-valued header may arrive as several lines, which the backend joins with ', '.
    const list = (v: unknown) => String(v).split(/\s*,\s*/);
    for (const [name, value] of Object.entries(expected.headers ?? {}))
      expect(list(echo.headers[name])).toEqual(list(value));
    for (const name of expected.absentHeaders ?? []) expect(echo.headers[name]).toBeUndefined();
    if (request.path === '/mirror') {
      const mirror = backends.get('app/mirror')!;
      for (let i = 0; i < 100 && mirror.requests === mirrorBefore; i++)
        await new Promise((res) => setTimeout(res, 10));
      expect(mirror.requests).toBe(mirrorBefore + 1);
    }
  });
});
