// A live gateway moving request bodies by the kernel (gateway/http1/
// body-splice.ts, gateway/native/splice.c) when things go wrong: a backend
// that resets mid-body, one that answers before reading, a client that
// leaves mid-body. Each time the other side hears of it, nothing hangs,
// and the metric says which side failed. The intact case is in
// gateway-upload-integrity.test.ts.

import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithSplice } from '../gateway/native/testing.ts';
import {
  edgeRouteToServiceYaml,
  freePort,
  type LiveGateway,
  LOOPBACK,
  startGateway,
} from './gateway-harness.ts';

const MIB = 1024 * 1024;

/** What the raw backend does once a request's head has arrived (one request per connection). */
type Behaviour = (socket: Socket, received: () => number) => void;

interface RawBackend {
  port: number;
  /** Body bytes each connection received, and whether it ended. */
  connections: { received: number; closed: boolean }[];
  behaviour: Behaviour;
  server: Server;
}

async function startRawBackend(): Promise<RawBackend> {
  const backend: RawBackend = {
    port: 0,
    connections: [],
    behaviour: () => {},
    server: createServer((socket) => {
      const seen = { received: 0, closed: false };
      backend.connections.push(seen);
      let head = '';
      let inBody = false;
      socket.on('error', () => {});
      socket.on('close', () => {
        seen.closed = true;
      });
      socket.on('data', (chunk: Buffer) => {
        if (inBody) {
          seen.received += chunk.length;
          return;
        }
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        inBody = true;
        seen.received = head.length - end - 4;
        backend.behaviour(socket, () => seen.received);
      });
    }),
  };
  await new Promise<void>((resolve) => backend.server.listen(0, LOOPBACK, resolve));
  backend.port = (backend.server.address() as { port: number }).port;
  return backend;
}

/** A raw client: the request head, then body bytes as the test writes them. */
function rawClient(
  port: number,
): Promise<{ socket: Socket; text: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, LOOPBACK);
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('error', () => {});
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, text: () => text, closed }));
    socket.once('error', reject);
  });
}

/** Answers 200 "ok" once `bytes` of body are in, and closes (one request per connection). */
function answerOnceReceived(bytes: number): Behaviour {
  return (socket, received) => {
    const check = setInterval(() => {
      if (received() < bytes) return;
      clearInterval(check);
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    }, 5);
  };
}

const head = (size: number) =>
  `POST /upload HTTP/1.1\r\nHost: splice.test\r\nContent-Length: ${size}\r\n\r\n`;

describeWithSplice('request bodies moved by the kernel, when a side fails', () => {
  let backend: RawBackend;
  let live: LiveGateway;
  let port: number;

  beforeAll(async () => {
    backend = await startRawBackend();
    port = await freePort();
    live = await startGateway(
      edgeRouteToServiceYaml('default', port, 'splice.test', 'raw', [backend.port]),
    );
  });

  afterEach(() => {
    backend.connections.length = 0;
  });

  afterAll(async () => {
    await live?.close(200);
    await new Promise((resolve) => backend?.server.close(resolve));
  });

  async function spliceOutcomes(): Promise<Record<string, number>> {
    const text = await live.metrics.render();
    const outcomes: Record<string, number> = {};
    for (const m of text.matchAll(
      /^pier_gateway_request_bodies_spliced_total\{outcome="(\w+)"\} (\d+)$/gm,
    ))
      outcomes[m[1]!] = Number(m[2]);
    return outcomes;
  }

  it('a whole body reaches the backend, which answers; the client keeps its connection', async () => {
    backend.behaviour = answerOnceReceived(MIB);
    const before = (await spliceOutcomes()).ok ?? 0;
    const client = await rawClient(port);
    client.socket.write(head(MIB));
    client.socket.write(Buffer.alloc(MIB, 7));
    await expect.poll(() => client.text()).toMatch(/\r\n\r\nok$/);
    expect(client.text()).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(client.text()).not.toMatch(/connection: close/i);
    expect(backend.connections[0]!.received).toBe(MIB);
    expect((await spliceOutcomes()).ok).toBe(before + 1);
    client.socket.destroy();
  });

  it('a client that waits for 100 Continue gets it, then its body is spliced', async () => {
    backend.behaviour = answerOnceReceived(MIB);
    const before = (await spliceOutcomes()).ok ?? 0;
    const client = await rawClient(port);
    client.socket.write(head(MIB).replace('\r\n\r\n', '\r\nExpect: 100-continue\r\n\r\n'));
    await expect.poll(() => client.text()).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    client.socket.write(Buffer.alloc(MIB, 5));
    await expect.poll(() => client.text()).toMatch(/\r\n\r\nok$/);
    expect(backend.connections[0]!.received).toBe(MIB);
    expect((await spliceOutcomes()).ok).toBe(before + 1);
    client.socket.destroy();
  });

  it('a backend that resets mid-body: the client gets 502 and its connection closes', async () => {
    backend.behaviour = (socket, received) => {
      const check = setInterval(() => {
        if (received() < 200 * 1024) return;
        clearInterval(check);
        socket.resetAndDestroy();
      }, 2);
    };
    const failed = (o: Record<string, number>) => (o.destination ?? 0) + (o.cancelled ?? 0);
    const before = failed(await spliceOutcomes());
    const client = await rawClient(port);
    client.socket.write(head(8 * MIB));
    // More than the sockets between can hold: the relay is still writing when the reset comes.
    client.socket.write(Buffer.alloc(8 * MIB, 1));
    await client.closed;
    expect(client.text()).toMatch(/^HTTP\/1\.1 502 /);
    expect(client.text()).toMatch(/connection: close/i);
    // The relay's write fails (destination), or the backend connection's read hears the
    // reset first and the request's end cancels the relay.
    expect(failed(await spliceOutcomes())).toBe(before + 1);
  });

  it('a backend that answers before reading the body: the client gets that answer, then the connection closes', async () => {
    backend.behaviour = (socket) => {
      socket.write(
        'HTTP/1.1 413 Payload Too Large\r\nContent-Length: 3\r\nConnection: close\r\n\r\nbig',
      );
      socket.end();
    };
    const client = await rawClient(port);
    client.socket.write(head(4 * MIB));
    client.socket.write(Buffer.alloc(256 * 1024, 2));
    await expect.poll(() => client.text()).toMatch(/\r\n\r\nbig$/);
    expect(client.text()).toMatch(/^HTTP\/1\.1 413 /);
    // The rest of its body is not read: the connection cannot carry another request.
    await client.closed;
  });

  it('a client that leaves mid-body: the backend connection is closed, short of the body', async () => {
    backend.behaviour = () => {};
    const before = (await spliceOutcomes()).source ?? 0;
    const client = await rawClient(port);
    client.socket.write(head(4 * MIB));
    client.socket.write(Buffer.alloc(300 * 1024, 3));
    await expect.poll(() => backend.connections[0]?.received ?? 0).toBe(300 * 1024);
    client.socket.end();
    await expect.poll(() => backend.connections[0]!.closed).toBe(true);
    expect(backend.connections[0]!.received).toBe(300 * 1024);
    await expect.poll(async () => (await spliceOutcomes()).source ?? 0).toBe(before + 1);
    const line = live.access.at(-1)!;
    expect(line).toMatchObject({ path: '/upload' });
  });
});
