// Pier's HTTP/1.1 server engine: the listener hands it each HTTP/1.1
// connection (cleartext, or TLS after the handshake) in place of a
// node:http server. It parses requests with request-parser.ts and gives the
// handlers Node's own IncomingMessage and ServerResponse, so everything
// behind the listener sees what node:http would give it.
//
// Why not node:http: its parser copies every body piece out of the socket's
// read buffer (Buffer::Copy in on_body). For uploads that copy was 12% of
// a worker's time; request-parser.ts hands on views of the socket's reads.
// Measured on the 1 MiB upload benchmark: 10-13% less CPU per request
// (gateway/README.md, Performance).
//
// Per connection, one request at a time (RFC 9112 9.3.2 pipelining: bytes
// of the next request wait, unparsed, until the current response is
// finished, as node:http does):
//
//   head ─> IncomingMessage + ServerResponse ─> events.request
//   body ─> req.push (a false return stops reading until the handler reads)
//   response 'finish' ─> body still coming? it is read and dropped first
//                      ─> next request, keep-alive idle, or close
//
// Node's semantics kept: Expect: 100-continue reaches the handler
// unanswered (checkContinue) and a final answer without 100 closes the
// connection; other expectations get 417; HTTP/1.0 keeps alive only when
// asked; an upgrade the server takes hands over the socket and the bytes
// after the head; CONNECT goes to events.connect. Timeouts as node:http
// has them, checked by one interval timer for all connections rather than
// a timer per request: a head must arrive within headersTimeoutMs (of the
// connection's start, or of its first byte after a response), the whole
// request within requestTimeoutMs, and an idle keep-alive connection
// closes a second after keepAliveTimeoutMs.

import { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import {
  type BodySpliceSource,
  type ClaimedBody,
  kBodySplice,
  type SpliceError,
} from '../../http1/body-splice.ts';
import type { FieldMap } from '../../http1/message-parser.ts';
import { relayError, type SpliceRelay, socketFd, spliceAddon } from '../../native/splice.ts';
import { expectBody, hasOwnReads, keep, readAsStream, setReader } from '../own-reads.ts';
import {
  type RequestHead,
  RequestParseError,
  RequestParser,
  type RequestSink,
} from './request-parser.ts';

export interface Http1ServerOptions {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  /** 0: no limit. */
  requestTimeoutMs: number;
  /** 0: idle connections stay open. */
  keepAliveTimeoutMs: number;
  /** Whether an Upgrade request is taken as one (else it is served as a plain request). */
  shouldUpgrade(req: IncomingMessage): boolean;
  /** Offer large bodies on cleartext connections for splicing, when the addon is there. */
  bodySplice: boolean;
}

/** What node:http would emit; `clientError` gets the same (error, socket) as its event. */
export interface Http1ServerEvents {
  request(req: IncomingMessage, res: ServerResponse): void;
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
  connect(req: IncomingMessage, socket: Socket, head: Buffer): void;
  clientError(error: NodeJS.ErrnoException, socket: Socket): void;
  /** A body's splice ended (not node:http's): `bytes` asked for; null: all moved. */
  bodySpliced?(bytes: number, error: SpliceError | null): void;
}

export interface Http1Server {
  /** Serves a connection; `head`: bytes already read from it. */
  serve(socket: Socket, head: Buffer | undefined): void;
  /** Stops the timeout checks (connections are the listener's to close). */
  close(): void;
}

/** ServerResponse fields node:http sets and its _storeHeader and writeHead read. */
interface NodeServerResponse extends ServerResponse {
  /** Advertised as Keep-Alive: timeout=N. */
  _keepAliveTimeout: number;
  /** A final response without 100 Continue closes the connection. */
  _expect_continue: boolean;
  /** The head written says the connection closes after this response. */
  _last: boolean;
  _closed: boolean;
}

interface NodeIncomingMessage extends IncomingMessage {
  upgrade: boolean;
  _addHeaderLines(headers: string[], n: number): void;
  _dumpAndCloseReadable?(): void;
  _dump(): void;
  _consuming: boolean;
}

const kConnection = Symbol('pier.http1.server.connection');
const EMPTY = Buffer.alloc(0);

/**
 * Content-Length bodies this large are offered for splicing
 * (http1/body-splice.ts). Smaller ones mostly came whole with their head,
 * and a splice's pipe and polls cost more than copying them.
 */
export const SPLICE_MIN_BYTES = 64 * 1024;

/** The request stream asks for more body: the connection reads again. */
class PierIncomingMessage extends IncomingMessage {
  [kConnection]: { bodyWanted(): void } | undefined;
  [kBodySplice]?: BodySpliceSource;
  override _read(): void {
    (this as unknown as NodeIncomingMessage)._consuming = true;
    this[kConnection]?.bodyWanted();
  }
}

/** A held body's reader arrived ('data' or 'readable' listener, resume): it gets a stream. */
function onHeldListener(this: PierIncomingMessage, event: string | symbol): void {
  if (event === 'data' || event === 'readable') releaseHeld(this);
}
function onHeldResume(this: PierIncomingMessage): void {
  releaseHeld(this);
}
function releaseHeld(req: PierIncomingMessage): void {
  (req[kBodySplice] as { release(): void } | undefined)?.release();
}

function timeoutError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('request timeout');
  error.code = 'ERR_HTTP_REQUEST_TIMEOUT';
  return error;
}

function abortedError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('aborted');
  error.code = 'ECONNRESET';
  return error;
}

function fieldsToRaw(fields: FieldMap): string[] {
  const raw: string[] = [];
  for (const name of Object.keys(fields)) {
    const value = fields[name]!;
    if (typeof value === 'string') raw.push(name, value);
    else for (const v of value) raw.push(name, v);
  }
  return raw;
}

export function createHttp1Server(
  options: Http1ServerOptions,
  events: Http1ServerEvents,
): Http1Server {
  const connections = new Set<Connection>();
  const interval = Math.max(100, Math.min(1000, options.headersTimeoutMs / 4));
  const checker = setInterval(() => {
    const now = performance.now();
    for (const connection of connections) connection.checkTimeouts(now);
  }, interval);
  checker.unref();

  function onData(this: Socket & { [kConnection]?: Connection }, chunk: Buffer): void {
    this[kConnection]?.onData(chunk);
  }

  function onOwnRead(this: Socket & { [kConnection]?: Connection }, chunk: Buffer): undefined {
    this[kConnection]?.onData(chunk);
    return undefined;
  }

  function onDrain(this: Socket & { [kConnection]?: Connection }): void {
    const res = this[kConnection]?.res;
    // node:http tells a response whose write returned false; it cannot be
    // asked here which did, so any unfinished one hears it (its writers
    // treat a drain they did not wait for as nothing).
    if (res?.writableNeedDrain) res.emit('drain');
  }

  function onEnd(this: Socket & { [kConnection]?: Connection }): void {
    this[kConnection]?.onEnd();
  }

  function onClose(this: Socket & { [kConnection]?: Connection }): void {
    const connection = this[kConnection];
    if (connection === undefined) return;
    connections.delete(connection);
    connection.onClose();
  }

  function onResponseFinish(this: NodeServerResponse & { [kConnection]?: Connection }): void {
    this[kConnection]?.onResponseFinish(this);
  }

  class Connection implements RequestSink, BodySpliceSource {
    readonly socket: Socket & { [kConnection]?: Connection };
    readonly parser: RequestParser;
    req: PierIncomingMessage | undefined;
    res: NodeServerResponse | undefined;
    /** Bytes read past the current request, parsed once its response is finished. */
    stash: Buffer | undefined;
    /** When the current head's first byte came; 0: not in a head. */
    headStart = 0;
    /** When the current request's head came; 0: its body is complete. */
    requestStart = 0;
    /** The request stream wants no more for now. */
    bodyFull = false;
    /** The response is finished; what is left of the body is read and dropped. */
    dumping = false;
    /** That body ended: feed() goes on to the next request. */
    dumped = false;
    /** The connection is the upgrade's or CONNECT's now, or closing. */
    gone = false;
    /** An upgrade or CONNECT the head asked for, handed over after execute(). */
    takeover: { req: IncomingMessage; connect: boolean } | undefined;
    readingPaused = false;
    /** A large body waits unread in the socket, offered for splicing (http1/body-splice.ts). */
    held = false;
    /** The kernel is moving the body: the socket is not read meanwhile. */
    splice: SpliceRelay | undefined;
    /** The body was claimed for splicing and the splice has not ended. */
    splicing = false;
    /** A splice failed: how much of the body the client sent is unknown, so no next request. */
    spliceBroken = false;
    /** Body bytes read after a splice claim, before ClaimedBody.ready (they go to the claimant). */
    claimedChunks: Buffer[] | undefined;
    /** Inside parser.execute(): the read's body bytes are not all pushed yet. */
    feeding = false;
    /** A claimed body waits for the end of execute() (ClaimedBody.ready). */
    whenFed: (() => void) | undefined;
    /** The current request's Content-Length (-1: none). */
    contentLength = -1;

    constructor(socket: Socket) {
      this.socket = socket;
      this.parser = new RequestParser(options.maxHeaderBytes);
      this.parser.reset(this);
    }

    onData(chunk: Buffer): void {
      if (this.gone) return;
      if (this.res !== undefined && this.parser.idle) {
        // Pipelined: the next request waits for this response.
        const kept = keep(this.socket, chunk);
        this.stash = this.stash === undefined ? kept : Buffer.concat([this.stash, kept]);
        this.updateReading();
        return;
      }
      this.feed(chunk);
    }

    feed(data: Buffer): void {
      if (this.headStart === 0 && this.requestStart === 0) {
        // The first byte of a head: its clock starts; keep-alive idling ends.
        this.headStart = performance.now();
        if (options.keepAliveTimeoutMs > 0) this.socket.setTimeout(0);
      }
      let rest: Buffer | undefined;
      this.feeding = true;
      try {
        rest = this.parser.execute(data);
      } catch (error) {
        // A handler's own error is not the client's: it goes on up, as from node:http.
        if (!(error instanceof RequestParseError)) throw error;
        this.fail(error);
        return;
      } finally {
        this.feeding = false;
      }
      const whenFed = this.whenFed;
      if (whenFed !== undefined) {
        this.whenFed = undefined;
        whenFed();
      }
      if (this.takeover !== undefined) {
        this.handOver(rest === undefined ? EMPTY : keep(this.socket, rest));
        return;
      }
      if (this.gone) return;
      if (rest !== undefined && rest.length > 0) {
        // The request is complete and more follows: the next one's bytes.
        const kept = keep(this.socket, rest);
        this.stash = this.stash === undefined ? kept : Buffer.concat([kept, this.stash]);
      }
      if (this.dumped) {
        // The body of an answered request ended in this read.
        this.dumped = false;
        this.afterResponse();
      } else if (this.stash !== undefined) this.updateReading();
    }

    onHead(head: RequestHead): boolean {
      this.headStart = 0;
      this.requestStart = performance.now();
      const req = new PierIncomingMessage(this.socket) as PierIncomingMessage & NodeIncomingMessage;
      req.method = head.method;
      req.url = head.target;
      req.httpVersionMajor = head.versionMajor;
      req.httpVersionMinor = head.versionMinor;
      req.httpVersion = `${head.versionMajor}.${head.versionMinor}`;
      req._addHeaderLines(head.rawHeaders, head.rawHeaders.length);
      if (head.upgrade) {
        req.upgrade = head.method === 'CONNECT' || options.shouldUpgrade(req);
        if (req.upgrade) {
          this.takeover = { req, connect: head.method === 'CONNECT' };
          return true;
        }
      }
      req[kConnection] = this;
      this.req = req;
      this.contentLength = head.contentLength;
      this.bodyFull = false;
      this.dumping = false;

      const res = new ServerResponse(req) as unknown as NodeServerResponse & {
        [kConnection]?: Connection;
      };
      res._keepAliveTimeout = options.keepAliveTimeoutMs;
      res.shouldKeepAlive = head.keepAlive;
      res[kConnection] = this;
      res.assignSocket(this.socket);
      res.on('finish', onResponseFinish);
      this.res = res;

      const hasBody = head.contentLength > 0 || head.chunked;
      if (
        options.bodySplice &&
        head.contentLength >= SPLICE_MIN_BYTES &&
        hasOwnReads(this.socket) &&
        spliceAddon() !== undefined
      )
        this.hold(req);
      // The next reads are likely this body: into the connection's large
      // buffer. Not for a held body: if it is spliced, the next read is the
      // next head (net picks a read's buffer after the read before it).
      else if (hasBody) expectBody(this.socket, true);
      if (!hasBody) {
        // No body: ended at once, without the stream's end and close events
        // per request (node:http's optimizeEmptyRequests).
        req.complete = true;
        this.requestStart = 0;
        if (req._dumpAndCloseReadable !== undefined) req._dumpAndCloseReadable();
        else req.push(null);
      }

      // Expectations are HTTP/1.1's (node:http ignores them in 1.0 too).
      if (head.versionMinor === 1) {
        if (head.expectOther) {
          res.writeHead(417);
          res.end();
          return false;
        }
        // Answered by the handler: 100 once it has somewhere to send the body.
        if (head.expectContinue) res._expect_continue = true;
      }
      events.request(req, res);
      return false;
    }

    onBody(chunk: Buffer): void {
      const claimed = this.claimedChunks;
      if (claimed !== undefined) {
        // Read with the head, after the body was claimed for splicing.
        claimed.push(keep(this.socket, chunk));
        return;
      }
      // Also while dumping: a handler still reading gets the rest, as from node:http.
      if (!this.req!.push(keep(this.socket, chunk))) {
        this.bodyFull = true;
        this.updateReading();
      }
    }

    onComplete(trailers: FieldMap | undefined): void {
      this.requestStart = 0;
      expectBody(this.socket, false);
      const req = this.req;
      if (req === undefined) return;
      if (req.complete) return; // a request without a body, ended in onHead
      req.complete = true;
      // An ended stream never asks for more (no _read after the end), so a
      // last chunk it had no room for must not leave reading stopped.
      this.bodyFull = false;
      if (trailers !== undefined) {
        const raw = fieldsToRaw(trailers);
        (req as unknown as NodeIncomingMessage)._addHeaderLines(raw, raw.length);
      }
      req.push(null);
      if (this.dumping) {
        // Inside execute(): the next request's bytes are in its return value.
        this.dumping = false;
        this.dumped = true;
      }
    }

    bodyWanted(): void {
      // A held body's stream asks on its own after each push (to fill its
      // buffer): only a reader releases it (onHeldListener, onHeldResume).
      if (!this.bodyFull) return;
      this.bodyFull = false;
      this.updateReading();
    }

    updateReading(): void {
      // Stop reading while the request stream is full, or while a pipelined
      // request waits and is already as large as a head may be.
      const stop =
        this.bodyFull ||
        this.held ||
        this.splicing ||
        (this.stash !== undefined && this.stash.length > options.maxHeaderBytes);
      if (stop && !this.readingPaused) {
        this.readingPaused = true;
        this.socket.pause();
      } else if (!stop && this.readingPaused) {
        this.readingPaused = false;
        this.socket.resume();
      }
    }

    onResponseFinish(res: NodeServerResponse): void {
      if (res !== this.res) return;
      const req = this.req!;
      this.res = undefined;
      res.detachSocket(this.socket);
      process.nextTick(emitResponseClose, res);
      if (res._last || this.spliceBroken) {
        this.gone = true;
        this.socket.destroySoon();
        return;
      }
      if (!req.complete) {
        // Answered before the body was read (a 404 to an upload): read and
        // drop the rest, as node:http does, then the next request.
        this.dumping = true;
        // A body still held is read now, to be dropped (a splice under way ends first).
        this.release();
        const r = req as unknown as NodeIncomingMessage;
        if (!r._consuming) r._dump();
        this.bodyFull = false;
        this.updateReading();
        return;
      }
      this.afterResponse();
    }

    /** The request and its response are both complete. */
    afterResponse(): void {
      this.req = undefined;
      this.parser.reset(this);
      if (this.stash !== undefined) {
        this.next();
        return;
      }
      this.updateReading();
      // A second past what Keep-Alive: timeout= told the client, as node:http
      // does: a client reusing the connection at the last moment is not cut off.
      if (options.keepAliveTimeoutMs > 0) this.socket.setTimeout(options.keepAliveTimeoutMs + 1000);
    }

    /** Parses the pipelined bytes. */
    next(): void {
      const stash = this.stash!;
      this.stash = undefined;
      this.updateReading();
      this.feed(stash);
    }

    handOver(rest: Buffer): void {
      const { req, connect } = this.takeover!;
      this.takeover = undefined;
      this.gone = true;
      this.detach();
      const socket = this.socket;
      // The tunnel reads the socket as a stream, as it would from node:http.
      if (hasOwnReads(socket)) readAsStream(socket);
      // Nothing flows until the new owner listens (node:http does the same);
      // its 'data' listener or pipe resumes a socket the engine had paused.
      (socket as { readableFlowing: boolean | null }).readableFlowing = null;
      if (connect) events.connect(req, socket, rest);
      else events.upgrade(req, socket, rest);
    }

    /** The engine lets go of the socket (upgrade, CONNECT). */
    detach(): void {
      const socket = this.socket;
      if (!hasOwnReads(socket)) socket.removeListener('data', onData);
      socket.removeListener('timeout', onKeepAliveTimeout);
      socket.setTimeout(0);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
      socket.removeListener('drain', onDrain);
      socket[kConnection] = undefined;
      connections.delete(this);
      this.headStart = 0;
      this.requestStart = 0;
    }

    fail(error: NodeJS.ErrnoException): void {
      this.gone = true;
      this.headStart = 0;
      this.requestStart = 0;
      this.splice?.cancel();
      // The refusal is written first: aborting the request closes the socket.
      events.clientError(error, this.socket);
      const req = this.req;
      if (req !== undefined && !req.complete && !req.destroyed) req.destroy(error);
    }

    // --- the body's splice offer (http1/body-splice.ts) ---

    /** Stops reading after this head: the body waits for a splice or a reader. */
    hold(req: PierIncomingMessage): void {
      this.held = true;
      req[kBodySplice] = this;
      req.on('newListener', onHeldListener);
      req.on('resume', onHeldResume);
      this.updateReading();
    }

    /** A reader came first: the body is read as a stream. */
    release(): void {
      if (!this.held) return;
      this.withdraw();
      expectBody(this.socket, true);
      this.updateReading();
    }

    withdraw(): void {
      this.held = false;
      const req = this.req;
      if (req === undefined) return;
      req[kBodySplice] = undefined;
      req.removeListener('newListener', onHeldListener);
      req.removeListener('resume', onHeldResume);
    }

    claimSplice(contentLength: number): ClaimedBody | undefined {
      const req = this.req;
      if (!this.held || this.gone || req === undefined || this.contentLength !== contentLength)
        return undefined;
      this.withdraw();
      this.splicing = true;
      // The body read so far is the claim's from now on, not the stream's.
      const chunks: Buffer[] = [];
      if (req.readableLength > 0) chunks.push(req.read() as Buffer);
      this.claimedChunks = chunks;
      let remaining = -1;
      let started = false;
      const claimed: ClaimedBody = {
        ready: (callback) => {
          if (this.feeding) {
            this.whenFed = () => claimed.ready(callback);
            return;
          }
          remaining = this.parser.lengthRemaining;
          this.claimedChunks = undefined;
          callback(chunks.length === 0 ? null : Buffer.concat(chunks));
        },
        start: (destinationFd, done) => {
          if (started || remaining < 0) throw new Error('start() once, after ready()');
          started = true;
          if (!this.splicing) {
            // Cancelled (or the connection failed) before the start.
            done(relayError(-125, -1));
            return;
          }
          if (remaining === 0) {
            // The whole body came with its head.
            this.spliced(req, 0, 0, 0, done);
            return;
          }
          const fd = socketFd(this.socket);
          if (fd === undefined) {
            this.spliced(req, -9, -1, remaining, done);
            return;
          }
          this.splice = spliceAddon()!.relay(fd, destinationFd, remaining, (result, _moved, side) =>
            this.spliced(req, result, side, remaining, done),
          );
        },
        cancel: () => {
          if (!this.splicing) return;
          // Said now, while the claimant may still answer: its answer closes the connection.
          this.breakSplice();
          if (this.splice !== undefined) this.splice.cancel();
          else if (!started) this.spliced(req, -125, -1, remaining, undefined);
        },
        moved: () => this.splice?.moved() ?? 0,
      };
      return claimed;
    }

    /**
     * How much of the body the client sent is unknown now: no next request
     * on this connection, and an answer not yet begun says so.
     */
    breakSplice(): void {
      this.spliceBroken = true;
      const res = this.res;
      if (res !== undefined && !res.headersSent) res.shouldKeepAlive = false;
    }

    /** The splice ended: the body is complete, or the connection cannot go on. */
    spliced(
      req: PierIncomingMessage,
      result: number,
      side: number,
      bytes: number,
      done: ((error: SpliceError | null) => void) | undefined,
    ): void {
      this.splice = undefined;
      this.splicing = false;
      this.claimedChunks = undefined;
      // A body moved whole for a request that is no longer the connection's counts as cancelled.
      const ok = result === 0 && this.req === req && !this.gone;
      const error = ok ? null : relayError(result === 0 ? -125 : result, result === 0 ? -1 : side);
      events.bodySpliced?.(bytes, error);
      if (error === null) {
        if (bytes > 0) this.parser.skipBody(bytes);
        // Nothing is left to read: the stream ends ('end', then 'close') as a read one would.
        if (req.readableFlowing !== true) req.resume();
        if (this.dumped) {
          // The response went out first; the body ended now.
          this.dumped = false;
          this.afterResponse();
        } else this.updateReading();
        done?.(null);
        return;
      }
      this.breakSplice();
      if (this.gone) {
        // Failed or closed already (that cancelled the splice): closing is in hand.
      } else if (error.side === 'source') {
        // The client broke off: its request is aborted, as a read error would.
        if (this.req === req && !req.complete) this.abort();
        this.gone = true;
        this.socket.destroy();
      } else if (this.res === undefined) {
        this.gone = true;
        this.socket.destroySoon();
      }
      done?.(error);
    }

    checkTimeouts(at: number): void {
      if (this.gone) return;
      const expired =
        (this.headStart > 0 && at - this.headStart > options.headersTimeoutMs) ||
        (options.requestTimeoutMs > 0 &&
          this.requestStart > 0 &&
          at - this.requestStart > options.requestTimeoutMs);
      if (!expired) return;
      this.fail(timeoutError());
    }

    onEnd(): void {
      // The client sent all it will: a request it cut short is aborted.
      if (this.req !== undefined && !this.req.complete) this.abort();
      else if (this.headStart > 0) this.gone = true;
    }

    onClose(): void {
      this.gone = true;
      this.headStart = 0;
      this.requestStart = 0;
      this.splice?.cancel();
      if (this.req !== undefined && !this.req.complete) this.abort();
    }

    abort(): void {
      const req = this.req!;
      this.requestStart = 0;
      if (!req.destroyed) req.destroy(abortedError());
    }
  }

  function onKeepAliveTimeout(this: Socket): void {
    this.destroy();
  }

  return {
    serve(socket, head) {
      const connection = new Connection(socket);
      // The first head's clock starts now, as node:http's does: a client that
      // connects (or finishes a TLS handshake) and sends nothing is timed out.
      connection.headStart = performance.now();
      const tagged = socket as Socket & { [kConnection]?: Connection };
      tagged[kConnection] = connection;
      connections.add(connection);
      if (hasOwnReads(socket)) setReader(socket, onOwnRead);
      else socket.on('data', onData);
      socket.on('timeout', onKeepAliveTimeout);
      socket.on('end', onEnd);
      socket.on('close', onClose);
      socket.on('drain', onDrain);
      if (head !== undefined && head.length > 0) connection.onData(head);
      if (!connection.gone && !connection.readingPaused) socket.resume();
    },
    close() {
      clearInterval(checker);
    },
  };
}

function emitResponseClose(res: NodeServerResponse): void {
  if (res._closed) return;
  res._closed = true;
  res.destroyed = true;
  res.emit('close');
}
