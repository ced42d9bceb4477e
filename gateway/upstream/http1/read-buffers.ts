// Reusable read buffers for upstream sockets. Node allocates a fresh 64 KiB
// ArrayBuffer for every socket read; at a few hundred MiB/s of response
// bodies that external memory makes V8 run a full mark-compact every
// ~100 ms (measured: 600-900 µs of user CPU per proxied MiB, most of it GC,
// against 120-200 µs with reused buffers). So upstream sockets read into
// buffers of their own (net's `onread` option) and reuse them.
//
// A buffer is reused only when nothing still refers to what was read into
// it: every chunk handed to a handler counts as held until the handler
// releases it (UpstreamController.release, once its write to the client has
// completed). A handler that never releases keeps its buffers out of reuse
// for good (the garbage collector frees them): safe by default.

const SIZE = 64 * 1024;
/** Idle buffers kept for reuse at most (4 MiB). */
const FREE_MAX = 64;

const kReadBuffer = Symbol('pier.http1.readBuffer');

export class ReadBuffer {
  readonly buffer: Buffer;
  /** Chunks of it handed to handlers and not yet released. */
  held = 0;
  /** A socket reads into it now. */
  reading = false;
  constructor() {
    this.buffer = Buffer.allocUnsafeSlow(SIZE);
    (this.buffer.buffer as ArrayBuffer & { [kReadBuffer]?: ReadBuffer })[kReadBuffer] = this;
  }
}

const free: ReadBuffer[] = [];

function ownerOf(chunk: Buffer): ReadBuffer | undefined {
  return (chunk.buffer as ArrayBuffer & { [kReadBuffer]?: ReadBuffer })[kReadBuffer];
}

/** A buffer for a socket to read into. */
export function takeReadBuffer(): ReadBuffer {
  const buffer = free.pop() ?? new ReadBuffer();
  buffer.reading = true;
  return buffer;
}

/** The socket is done with it (it read into another, or closed). */
export function stopReading(buffer: ReadBuffer): void {
  buffer.reading = false;
  if (buffer.held === 0 && free.length < FREE_MAX) free.push(buffer);
}

/** A chunk (a view of a read buffer, or any other Buffer) goes to a handler. */
export function holdChunk(chunk: Buffer): void {
  const owner = ownerOf(chunk);
  if (owner !== undefined) owner.held++;
}

/** The handler is done with a chunk it was given: its memory may be read into again. */
export function releaseChunk(chunk: Buffer): void {
  const owner = ownerOf(chunk);
  if (owner === undefined || owner.held === 0) return;
  owner.held--;
  if (owner.held === 0 && !owner.reading && free.length < FREE_MAX) free.push(owner);
}

/** For tests: buffers waiting for reuse. */
export function freeReadBuffers(): number {
  return free.length;
}
