// Upgraded connections (WebSocket) through a live gateway close after
// gateway.limits.tunnelIdleTimeoutMs without bytes either way, both sides,
// and stay open while either side talks. A FIN from either side ends the
// tunnel at once (the limit is for peers that vanish without one).

import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LISTENER_LIMITS } from '../gateway/listener.ts';
import {
  type Backend,
  edgeGatewayYaml,
  freePort,
  type LiveGateway,
  LOOPBACK,
  serviceYaml,
  startEchoBackend,
  startGateway,
} from './gateway-harness.ts';

const IDLE_MS = 400;

let backend: Backend;
/** Answers an upgrade with 101 and half-closes at once, keeping its reading half open. */
let stubborn: Server;
let live: LiveGateway;
let port: number;

beforeAll(async () => {
  backend = await startEchoBackend('ws');
  stubborn = createServer({ allowHalfOpen: true }, (socket) => {
    // 101, then its half closes (FIN); it reads on and never closes the rest.
    socket.once('data', () =>
      socket.end(
        'HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n\r\n',
      ),
    );
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => stubborn.listen(0, LOOPBACK, () => resolve()));
  port = await freePort();
  live = await startGateway(
    `${edgeGatewayYaml('default', port)}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ws, namespace: default }
spec:
  parentRefs: [{ name: edge }]
  rules:
    - matches: [{ path: { value: /stubborn } }]
      backendRefs: [{ name: stubborn, port: 80 }]
    - backendRefs: [{ name: ws, port: 80 }]
---
${serviceYaml('default', 'ws', [backend.port])}
---
${serviceYaml('default', 'stubborn', [(stubborn.address() as { port: number }).port])}`,
    { limits: { ...DEFAULT_LISTENER_LIMITS, tunnelIdleTimeoutMs: IDLE_MS } },
  );
});

afterAll(async () => {
  await live?.close(200);
  await backend?.close();
  stubborn?.close();
});

/** The gateway's open client connections on the port. */
function gatewayConnections(): number {
  return live.gateway.state().ports.find((p) => p.port === port)?.connections ?? 0;
}

/**
 * An open WebSocket through the gateway (the 101 read), and when the
 * gateway let go of it: its connection count drops to zero. (The client
 * keeps its own half open after a FIN, as a browser's may, so its own
 * 'close' would not tell.)
 */
async function openTunnel(path = '/'): Promise<{ socket: Socket; closed: Promise<number> }> {
  const socket = connect({ port, host: LOOPBACK, allowHalfOpen: true });
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ws.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const head = await new Promise<string>((resolve) =>
    socket.once('data', (b: Buffer) => resolve(b.toString())),
  );
  expect(head).toMatch(/^HTTP\/1\.1 101 /);
  const started = performance.now();
  const closed = new Promise<number>((resolve) => {
    const poll = setInterval(() => {
      if (gatewayConnections() > 0) return;
      clearInterval(poll);
      resolve(performance.now() - started);
    }, 10);
  });
  return { socket, closed };
}

/** A masked text frame (client to server). */
function frame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
}

describe('tunnel idle timeout', () => {
  it('closes a tunnel with no bytes either way after the limit', async () => {
    const { closed } = await openTunnel();
    const after = await closed;
    expect(after).toBeGreaterThanOrEqual(IDLE_MS - 50);
    expect(after).toBeLessThan(IDLE_MS * 5);
  });

  it('keeps a tunnel open while the peers talk', async () => {
    const { socket, closed } = await openTunnel();
    let open = true;
    void closed.then(() => {
      open = false;
    });
    const echoes: string[] = [];
    socket.on('data', (b: Buffer) => echoes.push(b.subarray(2).toString()));
    for (let i = 0; i < 6; i++) {
      socket.write(frame(`ping ${i}`));
      await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    }
    expect(open, 'still open after 3x the limit of steady traffic').toBe(true);
    expect(echoes).toContain('ws: ping 5');
    socket.destroy();
  });

  it('a FIN from the backend ends the tunnel at once: nothing is left half open', async () => {
    const { closed } = await openTunnel('/stubborn');
    // The client keeps its half open; the gateway still lets go, well before the idle limit.
    expect(await closed).toBeLessThan(IDLE_MS / 2);
  });
});
