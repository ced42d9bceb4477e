// One keep-alive HTTP/1.1 connection to an endpoint, carrying one request at
// a time (no pipelining), and the request as it runs on it. The request
// object is also the controller its handler gets: no other object is made
// per request besides the head text and the parsed response headers.
//
//   dispatch ─> Http1Request ─> connection.start(): onRequestStart, write head (+ body)
//   socket 'data' ─> ResponseParser ─> onResponseStart / onResponseData / onResponseEnd
//   response complete, body sent, keep-alive ─> back to the pool; else the socket closes
//
// Socket and body listeners are module functions that find their connection
// or request through a symbol: nothing is bound or closed over per request.
//
// Over TLS (the pool has tls options) the connection counts as connected at
// 'secureConnect': an error between the TCP connect and then is a TLS
// failure (tlsFailure: "TLS to ip:port failed: why"), still before
// onRequestStart, so the forwarder treats it as a failure to connect. net's
// `onread` user buffers work on a TLSSocket too (Node 24 hands them to the
// TLS wrap, which decrypts into them, a TLS record, at most 16 KiB, per
// read), so TLS responses go into the reusable buffers as TCP ones do.

import { connect, type NetConnectOpts, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import { type ClaimedBody, claimBodySplice, type SpliceError } from '../../http1/body-splice.ts';
import { socketFd } from '../../native/splice.ts';
import { tlsFailure, tlsTimeout } from '../backend-tls.ts';
import {
  connectTimeoutError,
  type ResponseHeaders,
  UPSTREAM_SOCKET_OPTIONS,
  type UpstreamController,
  type UpstreamDispatchOptions,
  type UpstreamHandler,
  upstreamError,
} from '../dispatcher.ts';
import {
  holdChunk,
  type ReadBuffer,
  releaseChunk,
  stopReading,
  takeReadBuffer,
} from './read-buffers.ts';
import type { RequestHead } from './request-head.ts';
import { type ResponseHead, ResponseParser, type ResponseSink } from './response-parser.ts';

const kConnection = Symbol('pier.http1.connection');
const kRequest = Symbol('pier.http1.request');

const NO_TRAILERS: ResponseHeaders = Object.freeze(Object.create(null));
const LAST_CHUNK = '0\r\n\r\n';

// How much of a request body may wait in an upstream socket's buffer before
// the client is paused. A client's body arrives in 64 KiB pieces (Node's HTTP
// parser reads that much at a time); a few of them per write keep the
// client's socket read and make the writes to the backend large. Node's
// default, 16 KiB, paused the client after every piece: with 50 clients
// each uploading 1 MiB through one worker, 256 KiB gave 1,330-1,490 req/s
// where 16 KiB gave 1,140 (gateway/README.md, Performance). It bounds the
// memory an upload holds here, as nginx's client_body_buffer_size does.
const BODY_WRITE_BUDGET = 256 * 1024;

/** What a connection needs of its pool. */
export interface ConnectionOwner {
  readonly address: string;
  readonly port: number;
  /** `ip:port`, for error messages. */
  readonly endpoint: string;
  /** tls.connect options (backend-tls.ts); undefined: plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  /** The TLS session the next connection resumes; each connection updates it. */
  tlsSession: Buffer | undefined;
  readonly connectTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
  /** The pool's coarse clock (ticks of its sweep timer). */
  readonly ticks: number;
  /** The connection finished a request and may take another. */
  released(connection: Http1Connection): void;
  /** The connection is gone (closed, failed or handed over by an upgrade). */
  gone(connection: Http1Connection): void;
}

type BodyStream = Readable & { [kRequest]?: Http1Request };
type ConnectionSocket = Socket & { [kConnection]?: Http1Connection };

/** One request: its options, handler and progress; the controller its handler gets. */
export class Http1Request implements UpstreamController {
  readonly options: UpstreamDispatchOptions;
  readonly handler: UpstreamHandler;
  readonly head: RequestHead;
  connection: Http1Connection | null = null;
  /** A final callback (end, error, upgrade) was delivered: nothing more is. */
  ended = false;
  aborted = false;
  paused = false;
  /** The whole body was written (or there was none). */
  bodyDone = false;
  bodyBytes = 0;
  /** A streamed body's request head is not written yet (connection.start says why). */
  headPending = false;
  /** The body stream waits for the socket's 'drain'. */
  bodyWaiting = false;
  body: BodyStream | null = null;
  /** The body the kernel is moving from the client's socket (http1/body-splice.ts). */
  bodySplice: ClaimedBody | null = null;
  /** Set by the pool while the request waits for a connection. */
  onAbortQueued: ((request: Http1Request, reason: Error) => void) | null = null;

  constructor(options: UpstreamDispatchOptions, handler: UpstreamHandler, head: RequestHead) {
    this.options = options;
    this.handler = handler;
    this.head = head;
  }

  abort(reason: Error): void {
    if (this.ended) return;
    this.aborted = true;
    const connection = this.connection;
    if (connection !== null) connection.abortRequest(this, reason);
    else this.onAbortQueued?.(this, reason);
  }

  /** The handler is done with a chunk from onResponseData (read-buffers.ts); needs no `this`. */
  release(chunk: Buffer): void {
    releaseChunk(chunk);
  }

  // A handler may still hold its controller after its request ended and
  // the connection went on to another: only the running request steers it.
  pause(): void {
    this.paused = true;
    const connection = this.connection;
    if (connection?.request === this) connection.socket.pause();
  }

  resume(): void {
    this.paused = false;
    const connection = this.connection;
    if (connection?.request === this) connection.socket.resume();
  }

  /** Ends the request with an error, once. */
  error(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.detachBody();
    this.handler.onResponseError?.(this, error);
  }

  detachBody(): void {
    const splice = this.bodySplice;
    if (splice !== null) {
      this.bodySplice = null;
      splice.cancel();
    }
    const body = this.body;
    if (body === null) return;
    this.body = null;
    body[kRequest] = undefined;
    body.removeListener('data', onBodyData);
    body.removeListener('end', onBodyEnd);
    body.removeListener('error', onBodyError);
    body.removeListener('close', onBodyClose);
  }
}

function onSocketConnect(this: ConnectionSocket): void {
  this[kConnection]?.onConnect();
}
function onSocketData(this: ConnectionSocket, chunk: Buffer): void {
  this[kConnection]?.onData(chunk);
}
function onSocketEnd(this: ConnectionSocket): void {
  this[kConnection]?.onEnd();
}
function onSocketTcpConnect(this: ConnectionSocket): void {
  const connection = this[kConnection];
  if (connection !== undefined) connection.handshaking = true;
}
function onSocketSession(this: ConnectionSocket, session: Buffer): void {
  const connection = this[kConnection];
  if (connection !== undefined) connection.owner.tlsSession = session;
}
function onSocketError(this: ConnectionSocket, error: Error): void {
  const connection = this[kConnection];
  if (connection !== undefined && connection.socketError === null)
    connection.socketError = connection.handshaking
      ? tlsFailure(connection.owner.endpoint, error)
      : error;
}
function onSocketClose(this: ConnectionSocket): void {
  this[kConnection]?.onClose();
}
function flushBodyBatch(connection: Http1Connection): void {
  connection.batching = false;
  connection.socket.uncork();
}
function onSocketDrain(this: ConnectionSocket): void {
  const request = this[kConnection]?.request;
  if (request?.bodyWaiting === true) {
    request.bodyWaiting = false;
    request.body?.resume();
  }
}
function onConnectTimeout(connection: Http1Connection): void {
  connection.connectTimer = undefined;
  const ms = connection.owner.connectTimeoutMs;
  const error = connection.handshaking
    ? tlsTimeout(connection.owner.endpoint, ms)
    : connectTimeoutError(ms);
  connection.socketError ??= error;
  connection.socket.destroy(error);
}

function onBodyData(this: BodyStream, chunk: Buffer): void {
  const request = this[kRequest];
  if (request !== undefined) request.connection?.writeBodyChunk(request, chunk);
}
function onBodyEnd(this: BodyStream): void {
  const request = this[kRequest];
  if (request !== undefined) request.connection?.endBody(request);
}
function onBodyError(this: BodyStream, error: Error): void {
  const request = this[kRequest];
  if (request !== undefined)
    request.abort(upstreamError('PIER_REQUEST_BODY_ABORTED', 'the request body broke off', error));
}
function onBodyClose(this: BodyStream): void {
  const request = this[kRequest];
  if (request !== undefined && !request.bodyDone)
    request.abort(upstreamError('PIER_REQUEST_BODY_ABORTED', 'the request body broke off'));
}

export class Http1Connection implements ResponseSink {
  readonly owner: ConnectionOwner;
  readonly socket: ConnectionSocket;
  readonly parser: ResponseParser;
  request: Http1Request | null = null;
  connected = false;
  /** TLS: the TCP connect is done, the handshake is not. */
  handshaking = false;
  closed = false;
  socketError: Error | null = null;
  connectTimer: NodeJS.Timeout | undefined = undefined;
  /** Pool ticks when it went idle, or when the running request last made progress (either way). */
  since = 0;
  idleTimeoutMs: number;
  /** The current response's head. */
  response: ResponseHead | null = null;
  /** The response completed inside the current read; settled after the parser returns. */
  completed = false;

  /** The buffer the socket reads into (null: Node allocates one per read). */
  readBuffer: ReadBuffer | null = null;
  /** Body writes are corked until the event loop's check phase (batchBodyWrites). */
  batching = false;
  /** A splice's progress when the pool last looked (spliceProgress). */
  splicedBytes = 0;

  /**
   * `userBuffers`: read into reusable buffers (read-buffers.ts). Not for a
   * connection that may be handed over by an upgrade: its new owner needs
   * 'data' events.
   */
  constructor(owner: ConnectionOwner, request: Http1Request, userBuffers: boolean) {
    this.owner = owner;
    this.idleTimeoutMs = owner.keepAliveTimeoutMs;
    this.parser = new ResponseParser({ maxHeaderBytes: owner.maxHeaderBytes });
    this.request = request;
    request.connection = this;
    // One closure pair per connection, not per read or request.
    const onread = userBuffers
      ? {
          buffer: () => this.nextReadBuffer(),
          callback: (bytes: number, buffer: Uint8Array) => {
            this.onData((buffer as Buffer).subarray(0, bytes));
            return true;
          },
        }
      : undefined;
    const tls = owner.tls;
    const socket: ConnectionSocket =
      tls === undefined
        ? connect({
            host: owner.address,
            port: owner.port,
            ...UPSTREAM_SOCKET_OPTIONS,
            writableHighWaterMark: BODY_WRITE_BUDGET,
            onread,
          } as NetConnectOpts)
        : // tls.connect takes no writableHighWaterMark: highWaterMark sets
          // both sides (the readable one matters only while paused). It hands
          // noDelay, keepAlive and onread to the socket; @types/node omits them.
          tlsConnect({
            ...tls,
            host: owner.address,
            port: owner.port,
            session: owner.tlsSession,
            ...UPSTREAM_SOCKET_OPTIONS,
            highWaterMark: BODY_WRITE_BUDGET,
            onread,
          } as ConnectionOptions);
    socket[kConnection] = this;
    if (tls === undefined) {
      socket.on('connect', onSocketConnect);
    } else {
      socket.once('connect', onSocketTcpConnect);
      socket.on('secureConnect', onSocketConnect);
      socket.on('session', onSocketSession);
    }
    socket.on('data', onSocketData);
    socket.on('end', onSocketEnd);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('drain', onSocketDrain);
    this.socket = socket;
    if (owner.connectTimeoutMs > 0)
      this.connectTimer = setTimeout(onConnectTimeout, owner.connectTimeoutMs, this);
  }

  /** Where the next read goes: the same buffer unless a handler still holds part of it. */
  nextReadBuffer(): Buffer {
    const current = this.readBuffer;
    if (current !== null) {
      if (current.held === 0) return current.buffer;
      stopReading(current);
    }
    const next = takeReadBuffer();
    this.readBuffer = next;
    return next.buffer;
  }

  onConnect(): void {
    if (this.connectTimer !== undefined) {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
    this.connected = true;
    this.handshaking = false;
    const request = this.request;
    if (request === null) {
      // Its request was aborted while connecting: keep the connection for the next.
      this.owner.released(this);
      return;
    }
    this.start(request);
  }

  /** Runs a request on this (connected, free) connection. */
  start(request: Http1Request): void {
    this.request = request;
    request.connection = this;
    request.onAbortQueued = null;
    this.since = this.owner.ticks;
    this.response = null;
    const options = request.options;
    this.parser.reset(options.method, options.upgrade !== undefined, this);
    request.handler.onRequestStart?.(request, undefined);
    if (request.ended) return; // aborted by its handler
    if (request.paused) this.socket.pause();
    const socket = this.socket;
    const body = options.body;
    if (body === null) {
      request.bodyDone = true;
      socket.write(request.head.text, 'latin1');
    } else if (Buffer.isBuffer(body)) {
      request.bodyDone = true;
      request.bodyBytes = body.length;
      socket.cork();
      socket.write(request.head.text, 'latin1');
      socket.write(body);
      socket.uncork();
    } else if (this.owner.tls === undefined && this.spliceBody(request, body as BodyStream)) {
      // The kernel moves the body (spliceBody).
    } else {
      // The head waits for the body's first bytes (or its end): then both go
      // in one write, and a body that Node's parser finds malformed fails
      // the request before anything reached the backend. (nginx by default
      // waits for the whole body; a client that waits for 100 Continue got
      // it from forward() before this attempt.)
      request.headPending = true;
      const stream = body as BodyStream;
      request.body = stream;
      stream[kRequest] = request;
      stream.on('data', onBodyData);
      stream.on('end', onBodyEnd);
      stream.on('error', onBodyError);
      stream.on('close', onBodyClose);
    }
  }

  /**
   * A body the client's connection offers for splicing: the head and what
   * was read of the body are written, then the kernel moves the rest
   * straight from the client's socket into this one. False: not offered.
   */
  spliceBody(request: Http1Request, body: BodyStream): boolean {
    const length = request.head.contentLength;
    if (length <= 0) return false;
    const claimed = claimBodySplice(body, length);
    if (claimed === undefined) return false;
    request.bodySplice = claimed;
    request.bodyBytes = length;
    claimed.ready((buffered) => this.writeSplicedHead(request, claimed, buffered));
    return true;
  }

  /** The head and the body read so far; the splice starts once libuv has written them. */
  writeSplicedHead(request: Http1Request, claimed: ClaimedBody, buffered: Buffer | null): void {
    if (request.bodySplice !== claimed) return; // ended meanwhile (detachBody cancelled it)
    const socket = this.socket;
    if (buffered === null) {
      socket.write(request.head.text, 'latin1', () => this.startSplice(request, claimed));
      return;
    }
    socket.cork();
    socket.write(request.head.text, 'latin1');
    socket.write(buffered, () => this.startSplice(request, claimed));
    socket.uncork();
  }

  startSplice(request: Http1Request, claimed: ClaimedBody): void {
    if (request.bodySplice !== claimed) return; // ended meanwhile (detachBody cancelled it)
    if (request !== this.request) {
      request.bodySplice = null;
      claimed.cancel();
      return;
    }
    const fd = socketFd(this.socket);
    if (fd === undefined) {
      // Closed under the write's callback; fail() cancels the claim.
      this.fail(
        upstreamError('PIER_UPSTREAM_CLOSED', 'the connection closed before the body went'),
      );
      return;
    }
    claimed.start(fd, (error) => this.spliceEnded(request, claimed, error));
  }

  spliceEnded(request: Http1Request, claimed: ClaimedBody, error: SpliceError | null): void {
    if (request.bodySplice !== claimed) return; // cancelled here: the request is over
    request.bodySplice = null;
    this.since = this.owner.ticks;
    if (request !== this.request || request.ended) return;
    if (error === null) {
      request.bodyDone = true;
      return;
    }
    if (error.side === 'destination') {
      this.fail(error);
      return;
    }
    request.abort(upstreamError('PIER_REQUEST_BODY_ABORTED', 'the request body broke off', error));
  }

  /** A splice under way moved bytes since the last look: the request made progress. */
  spliceProgress(): boolean {
    const splice = this.request?.bodySplice;
    if (splice === null || splice === undefined) return false;
    const moved = splice.moved();
    if (moved === this.splicedBytes) return false;
    this.splicedBytes = moved;
    return true;
  }

  writeBodyChunk(request: Http1Request, chunk: Buffer): void {
    if (request !== this.request || request.ended) return;
    const length = request.head.contentLength;
    request.bodyBytes += chunk.length;
    if (length >= 0 && request.bodyBytes > length) {
      request.abort(
        upstreamError(
          'PIER_REQUEST_CONTENT_LENGTH_MISMATCH',
          `request body longer than its content-length ${length}`,
        ),
      );
      return;
    }
    if (chunk.length === 0) return;
    // Progress: a long upload to a backend that answers at the end is not stalled.
    this.since = this.owner.ticks;
    const socket = this.socket;
    let ok: boolean;
    // The first chunk goes out with the head at once: most bodies are one chunk.
    if (!request.headPending) this.batchBodyWrites();
    if (length >= 0 && !request.headPending) {
      ok = socket.write(chunk);
    } else {
      socket.cork();
      if (request.headPending) {
        request.headPending = false;
        socket.write(request.head.text, 'latin1');
      }
      if (length >= 0) {
        ok = socket.write(chunk);
      } else {
        socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
        socket.write(chunk);
        ok = socket.write('\r\n', 'latin1');
      }
      socket.uncork();
    }
    if (!ok) {
      request.bodyWaiting = true;
      request.body?.pause();
    }
  }

  /**
   * Body chunks read in one turn of the event loop go to the backend in one
   * writev: the socket stays corked until the check phase, after every read
   * of this turn's poll. Per 1 MiB upload that is a few syscalls and wake-ups
   * of the backend instead of sixteen, and it kept the upload benchmark's p99
   * at 50-70 ms where plain writes had 90-300 ms.
   */
  batchBodyWrites(): void {
    if (this.batching) return;
    this.batching = true;
    this.socket.cork();
    setImmediate(flushBodyBatch, this);
  }

  endBody(request: Http1Request): void {
    if (request !== this.request || request.ended) return;
    const length = request.head.contentLength;
    if (length >= 0 && request.bodyBytes !== length) {
      request.abort(
        upstreamError(
          'PIER_REQUEST_CONTENT_LENGTH_MISMATCH',
          `request body of ${request.bodyBytes} bytes for content-length ${length}`,
        ),
      );
      return;
    }
    if (request.headPending) {
      request.headPending = false;
      this.socket.write(length < 0 ? request.head.text + LAST_CHUNK : request.head.text, 'latin1');
    } else if (length < 0) {
      this.socket.write(LAST_CHUNK, 'latin1');
    }
    request.bodyDone = true;
    request.detachBody();
  }

  onData(chunk: Buffer): void {
    const request = this.request;
    if (request === null) {
      // Bytes on an idle connection: nothing was asked; it cannot be trusted.
      this.socket.destroy();
      return;
    }
    this.since = this.owner.ticks;
    try {
      this.parser.execute(chunk);
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (this.completed) this.settle();
  }

  onEnd(): void {
    if (this.request === null) return; // idle: 'close' follows
    try {
      this.parser.finish();
    } catch (error) {
      this.fail(error as Error);
      return;
    }
    if (this.completed) this.settle();
  }

  onClose(): void {
    if (this.connectTimer !== undefined) {
      clearTimeout(this.connectTimer);
      this.connectTimer = undefined;
    }
    const wasClosed = this.closed;
    this.closed = true;
    if (this.readBuffer !== null) {
      stopReading(this.readBuffer);
      this.readBuffer = null;
    }
    const request = this.request;
    if (request !== null) {
      this.request = null;
      this.parser.stop();
      request.error(
        this.socketError ??
          upstreamError(
            'PIER_UPSTREAM_CLOSED',
            'the connection closed before the response was complete',
          ),
      );
    }
    if (!wasClosed) this.owner.gone(this);
  }

  /** Closes the connection; a request on it gets `error`. */
  fail(error: Error): void {
    const request = this.request;
    this.request = null;
    this.parser.stop();
    this.destroy();
    if (request !== null) request.error(error);
  }

  abortRequest(request: Http1Request, reason: Error): void {
    if (request !== this.request) {
      // A request this connection no longer runs: nothing of it to stop here.
      if (!request.ended) request.error(reason);
      return;
    }
    this.fail(reason);
  }

  destroy(): void {
    if (!this.socket.destroyed) this.socket.destroy();
    if (!this.closed) {
      this.closed = true;
      this.owner.gone(this);
    }
  }

  // --- ResponseSink ---

  onHead(head: ResponseHead): void {
    this.response = head;
    const request = this.request;
    if (request !== null)
      request.handler.onResponseStart?.(request, head.statusCode, head.headers, head.statusMessage);
  }

  onBody(chunk: Buffer): void {
    const request = this.request;
    if (request === null) return;
    const onData = request.handler.onResponseData;
    if (onData === undefined) return;
    // Held until the handler releases it (never, if it does not).
    holdChunk(chunk);
    onData.call(request.handler, request, chunk);
  }

  onComplete(trailers: ResponseHeaders | undefined): void {
    const request = this.request;
    if (request === null) return;
    this.completed = true;
    request.ended = true;
    request.handler.onResponseEnd?.(request, trailers ?? NO_TRAILERS);
  }

  onUpgrade(head: ResponseHead, rest: Buffer): void {
    const request = this.request;
    this.request = null;
    const socket = this.socket;
    // Hand the socket over paused, with no listener of ours and the bytes
    // read past the 101 put back: nothing is lost before the handler pipes
    // or resumes it.
    socket.pause();
    socket[kConnection] = undefined;
    socket.removeListener('connect', onSocketConnect);
    socket.removeListener('secureConnect', onSocketConnect);
    socket.removeListener('session', onSocketSession);
    socket.removeListener('data', onSocketData);
    socket.removeListener('end', onSocketEnd);
    socket.removeListener('error', onSocketError);
    socket.removeListener('close', onSocketClose);
    socket.removeListener('drain', onSocketDrain);
    if (rest.length > 0) socket.unshift(rest);
    this.closed = true;
    this.owner.gone(this);
    if (request === null) {
      socket.destroy();
      return;
    }
    request.ended = true;
    request.detachBody();
    if (request.handler.onRequestUpgrade === undefined) {
      socket.destroy();
      request.handler.onResponseError?.(
        request,
        upstreamError('PIER_UPSTREAM_UPGRADE', 'unexpected upgrade'),
      );
      return;
    }
    request.handler.onRequestUpgrade(request, head.statusCode, head.headers, socket);
  }

  /** After a complete response: back to the pool, or closed. */
  settle(): void {
    this.completed = false;
    const request = this.request;
    this.request = null;
    const head = this.response;
    let reusable =
      head?.keepAlive === true &&
      !this.parser.extraBytes &&
      request?.bodyDone === true &&
      !this.closed;
    if (request !== null && !request.bodyDone) request.detachBody();
    if (reusable && head!.keepAliveTimeoutMs >= 0) {
      // The backend's own idle timeout, less a second for the race with its close.
      const limit = head!.keepAliveTimeoutMs - 1000;
      if (limit <= 0) reusable = false;
      else this.idleTimeoutMs = Math.min(this.owner.keepAliveTimeoutMs, limit);
    }
    if (!reusable) {
      this.destroy();
      return;
    }
    if (request?.paused === true) this.socket.resume();
    this.since = this.owner.ticks;
    this.owner.released(this);
  }
}
