// BackendTLSPolicy end to end: curl -> the gateway (plain HTTP listener) ->
// TLS -> an HTTPS backend whose certificate a test CA signed. The policy,
// its CA ConfigMap and their changes come through the Store as a cluster
// would send them; each change must show on the next request after the
// gateway synced, and requests the policy cannot serve get a 5xx.

import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type CertificateAuthority,
  caConfigMapYaml,
  createCertificateAuthority,
  curl,
  curlMissing,
  describeWithTools,
  edgeGatewayYaml,
  endpointSliceYaml,
  freePort,
  type LiveGateway,
  LOOPBACK,
  opensslMissing,
  startGateway,
  tlsSecretYaml,
} from './gateway-harness.ts';

const configMapYaml = (name: string, pem: string) => caConfigMapYaml('shop', name, pem);

/** Route `web` on Gateway `edge` -> Service shop/web port 443 -> the backend; its CA as ConfigMap `ca`. */
function sceneYaml(port: number, backendPort: number, ca: CertificateAuthority): string {
  return `${edgeGatewayYaml('shop', port)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: shop }
spec:
  parentRefs: [{ name: edge }]
  rules: [{ backendRefs: [{ name: web, port: 443 }] }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: shop }
spec: { ports: [{ name: http, port: 443, targetPort: http }] }
---
${endpointSliceYaml('shop', 'web', [backendPort])}
---
${configMapYaml('ca', readFileSync(ca.caFile, 'utf8'))}`;
}

function policyYaml(caConfigMap: string, hostname = 'web.shop.svc', extra = ''): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: { name: web-tls, namespace: shop }
spec:
  targetRefs: [{ group: "", kind: Service, name: web }]
  validation:
    caCertificateRefs: [{ group: "", kind: ConfigMap, name: ${caConfigMap} }]
    hostname: ${hostname}
${extra}`;
}

describeWithTools('BackendTLSPolicy through the gateway', [curlMissing, opensslMissing], () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let backend: Server;
  let live: LiveGateway;
  let port: number;
  const seen: { sni: string | false | null; alpn: string | false | null; path: string }[] = [];

  beforeAll(async () => {
    ca = createCertificateAuthority();
    otherCa = createCertificateAuthority();
    backend = createServer(ca.issue(['web.shop.svc']), (req, res) => {
      const socket = req.socket as TLSSocket;
      seen.push({ sni: socket.servername, alpn: socket.alpnProtocol, path: req.url ?? '' });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('over tls\n');
    });
    await new Promise<void>((resolve) => backend.listen(0, LOOPBACK, () => resolve()));
    const backendPort = (backend.address() as { port: number }).port;
    port = await freePort();
    live = await startGateway(`${sceneYaml(port, backendPort, ca)}
---
${configMapYaml('other-ca', readFileSync(otherCa.caFile, 'utf8'))}
---
${policyYaml('ca')}`);
  });

  afterAll(async () => {
    await live?.close(200);
    await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
    ca?.remove();
    otherCa?.remove();
  });

  const get = (path: string) => curl([`http://${LOOPBACK}:${port}${path}`]);

  it('speaks TLS to the backend, with the policy hostname as SNI and ALPN http/1.1', async () => {
    const result = await get('/first');
    expect(result.status, result.body).toBe(200);
    expect(result.body).toBe('over tls\n');
    expect(seen.at(-1)).toEqual({ sni: 'web.shop.svc', alpn: 'http/1.1', path: '/first' });
  });

  it('a CA that did not sign the backend: the handshake fails, the client gets 502', async () => {
    await live.apply(policyYaml('other-ca'));
    const before = seen.length;
    const result = await get('/untrusted');
    expect(result.status).toBe(502);
    expect(seen.length, 'nothing reached the backend').toBe(before);
  });

  it('a hostname the certificate does not carry: 502; subjectAltNames naming it instead: 200', async () => {
    await live.apply(policyYaml('ca', 'api.shop.svc'));
    expect((await get('/mismatch')).status).toBe(502);
    await live.apply(
      policyYaml(
        'ca',
        'api.shop.svc',
        '    subjectAltNames: [{ type: Hostname, hostname: web.shop.svc }]',
      ),
    );
    const result = await get('/san');
    expect(result.status, result.body).toBe(200);
    // The hostname is still the SNI; the SAN is what the certificate is checked against.
    expect(seen.at(-1)).toEqual({ sni: 'api.shop.svc', alpn: 'http/1.1', path: '/san' });
  });

  it('no valid CA (the ConfigMap has no ca.crt): 500 and nothing sent, until it is fixed', async () => {
    await live.apply(policyYaml('ca'));
    await live.apply(`apiVersion: v1
kind: ConfigMap
metadata: { name: ca, namespace: shop }
data: { other: x }`);
    const before = seen.length;
    const refused = await get('/refused');
    expect(refused.status).toBe(500);
    expect(seen.length).toBe(before);
    await live.apply(configMapYaml('ca', readFileSync(ca.caFile, 'utf8')));
    expect((await get('/fixed')).status).toBe(200);
  });
});

// Mutual TLS: the backend asks for a client certificate signed by its CA;
// the Gateway presents the one spec.tls.backend.clientCertificateRef names.
describeWithTools(
  'Gateway client certificates to TLS backends',
  [curlMissing, opensslMissing],
  () => {
    let ca: CertificateAuthority;
    let backend: Server;
    let live: LiveGateway;
    let port: number;
    const clients: (string | string[] | undefined)[] = [];

    const gatewayYaml = (clientCertificateRef: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: edge, namespace: shop }
spec:
  gatewayClassName: pier
  listeners: [{ name: http, protocol: HTTP, port: ${port} }]
${clientCertificateRef}`;

    beforeAll(async () => {
      ca = createCertificateAuthority();
      backend = createServer(
        {
          ...ca.issue(['web.shop.svc']),
          ca: readFileSync(ca.caFile),
          requestCert: true,
          rejectUnauthorized: true,
        },
        (req, res) => {
          clients.push((req.socket as TLSSocket).getPeerCertificate().subject?.CN);
          res.end('mutual\n');
        },
      );
      await new Promise<void>((resolve) => backend.listen(0, LOOPBACK, () => resolve()));
      const backendPort = (backend.address() as { port: number }).port;
      port = await freePort();
      live = await startGateway(`${sceneYaml(port, backendPort, ca)}
---
${policyYaml('ca')}
---
${tlsSecretYaml('shop', 'gateway-client', ca.issue(['gateway.shop.svc'], 'clientAuth'))}`);
    });

    afterAll(async () => {
      await live?.close(200);
      await new Promise<void>((resolve) => (backend ? backend.close(() => resolve()) : resolve()));
      ca?.remove();
    });

    const get = (path: string) => curl([`http://${LOOPBACK}:${port}${path}`]);

    it('without a client certificate the backend refuses the handshake: 502', async () => {
      expect((await get('/anonymous')).status).toBe(502);
      expect(clients).toEqual([]);
    });

    it('with spec.tls.backend.clientCertificateRef the Gateway presents it, and new pools carry it', async () => {
      await live.apply(
        gatewayYaml('  tls: { backend: { clientCertificateRef: { name: gateway-client } } }'),
      );
      const result = await get('/mutual');
      expect(result.status, result.body).toBe(200);
      expect(result.body).toBe('mutual\n');
      expect(clients).toEqual(['gateway.shop.svc']);
    });

    it('a reference to a Secret that does not exist: no certificate again (502), and the Gateway says why', async () => {
      await live.apply(
        gatewayYaml('  tls: { backend: { clientCertificateRef: { name: nowhere } } }'),
      );
      expect((await get('/gone')).status).toBe(502);
      const status = live.gateway.state().status?.gateways.find((g) => g.name === 'edge');
      expect(status?.conditions).toContainEqual(
        expect.objectContaining({
          type: 'ResolvedRefs',
          status: 'False',
          reason: 'InvalidClientCertificateRef',
        }),
      );
    });
  },
);
