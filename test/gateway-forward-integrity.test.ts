// Every byte arrives intact while the upstream pool reads response bodies
// into reused buffers (gateway/upstream/http1/read-buffers.ts): a buffer may
// be read into again only once the client's write of what it held has
// completed. Several clients at once (so buffers pass between connections),
// bodies framed by Content-Length and chunked, written by the backend in
// uneven pieces, read by clients that stall now and then (so writes to them
// queue up); each body's SHA-256 is compared with what the backend sent.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { freeReadBuffers } from '../gateway/upstream/http1/read-buffers.ts';
import {
  Cleanup,
  endpoint,
  planOf,
  sleep,
  startBackend,
  startGateway,
  upstreamOf,
} from './gateway-forward-fixtures.ts';
import { bodyFor, MIB, sha256 } from './support/test-bodies.ts';

/** GET /<seed>/<size>/<cl|chunked>: the body for seed, written in uneven pieces. */
function backendHandler(req: IncomingMessage, res: ServerResponse): void {
  const [, seed, size, framing] = (req.url ?? '').split('/');
  const body = bodyFor(Number(seed), Number(size));
  res.writeHead(
    200,
    framing === 'cl'
      ? { 'content-length': String(body.length) }
      : { 'transfer-encoding': 'chunked' },
  );
  let offset = 0;
  let piece = 1000 + (Number(seed) % 7) * 9000;
  const pump = () => {
    while (offset < body.length) {
      const end = Math.min(body.length, offset + piece);
      piece = ((piece * 7) % 200_000) + 1;
      const ok = res.write(body.subarray(offset, end));
      offset = end;
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** Reads a response, stalling now and then so the gateway's writes to it queue up. */
function fetchSlowly(port: number, path: string, seed: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let n = 0;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        // Long enough for the kernel's buffers to fill and the gateway's
        // writes to this client to queue (holding their read buffers).
        if (++n % (20 + (seed % 4) * 10) === 0) {
          res.pause();
          setTimeout(() => res.resume(), 30 + (seed % 3) * 20);
        }
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('forward() with reused upstream read buffers', () => {
  let cleanup: Cleanup;
  afterEach(async () => {
    await cleanup.run();
  });

  it('delivers every body intact to clients reading at their own pace', async () => {
    cleanup = new Cleanup();
    const backend = await startBackend(cleanup, backendHandler);
    const upstream = upstreamOf(cleanup, [endpoint(backend.port)]);
    const gateway = await startGateway(cleanup, planOf(upstream));
    const cases: { seed: number; size: number; framing: string }[] = [];
    for (let seed = 1; seed <= 24; seed++) {
      cases.push({
        seed,
        size: 1 + ((seed * 104_729) % (3 * MIB)),
        framing: seed % 2 ? 'cl' : 'chunked',
      });
    }
    // Small whole answers: forward() hands their one chunk to Node as a latin1
    // string (one write with the head); random bytes cover every byte value.
    for (const [i, size] of [1, 255, 4096, 16 * 1024, 16 * 1024 + 1].entries())
      cases.push({ seed: 25 + i, size, framing: 'cl' });
    // Eight at a time, so connections and their buffers overlap.
    for (let i = 0; i < cases.length; i += 8) {
      await Promise.all(
        cases.slice(i, i + 8).map(async ({ seed, size, framing }) => {
          const got = await fetchSlowly(gateway.port, `/${seed}/${size}/${framing}`, seed);
          expect(got.length, `seed ${seed}`).toBe(size);
          expect(sha256(got), `seed ${seed} (${framing}, ${size} bytes)`).toBe(
            sha256(bodyFor(seed, size)),
          );
        }),
      );
    }
    // The buffers did go back for reuse (or this test proved nothing about reuse).
    await sleep(50);
    expect(freeReadBuffers()).toBeGreaterThan(0);
  });
});
