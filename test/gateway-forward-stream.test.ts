// Bodies stream through forward() with backpressure both ways: a 2 GiB
// download and a 2 GiB upload pass through a gateway in its own process
// whose peak RSS stays far below the body size, and a client or backend
// that stops reading holds the other side back instead of filling memory.
// Bytes are generated (a reused 1 MiB buffer, /dev/zero), never stored.

import { spawn } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Backend,
  Cleanup,
  eventually,
  missingBinary,
  planOf,
  requireBinary,
  skipFor,
  sleep,
  startBackend,
  startGateway,
  startGatewayProcess,
  upstreamOf,
} from './gateway-forward-fixtures.ts';

const missing = missingBinary('curl', 'head');
const GIB2 = 2 * 1024 ** 3;
const MIB = 1024 * 1024;
/** How much more than at start the gateway may hold at its peak. */
const PEAK_GROWTH_LIMIT = 256 * MIB;

const chunk = Buffer.alloc(MIB, 'pier');

/** Writes `total` bytes of `chunk` to `res`, waiting for 'drain' whenever write() says so. */
function generate(res: ServerResponse, total: number, onWrite?: (bytes: number) => void): void {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(chunk.length, total - sent);
      sent += n;
      onWrite?.(sent);
      if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** GET /download/<n> sends n bytes; any other request is counted and answered with its size. */
function bulk(req: IncomingMessage, res: ServerResponse): void {
  const m = /^\/download\/(\d+)$/.exec(req.url ?? '');
  if (m !== null) {
    req.resume();
    res.writeHead(200, { 'content-length': m[1], 'content-type': 'application/octet-stream' });
    generate(res, Number(m[1]));
    return;
  }
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
  });
  req.once('end', () => res.end(`received ${size}\n`));
}

/** Waits until `value()` has not changed for 300 ms (at most 10 s), and returns it. */
async function settled(value: () => number): Promise<number> {
  const deadline = Date.now() + 10_000;
  let last = value();
  let since = Date.now();
  while (Date.now() < deadline) {
    await sleep(25);
    const now = value();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= 300) {
      return now;
    }
  }
  return value();
}

/** Runs a shell pipeline, resolving with its stdout. */
function sh(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe.skipIf(skipFor(missing))('forward() streams bodies with backpressure', () => {
  let cleanup: Cleanup;
  beforeAll(() => requireBinary(missing));
  afterEach(async () => {
    await cleanup.run();
  });

  it('passes a 2 GiB download and a 2 GiB upload in bounded memory', async () => {
    cleanup = new Cleanup();
    const backend: Backend = await startBackend(cleanup, bulk);
    const gw = await startGatewayProcess(cleanup, {
      endpoints: [{ address: '127.0.0.1', port: backend.port }],
    });
    const url = `http://127.0.0.1:${gw.port}`;
    const atStart = gw.memory().rss;

    const t0 = performance.now();
    const down = await sh(
      `curl -s --max-time 120 -o /dev/null -w '%{http_code} %{size_download}' ${url}/download/${GIB2}`,
    );
    const t1 = performance.now();
    expect(down.stdout).toBe(`200 ${GIB2}`);
    const afterDownload = gw.memory();

    // Unknown length: curl sends the body chunked, as it reads it from the pipe.
    const up = await sh(
      `head -c ${GIB2} /dev/zero | curl -s --max-time 120 -T - -w ' %{http_code} %{size_upload}' ${url}/upload`,
    );
    const t2 = performance.now();
    expect(up.stdout.split('\n')[0]).toBe(`received ${GIB2}`);
    expect(up.stdout).toMatch(/ 200 \d+$/);
    const afterUpload = gw.memory();

    console.info(
      `2 GiB through the gateway: download ${((t1 - t0) / 1000).toFixed(1)} s, upload ${((t2 - t1) / 1000).toFixed(1)} s; ` +
        `gateway RSS at start ${(atStart / MIB).toFixed(0)} MiB, peak ${(afterUpload.peak / MIB).toFixed(0)} MiB`,
    );
    expect(afterDownload.peak - atStart).toBeLessThan(PEAK_GROWTH_LIMIT);
    expect(afterUpload.peak - atStart).toBeLessThan(PEAK_GROWTH_LIMIT);
  }, 240_000);

  it('holds the backend back while the client does not read', async () => {
    cleanup = new Cleanup();
    let written = 0;
    let finished = false;
    const total = 256 * MIB;
    const backend = await startBackend(cleanup, (req, res) => {
      req.resume();
      res.writeHead(200, { 'content-length': String(total) });
      generate(res, total, (bytes) => {
        written = bytes;
      });
      res.once('finish', () => {
        finished = true;
      });
    });
    const upstream = upstreamOf(cleanup, [backend.endpoint]);
    const gw = await startGateway(cleanup, planOf(upstream));

    const client = net.connect(gw.port, '127.0.0.1');
    cleanup.add(() => client.destroy());
    client.pause();
    client.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n');
    await eventually(() => written > 0);
    // Socket buffers on two loopback hops hold some MiB; nothing near 256 MiB.
    const stalled = await settled(() => written);
    expect(stalled).toBeLessThan(64 * MIB);

    let received = 0;
    client.on('data', (c: Buffer) => {
      received += c.length;
    });
    client.resume();
    await eventually(() => finished && received > total, 30_000);
  });

  it('holds the client back while the backend does not read', async () => {
    cleanup = new Cleanup();
    let reading = false;
    let size = 0;
    const backend = await startBackend(cleanup, (req, res) => {
      req.pause();
      req.on('data', (c: Buffer) => {
        size += c.length;
      });
      const poll = setInterval(() => {
        if (reading) {
          clearInterval(poll);
          req.resume();
          req.once('end', () => res.end(`received ${size}\n`));
        }
      }, 10);
    });
    const upstream = upstreamOf(cleanup, [backend.endpoint]);
    const gw = await startGateway(cleanup, planOf(upstream));

    const total = 256 * MIB;
    const client = net.connect(gw.port, '127.0.0.1');
    cleanup.add(() => client.destroy());
    let accepted = 0;
    let response = '';
    client.setEncoding('latin1').on('data', (d: string) => {
      response += d;
    });
    client.write(`PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${total}\r\n\r\n`);
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent += chunk.length;
        const ok = client.write(chunk, () => {
          accepted += chunk.length;
        });
        if (!ok) {
          client.once('drain', pump);
          return;
        }
      }
    };
    pump();
    await eventually(() => accepted > 0);
    const stalled = await settled(() => accepted);
    expect(stalled).toBeLessThan(64 * MIB);

    reading = true;
    await eventually(() => response.includes(`received ${total}`), 30_000);
  });

  it('passes bodies both ways on HTTP/2 too', async () => {
    cleanup = new Cleanup();
    const backend = await startBackend(cleanup, bulk);
    const gw = await startGatewayProcess(cleanup, {
      endpoints: [{ address: '127.0.0.1', port: backend.port }],
      inbound: 'h2c',
    });
    const size = 64 * MIB;
    const down = await sh(
      `curl -s --http2-prior-knowledge -o /dev/null -w '%{http_version} %{size_download}' http://127.0.0.1:${gw.port}/download/${size}`,
    );
    expect(down.stdout).toBe(`2 ${size}`);
    const up = await sh(
      `head -c ${size} /dev/zero | curl -s --http2-prior-knowledge -T - http://127.0.0.1:${gw.port}/upload`,
    );
    expect(up.stdout).toBe(`received ${size}\n`);
  });
});
