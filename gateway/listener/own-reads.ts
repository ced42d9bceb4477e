// Cleartext connections read into buffers of the listener's choosing
// (net's `onread` option) instead of a stream 'data' event per read.
//
// Why: a socket's stream reads each get a fresh 64 KiB allocation, and a
// read shorter than that is copied once more into one of its size. The
// HTTP/1.1 engine hands body chunks on as views of the reads (no copy), and
// with stream reads those copies ate what that saved. Here:
//
//   - Heads and idle connections read into one buffer shared by all
//     connections (16 KiB), as node:http's parser does, and tunnels into
//     another (64 KiB): a read is handled before the next one starts, and
//     nothing keeps a view of it past its callback (keep() copies what must
//     stay). An idle connection holds no buffer.
//   - While the engine expects more body (expectBody), reads go to a 256 KiB
//     buffer of the connection's own: a quarter of the reads and JavaScript
//     calls per MiB. keep() hands a large chunk of it on as a view, and the
//     next read gets a fresh buffer; a small chunk is copied, so it does not
//     pin 256 KiB, and the buffer is read into again.
//
// net.Server has no `onread` option, so the accepted socket's handle
// (accepted paused, pauseOnConnect) moves to a net.Socket made with one;
// the emptied shell is destroyed so the server stops counting it. That
// uses net.Socket's `handle` option and `_handle`, which are not
// documented (net.Server makes its own sockets that way): the engine's
// suite (http1/server.test.ts) runs over such sockets, so a Node.js that
// changes them fails it rather than the gateway.
//
// Whoever reads the connection sets its reader (setReader). Until the
// reads are someone else's (an HTTP/2 session consumes the handle itself),
// a reader that returns false stops reading until socket.resume(). A
// reader that wants stream semantics back (a WebSocket tunnel) uses
// readAsStream().

import { Socket } from 'node:net';

/**
 * Heads and idle connections: one buffer for all connections. 16 KiB: a
 * head rarely needs more, and what a read takes of a large body after its
 * head is copied (a body the kernel moves, http1/body-splice.ts, is not
 * read at all past that).
 */
const SHARED = Buffer.allocUnsafeSlow(16 * 1024);
/** Tunnels (WebSocket): bulk both ways, so Node's usual 64 KiB reads, also shared. */
const SHARED_TUNNEL = Buffer.allocUnsafeSlow(64 * 1024);
/** Bodies: large reads into a buffer of the connection's own. */
const BODY_READ_SIZE = 256 * 1024;
/** Chunks shorter than this are copied rather than kept as views of a body buffer. */
const COPY_BELOW = 64 * 1024;

const kOwnReads = Symbol('pier.listener.ownReads');
const kReader = Symbol('pier.listener.reader');
const kExpectBody = Symbol('pier.listener.expectBody');
const kTunnel = Symbol('pier.listener.tunnel');
/** The connection's body buffer; undefined when a view of it went on (the next read takes another). */
const kBodyBuffer = Symbol('pier.listener.bodyBuffer');

type Reader = (this: Socket, chunk: Buffer) => boolean | undefined;

interface OwnReads {
  [kOwnReads]?: true;
  [kReader]?: Reader;
  [kExpectBody]?: boolean;
  [kTunnel]?: boolean;
  [kBodyBuffer]?: Buffer;
}

/** The accepted (paused) socket's connection, now read through setReader(). */
export function withOwnReads(accepted: Socket): Socket {
  const shell = accepted as unknown as { _handle: unknown };
  const handle = shell._handle;
  shell._handle = null;
  accepted.destroy();
  // Assigned before the first read: reads start on a later turn of the loop.
  let socket: Socket & OwnReads;
  socket = new Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: () => {
        if (socket?.[kExpectBody] !== true)
          return socket?.[kTunnel] === true ? SHARED_TUNNEL : SHARED;
        let body = socket[kBodyBuffer];
        if (body === undefined) {
          body = Buffer.allocUnsafeSlow(BODY_READ_SIZE);
          socket[kBodyBuffer] = body;
        }
        return body;
      },
      callback: (nread: number, read: Uint8Array) => {
        const reader = socket[kReader];
        if (reader === undefined) return false;
        return reader.call(socket, (read as Buffer).subarray(0, nread)) !== false;
      },
    },
  } as ConstructorParameters<typeof Socket>[0]) as Socket & OwnReads;
  socket[kOwnReads] = true;
  return socket;
}

export function hasOwnReads(socket: Socket): boolean {
  return (socket as Socket & OwnReads)[kOwnReads] === true;
}

/** Who gets the socket's next reads. */
export function setReader(socket: Socket, reader: Reader): void {
  (socket as Socket & OwnReads)[kReader] = reader;
}

/**
 * Whether the next reads are likely body (the engine knows): they then go
 * to the connection's own large buffer; otherwise to the shared one.
 */
export function expectBody(socket: Socket, expected: boolean): void {
  const own = socket as Socket & OwnReads;
  if (own[kOwnReads] !== true) return;
  own[kExpectBody] = expected;
  // Between bodies the connection holds no buffer.
  if (!expected) own[kBodyBuffer] = undefined;
}

/**
 * A chunk of the last read that must outlive its callback: the chunk to
 * keep. Copied when it is in the shared buffer or small; a large view of a
 * body buffer is kept as it is, and that buffer is not read into again.
 * Other sockets' chunks (TLS, stream reads) are theirs already.
 */
export function keep(socket: Socket, chunk: Buffer): Buffer {
  const own = socket as Socket & OwnReads;
  if (own[kOwnReads] !== true) return chunk;
  if (
    chunk.buffer === SHARED.buffer ||
    chunk.buffer === SHARED_TUNNEL.buffer ||
    chunk.length < COPY_BELOW
  )
    return Buffer.from(chunk);
  own[kBodyBuffer] = undefined;
  return chunk;
}

function pushRead(this: Socket, chunk: Buffer): boolean {
  return this.push(keep(this, chunk));
}

/** From here on the reads are the socket's stream data ('data', pipe), as for any socket. */
export function readAsStream(socket: Socket): void {
  expectBody(socket, false);
  (socket as Socket & OwnReads)[kTunnel] = true;
  setReader(socket, pushRead);
}
