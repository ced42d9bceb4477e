// Cleartext connections read into buffers of the listener's choosing
// (net's `onread` option) instead of a stream 'data' event per read.
//
// Why: a socket's stream reads each get a fresh 64 KiB allocation, and a
// read shorter than that is copied once more into one of its size. The
// HTTP/1.1 engine hands body chunks on as views of the reads (no copy), and
// with stream reads those copies ate what that saved. Here heads are read
// into one small buffer, reused for as long as nothing keeps a view of it
// past the read (a head is parsed into strings), and bodies in 256 KiB
// reads, a fresh buffer each (their chunks go on as views): a quarter of
// the reads and JavaScript calls per MiB. Whoever keeps a view of a read
// says so with keepView(); the next read then goes to another buffer.
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

/** Heads, and idle connections: a small buffer, reused from read to read. */
const HEAD_READ_SIZE = 16 * 1024;
/** Bodies: large reads, fewer of them (a fresh buffer each, as views of it go on). */
const BODY_READ_SIZE = 256 * 1024;

const kOwnReads = Symbol('pier.listener.ownReads');
const kReader = Symbol('pier.listener.reader');
const kKeptView = Symbol('pier.listener.keptView');

type Reader = (this: Socket, chunk: Buffer) => boolean | undefined;

interface OwnReads {
  [kOwnReads]?: true;
  [kReader]?: Reader;
  [kKeptView]?: boolean;
}

/** The accepted (paused) socket's connection, now read through setReader(). */
export function withOwnReads(accepted: Socket): Socket {
  const shell = accepted as unknown as { _handle: unknown };
  const handle = shell._handle;
  shell._handle = null;
  accepted.destroy();
  let buffer = Buffer.allocUnsafeSlow(HEAD_READ_SIZE);
  // Assigned before the first read: reads start on a later turn of the loop.
  let socket: Socket & OwnReads;
  socket = new Socket({
    handle,
    readable: true,
    writable: true,
    onread: {
      buffer: () => {
        if (socket?.[kKeptView] === true) {
          // A body is passing: the next read is likely more of it.
          socket[kKeptView] = false;
          buffer = Buffer.allocUnsafeSlow(BODY_READ_SIZE);
        } else if (buffer.length !== HEAD_READ_SIZE) {
          buffer = Buffer.allocUnsafeSlow(HEAD_READ_SIZE);
        }
        return buffer;
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

/** A view of the last read outlives its callback: the next read goes to a new buffer. */
export function keepView(socket: Socket): void {
  (socket as Socket & OwnReads)[kKeptView] = true;
}

function pushRead(this: Socket, chunk: Buffer): boolean {
  keepView(this);
  return this.push(chunk);
}

/** From here on the reads are the socket's stream data ('data', pipe), as for any socket. */
export function readAsStream(socket: Socket): void {
  setReader(socket, pushRead);
}
