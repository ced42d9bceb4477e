// The CORS filter through a live gateway: a preflight is answered by the
// gateway (the backend never sees it), and an actual request's response
// carries the CORS headers, with the backend's own Vary kept.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backend,
  edgeGatewayYaml,
  freePort,
  httpRequest,
  type LiveGateway,
  serviceYaml,
  startEchoBackend,
  startGateway,
} from './gateway-harness.ts';

let backend: Backend;
let live: LiveGateway;
let port: number;

beforeAll(async () => {
  backend = await startEchoBackend('web');
  port = await freePort();
  live = await startGateway(`${edgeGatewayYaml('default', port)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  rules:
    - filters:
        - type: CORS
          cors:
            allowOrigins: ["https://app.example.com"]
            allowMethods: [GET, PUT]
            allowHeaders: [x-token]
            exposeHeaders: [x-backend]
            allowCredentials: true
            maxAge: 600
        - type: ResponseHeaderModifier
          responseHeaderModifier: { set: [{ name: vary, value: Accept-Encoding }] }
      backendRefs: [{ name: web, port: 80 }]
---
${serviceYaml('default', 'web', [backend.port])}`);
});

afterAll(async () => {
  await live?.close(200);
  await backend?.close();
});

const send = (method: string, headers: Record<string, string>) =>
  httpRequest(port, method, '/', headers);

describe('CORS through the gateway', () => {
  it('answers a preflight itself, with the allow headers', async () => {
    const before = backend.requests;
    const r = await send('OPTIONS', {
      origin: 'https://app.example.com',
      'access-control-request-method': 'PUT',
      'access-control-request-headers': 'x-token',
    });
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-methods': 'GET, PUT',
      'access-control-allow-headers': 'x-token',
      'access-control-allow-credentials': 'true',
      'access-control-max-age': '600',
      'content-length': '0',
    });
    expect(backend.requests, 'the backend never saw it').toBe(before);
  });

  it("adds the CORS headers to the backend's response; the route's own edits apply after them", async () => {
    const r = await send('GET', { origin: 'https://app.example.com' });
    expect(r.status).toBe(200);
    expect(r.headers).toMatchObject({
      'x-backend': 'web',
      'access-control-allow-origin': 'https://app.example.com',
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-backend',
      // The ResponseHeaderModifier sets Vary after the filter joined Origin into it.
      vary: 'Accept-Encoding',
    });
    expect(r.headers['access-control-allow-methods']).toBeUndefined();
  });

  it('an origin not allowed gets no CORS headers, preflight or not', async () => {
    const preflight = await send('OPTIONS', {
      origin: 'https://evil.example.com',
      'access-control-request-method': 'PUT',
    });
    expect(preflight.status).toBe(200);
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const actual = await send('GET', { origin: 'https://evil.example.com' });
    expect(actual.headers['x-backend']).toBe('web');
    expect(actual.headers['access-control-allow-origin']).toBeUndefined();
  });
});
