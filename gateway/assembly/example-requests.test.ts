import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadManifestText } from '../../src/sources/manifests/load.ts';
import { translate } from '../translate/translate.ts';
import { exampleRequests } from './example-requests.ts';

const examples = ['echo.yaml', 'gateway.yaml', 'routes.yaml'].flatMap(
  (file) =>
    loadManifestText(file, readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8'))
      .objects,
);

describe('example requests', () => {
  it('spell the quickstart: host routing, path routing, the weighted split', () => {
    const lines = exampleRequests(translate({ objects: examples }), '127.0.0.1').map(
      (e) => `${e.command}  # ${e.comment}`,
    );
    expect(lines).toEqual([
      "curl -H 'Host: a.example.com' http://127.0.0.1:8080/  # HTTPRoute demo/by-host -> demo/echo-a:80",
      "curl -H 'Host: b.example.com' http://127.0.0.1:8080/  # HTTPRoute demo/by-host-b -> demo/echo-b:80",
      'curl http://127.0.0.1:8080/a  # HTTPRoute demo/by-path -> demo/echo-a:80',
      'curl http://127.0.0.1:8080/b  # HTTPRoute demo/by-path -> demo/echo-b:80',
      'curl http://127.0.0.1:8080/split  # HTTPRoute demo/by-path -> demo/echo-a:80 80%, demo/echo-b:80 20%',
    ]);
  });

  it('leave out rules one plain curl cannot reach, and bracket IPv6 addresses', () => {
    const objects = loadManifestText(
      'x.yaml',
      `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: pier }
spec: { controllerName: pier.dev/gateway }
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: gw, namespace: default }
spec: { gatewayClassName: pier, listeners: [{ name: http, protocol: HTTP, port: 8080 }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: r, namespace: default }
spec:
  parentRefs: [{ name: gw }]
  hostnames: ["*.example.com"]
  rules:
    - matches: [{ path: { type: RegularExpression, value: "/x.*" } }]
      backendRefs: [{ name: svc, port: 80 }]
    - matches: [{ path: { value: /h }, headers: [{ name: a, value: b }] }]
      backendRefs: [{ name: svc, port: 80 }]
    - matches: [{ path: { value: /p }, method: POST }]
      backendRefs: [{ name: svc, port: 80 }]
    - matches: [{ path: { value: /ok } }]
      backendRefs: [{ name: svc, port: 80 }]`,
    ).objects;
    const lines = exampleRequests(translate({ objects }), '::1');
    expect(lines.map((l) => l.command)).toEqual([
      "curl -H 'Host: www.example.com' 'http://[::1]:8080/ok'",
    ]);
    expect(lines[0]!.comment).toBe('HTTPRoute default/r -> 500 (BackendNotFound)');
  });
});
