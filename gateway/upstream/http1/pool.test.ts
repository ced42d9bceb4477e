// What Pier's pool does beyond the shared dispatcher suite
// (../dispatcher.case.ts): idle and stall timeouts, the backend's Keep-Alive
// hint, a backend closing idle connections, and responses it must refuse.
// Real sockets on 127.0.0.1.

import { createHash, randomBytes } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type ClaimedBody, kBodySplice } from '../../http1/body-splice.ts';
import { relayError, type SpliceRelay, socketFd, spliceAddon } from '../../native/splice.ts';
import { describeWithSplice } from '../../native/testing.ts';
import { run } from '../dispatcher.case.ts';
import { Http1Pool } from './pool.ts';
import { freeReadBuffers } from './read-buffers.ts';

/** A raw backend answering every request with `response`; it counts connections. */
async function backend(response: string | ((request: string) => string | undefined)) {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0, open: 0, requests: [] as string[] };
  const server = net.createServer((socket) => {
    state.connections++;
    state.open++;
    sockets.add(socket);
    socket.on('close', () => {
      state.open--;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1');
      const end = buffered.indexOf('\r\n\r\n');
      if (end === -1) return;
      state.requests.push(buffered);
      buffered = '';
      const answer = typeof response === 'string' ? response : response(state.requests.at(-1)!);
      if (answer !== undefined) socket.write(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    state,
    sockets,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const OK = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

/** The two methods every write of a net.Socket ends in. */
interface SocketWrites {
  _write(chunk: Buffer, encoding: BufferEncoding, cb: (error?: Error | null) => void): void;
  _writev(chunks: { chunk: Buffer }[], cb: (error?: Error | null) => void): void;
}

describe('Http1Pool', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function setup(
    response: Parameters<typeof backend>[0],
    options: ConstructorParameters<typeof Http1Pool>[1] = {},
  ) {
    const b = await backend(response);
    const pool = new Http1Pool(b.origin, options);
    cleanups.push(b.close, () => pool.destroy());
    return { b, pool };
  }

  it('closes a connection idle for keepAliveTimeoutMs', async () => {
    const { b, pool } = await setup(OK, { keepAliveTimeoutMs: 300 });
    expect((await run(pool, {})).ending).toBe('end');
    expect(pool.stats).toEqual({ connections: 1, idle: 1, queued: 0 });
    await expect.poll(() => b.state.open, { timeout: 2000 }).toBe(0);
    expect(pool.stats.connections).toBe(0);
  });

  it('follows the backend’s Keep-Alive timeout, less a second for the race', async () => {
    const { b, pool } = await setup(
      'HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok',
    );
    await run(pool, {});
    // timeout=1 leaves no safe time: the connection is not reused.
    await expect.poll(() => b.state.open).toBe(0);
    await run(pool, {});
    expect(b.state.connections).toBe(2);
  });

  it('opens a new connection when the backend closed an idle one', async () => {
    const { b, pool } = await setup(OK);
    await run(pool, {});
    for (const socket of b.sockets) socket.end();
    await expect.poll(() => pool.stats.connections).toBe(0);
    const outcome = await run(pool, {});
    expect(outcome).toMatchObject({ ending: 'end', status: 200 });
    expect(b.state.connections).toBe(2);
  });

  it('refuses a response framed two ways, and does not reuse its connection', async () => {
    const { b, pool } = await setup(
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    const outcome = await run(pool, {});
    expect(outcome).toMatchObject({ ending: 'error', started: true });
    expect(outcome.error!.code).toBe('HPE_UNEXPECTED_CONTENT_LENGTH');
    await expect.poll(() => b.state.open).toBe(0);
  });

  it('fails a request whose backend says nothing for stallTimeoutMs', async () => {
    const { pool } = await setup(() => undefined, { stallTimeoutMs: 300 });
    const started = performance.now();
    const outcome = await run(pool, {});
    expect(outcome.error!.code).toBe('PIER_UPSTREAM_STALLED');
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('fails a streamed body that outgrows its Content-Length, without sending the excess', async () => {
    const { b, pool } = await setup(OK);
    const outcome = await run(pool, {
      method: 'POST',
      headers: ['host', 'x', 'content-length', '3'],
      body: Readable.from([Buffer.from('abc'), Buffer.from('def')]),
    });
    expect(outcome.error!.code).toBe('PIER_REQUEST_CONTENT_LENGTH_MISMATCH');
    expect(b.state.requests.join('')).not.toContain('def');
  });

  it('sends the body chunks of one event-loop turn in one write, 256 KiB at most before pausing the body', async () => {
    const piece = Buffer.alloc(64 * 1024, 'b');
    const length = 1 + 8 * piece.length;
    // A backend that answers once the whole body is in.
    let received = -1;
    const server = net.createServer((socket) => {
      let head = '';
      socket.on('data', (chunk: Buffer) => {
        if (received < 0) {
          head += chunk.toString('latin1');
          const end = head.indexOf('\r\n\r\n');
          if (end < 0) return;
          received = Buffer.byteLength(head, 'latin1') - end - 4;
        } else {
          received += chunk.length;
        }
        if (received === length) socket.write(OK);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const pool = new Http1Pool(`http://127.0.0.1:${port}`);
    cleanups.push(
      () => new Promise<void>((resolve) => server.close(() => resolve())),
      () => pool.destroy(),
    );

    // Every write to the backend, as the sizes of the buffers it carries.
    const writes: number[][] = [];
    const proto = net.Socket.prototype as unknown as SocketWrites;
    const { _write, _writev } = proto;
    proto._write = function (this: net.Socket, chunk, encoding, cb) {
      if (this.remotePort === port) writes.push([chunk.length]);
      _write.call(this, chunk, encoding, cb);
    };
    proto._writev = function (this: net.Socket, chunks, cb) {
      if (this.remotePort === port) writes.push(chunks.map((c) => c.chunk.length));
      _writev.call(this, chunks, cb);
    };
    cleanups.push(async () => {
      proto._write = _write;
      proto._writev = _writev;
    });

    const body = new Readable({ read() {} });
    body.push('x'); // the first chunk goes out with the head at once
    const outcome = run(pool, {
      method: 'POST',
      headers: ['host', 'x', 'content-length', String(length)],
      body,
    });
    await expect.poll(() => received).toBe(1);
    // Eight pieces in one turn, as Node's HTTP parser hands over one read after another.
    for (let i = 0; i < 8; i++) body.push(piece);
    body.push(null);
    expect(await outcome).toMatchObject({ ending: 'end', status: 200 });
    const pieces = writes.filter((sizes) => sizes.includes(piece.length));
    // Four pieces fill the budget: the body pauses; after the drain, the other four.
    expect(pieces).toEqual([Array(4).fill(piece.length), Array(4).fill(piece.length)]);
  });

  it('answers requests after close() with an error, and close() resolves when idle', async () => {
    const { pool } = await setup(OK);
    await run(pool, {});
    await pool.close();
    const outcome = await run(pool, {});
    expect(outcome.error!.code).toBe('PIER_UPSTREAM_POOL_CLOSED');
  });

  it('never reads into memory a handler still holds, and reuses what it released', async () => {
    const body = randomBytes(4 * 1024 * 1024);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    // Written in uneven pieces, so reads are of every size.
    const server = net.createServer((socket) => {
      // One response per request (both requests may come on one connection).
      socket.on('data', async () => {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
        for (
          let offset = 0, piece = 777;
          offset < body.length;
          piece = ((piece * 13) % 90_000) + 1
        ) {
          const end = Math.min(body.length, offset + piece);
          if (!socket.write(body.subarray(offset, end)))
            await new Promise((resolve) => socket.once('drain', resolve));
          offset = end;
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const pool = new Http1Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    cleanups.push(
      () => new Promise<void>((resolve) => server.close(() => resolve())),
      () => pool.destroy(),
    );

    // Held: the chunks themselves are kept (no copy), never released.
    const held: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      pool.dispatch(
        { path: '/', method: 'GET', headers: ['host', 'x'], body: null },
        {
          onResponseData: (_c, chunk) => {
            held.push(chunk);
          },
          onResponseEnd: () => resolve(),
          onResponseError: (_c, error) => reject(error),
        },
      );
    });
    expect(held.length).toBeGreaterThan(16);
    expect(sha(Buffer.concat(held))).toBe(sha(body));

    // Released at once (after copying): the pool reads into the same memory again.
    const before = freeReadBuffers();
    const copies: Buffer[] = [];
    const seen = new Set<ArrayBufferLike>();
    await new Promise<void>((resolve, reject) => {
      pool.dispatch(
        { path: '/', method: 'GET', headers: ['host', 'x'], body: null },
        {
          onResponseData: (controller, chunk) => {
            copies.push(Buffer.from(chunk));
            seen.add(chunk.buffer);
            controller.release!(chunk);
          },
          onResponseEnd: () => resolve(),
          onResponseError: (_c, error) => reject(error),
        },
      );
    });
    expect(sha(Buffer.concat(copies))).toBe(sha(body));
    // Many reads, a handful of buffers: they were reused.
    expect(copies.length).toBeGreaterThan(16);
    expect(seen.size).toBeLessThanOrEqual(2);
    expect(freeReadBuffers()).toBeGreaterThanOrEqual(before);
  });

  describeWithSplice('a body offered for splicing (http1/body-splice.ts)', () => {
    /** A client's socket pair: the test writes `near`; `far` is the unread end a splice reads. */
    async function clientPair(): Promise<{ near: net.Socket; far: net.Socket }> {
      const server = net.createServer({ pauseOnConnect: true });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
      const near = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
      const far = await accepted;
      for (const socket of [near, far]) socket.on('error', () => {});
      cleanups.push(async () => {
        near.destroy();
        far.destroy();
        server.close();
      });
      return { near, far };
    }

    /** A body stream offering its bytes in `far` for splicing, as the listener's engine does. */
    function offered(far: net.Socket, length: number, claims: number[]): Readable {
      const body = new Readable({ read() {} });
      let relay: SpliceRelay | undefined;
      (body as Readable & { [kBodySplice]: unknown })[kBodySplice] = {
        claimSplice(contentLength: number): ClaimedBody | undefined {
          claims.push(contentLength);
          const fd = socketFd(far)!;
          return {
            ready: (callback) => callback(null),
            start: (destination, done) => {
              relay = spliceAddon()!.relay(fd, destination, length, (result, _moved, side) =>
                done(result === 0 ? null : relayError(result, side)),
              );
            },
            cancel: () => relay?.cancel(),
            moved: () => relay?.moved() ?? 0,
          };
        },
      };
      return body;
    }

    it('sends the head, lets the kernel move the body, and is not stalled while it moves', async () => {
      const length = 1024 * 1024;
      const body = randomBytes(length);
      const received = createHash('sha256');
      let got = 0;
      // A backend that answers once the whole body is in.
      const server = net.createServer((socket) => {
        let head = '';
        socket.on('data', (chunk: Buffer) => {
          if (!head.includes('\r\n\r\n')) {
            head += chunk.toString('latin1');
            const end = head.indexOf('\r\n\r\n');
            if (end === -1) return;
            chunk = Buffer.from(head.slice(end + 4), 'latin1');
            head = head.slice(0, end + 4);
          }
          received.update(chunk);
          got += chunk.length;
          if (got === length) socket.write(OK);
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const pool = new Http1Pool(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, {
        stallTimeoutMs: 300,
      });
      cleanups.push(
        () => new Promise((resolve) => server.close(resolve)),
        async () => pool.destroy(),
      );
      const { near, far } = await clientPair();
      const claims: number[] = [];
      const outcome = run(pool, {
        method: 'POST',
        headers: ['host', 'x', 'content-length', String(length)],
        body: offered(far, length, claims),
      });
      // The client sends its body over 1.2 s, in pieces: longer than stallTimeoutMs, never idle that long.
      for (let i = 0; i < 12; i++) {
        near.write(body.subarray((i * length) / 12, ((i + 1) * length) / 12));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(await outcome).toMatchObject({ ending: 'end', status: 200 });
      expect(claims).toEqual([length]);
      expect(got).toBe(length);
      expect(received.digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    });
  });
});
