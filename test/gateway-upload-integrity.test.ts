// Every request body arrives intact through the listener's HTTP/1.1 engine,
// which hands body chunks on as views of the socket's reads, and whose
// cleartext connections read heads into one reused buffer
// (gateway/listener/own-reads.ts): a view kept while its buffer is read
// into again would hand one upload's bytes to another, or a head's. So:
// several keep-alive clients at once, bodies of many sizes framed by
// Content-Length and chunked and written in uneven pieces (a body's start
// often shares a read with its head), a backend that stalls now and then
// (so the gateway's writes queue and the clients are paused), and each
// body's SHA-256 as the backend computed it compared with what the client
// sent.

import { createHash } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  edgeRouteToServiceYaml,
  freePort,
  type LiveGateway,
  LOOPBACK,
  startGateway,
} from './gateway-harness.ts';
import { bodyFor, MIB, sha256 } from './support/test-bodies.ts';

/** Hashes each request body; every third request it reads with pauses. */
function startHashingBackend(): Promise<{ port: number; close(): Promise<void> }> {
  let count = 0;
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const hash = createHash('sha256');
    let length = 0;
    const stalls = ++count % 3 === 0;
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
      if (stalls) {
        req.pause();
        setTimeout(() => req.resume(), 2);
      }
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ sha256: hash.digest('hex'), length }));
    });
  });
  return new Promise((resolve) => {
    server.listen(0, LOOPBACK, () => {
      const { port } = server.address() as { port: number };
      resolve({
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** Writes the body in uneven pieces, with a pause now and then. */
async function sendBody(req: http.ClientRequest, body: Buffer, seed: number): Promise<void> {
  let offset = 0;
  let piece = 0;
  while (offset < body.length) {
    const size = Math.min(body.length - offset, 1 + ((seed * 31 + piece * 7717) % (300 * 1024)));
    const more = req.write(body.subarray(offset, offset + size));
    offset += size;
    piece++;
    if (!more) await new Promise((resolve) => req.once('drain', resolve));
    else if (piece % 5 === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  req.end();
}

function upload(
  agent: http.Agent,
  port: number,
  body: Buffer,
  seed: number,
  chunked: boolean,
): Promise<{ sha256: string; length: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: LOOPBACK,
        port,
        method: 'POST',
        path: `/upload/${seed}`,
        headers: {
          host: 'up.test',
          ...(chunked ? {} : { 'content-length': String(body.length) }),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () => {
          if (res.statusCode !== 200)
            reject(new Error(`status ${res.statusCode}: ${Buffer.concat(parts).toString()}`));
          else resolve(JSON.parse(Buffer.concat(parts).toString()));
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    sendBody(req, body, seed).catch(reject);
  });
}

// Both ways a body can go: moved by the kernel (a Content-Length body of
// 64 KiB or more, gateway/http1/body-splice.ts) or copied through the
// engine and the upstream connection; with splicing off, all are copied.
describe.each([
  { bodySplice: true, spliced: 6 },
  { bodySplice: false, spliced: 0 },
])('request bodies with bodySplice: $bodySplice', ({ bodySplice, spliced }) => {
  let backend: { port: number; close(): Promise<void> };
  let live: LiveGateway;
  let port: number;

  beforeAll(async () => {
    backend = await startHashingBackend();
    port = await freePort();
    live = await startGateway(
      edgeRouteToServiceYaml('default', port, 'up.test', 'be', [backend.port]),
      { bodySplice },
    );
  });

  afterAll(async () => {
    await live?.close(200);
    await backend?.close();
  });

  it('arrive intact for many clients at once, framed both ways, with stalls on both sides', async () => {
    const clients = 6;
    const perClient = 6;
    // Each client sends one 1 MiB body with Content-Length: the six spliced ones.
    const sizes = [1, 1000, 64 * 1024 - 1, 256 * 1024 + 3, MIB, 3 * MIB + 17];
    const results = await Promise.all(
      Array.from({ length: clients }, async (_, client) => {
        // One keep-alive connection per client: its uploads follow each other on it.
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        try {
          const seen: { sent: string; got: { sha256: string; length: number } }[] = [];
          for (let i = 0; i < perClient; i++) {
            const seed = client * perClient + i;
            const body = bodyFor(seed, sizes[(client + i) % sizes.length]!);
            const got = await upload(agent, port, body, seed, (client + i) % 2 === 1);
            seen.push({ sent: sha256(body), got });
          }
          return seen;
        } finally {
          agent.destroy();
        }
      }),
    );
    for (const seen of results)
      for (const { sent, got } of seen) expect(got.sha256, `length ${got.length}`).toBe(sent);
    const metrics = await live.metrics.render();
    const count = metrics.match(
      /^pier_gateway_request_bodies_spliced_total\{outcome="ok"\} (\d+)$/m,
    );
    expect(Number(count?.[1] ?? 0)).toBe(spliced);
    expect(metrics).not.toMatch(/pier_gateway_request_bodies_spliced_total\{outcome="(?!ok)/);
  });
});
