// Client certificate validation at HTTPS listeners (Gateway spec.tls.frontend)
// with curl: a listener that checks asks for a client certificate and
// serves only clients whose certificate chains to its CAs (AllowValidOnly),
// or every client (AllowInsecureFallback); a listener of another Gateway on
// the same port that does not check serves clients without one.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  type Backend,
  type CertificateAuthority,
  caConfigMapYaml,
  createCertificateAuthority,
  curl,
  curlMissing,
  describeWithTools,
  freePort,
  type LiveGateway,
  LOOPBACK,
  opensslMissing,
  serviceYaml,
  startEchoBackend,
  startGateway,
  tlsSecretYaml,
} from './gateway-harness.ts';

describeWithTools(
  'client certificate validation at HTTPS listeners',
  [curlMissing, opensslMissing],
  () => {
    let serverCa: CertificateAuthority;
    let clientCa: CertificateAuthority;
    let strangerCa: CertificateAuthority;
    let backend: Backend;
    let live: LiveGateway;
    let port: number;
    const files: Record<string, string> = {};

    const gatewayYaml = (mode: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: secure, namespace: shop }
spec:
  gatewayClassName: pier
  listeners:
    - name: https
      protocol: HTTPS
      port: ${port}
      hostname: mtls.example.com
      tls: { certificateRefs: [{ name: server }] }
  tls:
    frontend:
      default:
        validation:
          caCertificateRefs: [{ group: "", kind: ConfigMap, name: clients }]
          mode: ${mode}`;

    beforeAll(async () => {
      serverCa = createCertificateAuthority();
      clientCa = createCertificateAuthority();
      strangerCa = createCertificateAuthority();
      backend = await startEchoBackend('web');
      port = await freePort();
      const dir = clientCa.caFile.replace(/\/ca\.crt$/, '');
      for (const [name, pair] of [
        ['good', clientCa.issue(['alice'], 'clientAuth')],
        ['stranger', strangerCa.issue(['mallory'], 'clientAuth')],
      ] as const) {
        files[`${name}.crt`] = join(dir, `client-${name}.crt`);
        files[`${name}.key`] = join(dir, `client-${name}.key`);
        writeFileSync(files[`${name}.crt`]!, pair.cert);
        writeFileSync(files[`${name}.key`]!, pair.key);
      }
      live = await startGateway(`apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: { name: pier }
spec: { controllerName: pier.dev/gateway }
---
${gatewayYaml('AllowValidOnly')}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: { name: open, namespace: shop }
spec:
  gatewayClassName: pier
  listeners:
    - name: https
      protocol: HTTPS
      port: ${port}
      hostname: open.example.com
      tls: { certificateRefs: [{ name: server }] }
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: web, namespace: shop }
spec:
  parentRefs: [{ name: secure }, { name: open }]
  rules: [{ backendRefs: [{ name: web, port: 80 }] }]
---
${serviceYaml('shop', 'web', [backend.port])}
---
${tlsSecretYaml('shop', 'server', serverCa.issue(['mtls.example.com', 'open.example.com']))}
---
${caConfigMapYaml('shop', 'clients', readFileSync(clientCa.caFile, 'utf8'))}`);
    });

    afterAll(async () => {
      await live?.close(200);
      await backend?.close();
      for (const ca of [serverCa, clientCa, strangerCa]) ca?.remove();
    });

    const get = (host: string, client?: 'good' | 'stranger') =>
      curl([
        '--cacert',
        serverCa.caFile,
        '--resolve',
        `${host}:${port}:${LOOPBACK}`,
        ...(client === undefined
          ? []
          : ['--cert', files[`${client}.crt`]!, '--key', files[`${client}.key`]!]),
        `https://${host}:${port}/`,
      ]);

    it('AllowValidOnly: a certificate from the listed CA is served', async () => {
      const result = await get('mtls.example.com', 'good');
      expect(result.status, result.stderr).toBe(200);
    });

    it('AllowValidOnly: no certificate, or one from another CA, gets no response', async () => {
      const before = backend.requests;
      for (const client of [undefined, 'stranger'] as const) {
        const result = await get('mtls.example.com', client);
        expect(result.status, `client ${client ?? 'without a certificate'}`).toBe(0);
        expect(result.exit).not.toBe(0);
      }
      expect(backend.requests).toBe(before);
    });

    it("another Gateway's listener on the port does not check: served without a certificate", async () => {
      const result = await get('open.example.com');
      expect(result.status, result.stderr).toBe(200);
    });

    it('AllowInsecureFallback: served without a certificate too', async () => {
      await live.apply(gatewayYaml('AllowInsecureFallback'));
      expect((await get('mtls.example.com')).status).toBe(200);
      expect((await get('mtls.example.com', 'good')).status).toBe(200);
    });

    it('a CA ConfigMap that does not exist: the listener is not served, and says why', async () => {
      await live.apply(gatewayYaml('AllowValidOnly').replace('name: clients', 'name: missing'));
      const listener = live.gateway
        .state()
        .status?.gateways.find((g) => g.name === 'secure')
        ?.listeners.find((l) => l.name === 'https');
      expect(listener?.conditions).toContainEqual(
        expect.objectContaining({
          type: 'Accepted',
          status: 'False',
          reason: 'NoValidCACertificate',
        }),
      );
      expect(listener?.conditions).toContainEqual(
        expect.objectContaining({
          type: 'ResolvedRefs',
          status: 'False',
          reason: 'InvalidCACertificateRef',
        }),
      );
      // Not served: its host falls to no listener of the port (the certificate still completes the handshake).
      expect((await get('mtls.example.com', 'good')).status).not.toBe(200);
      expect((await get('open.example.com')).status).toBe(200);
    });
  },
);
