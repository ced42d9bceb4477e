// forward(req, res, plan): one request from a client to an endpoint of the
// plan's upstream and its response back, as one object (ForwardCall) that is
// at once the request's state, undici's dispatch handler and the result the
// observer reads. No promise, stream or closure is made per request on the
// common path; listeners on `res` are module functions finding the call
// through a symbol.
//
//   client ──req──> scan headers (one pass) ─> pick host ─> dispatch ──> endpoint
//   client <──res── filter headers, write chunks (pause on backpressure) <──┘
//
// Request bodies stream from `req` straight into undici (which pauses `req`
// when the upstream socket is full); response chunks go to res.write, and a
// false return pauses the upstream until 'drain'. So memory stays flat for
// bodies of any size, both ways.
//
// Failures before the response started may be retried on another endpoint
// (retry.ts decides); after that, the client's response is cut (destroyed),
// never completed with a wrong ending. Attempts run one after another: a new
// one starts only when undici has finished with the previous one, so the
// call can be the handler of every attempt.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import { type GatewayErrorKey, gatewayErrorCode, sendGatewayError } from '../errors.ts';
import {
  INVALID_REQUEST_CODES,
  type UpstreamController,
  type UpstreamDispatchOptions,
} from '../upstream/dispatcher.ts';
import { outcomeOfStatus } from '../upstream/outlier-detector.ts';
import { CallState, startGuarded } from './call-state.ts';
import { classifyFailure, errorKeyOf } from './failure.ts';
import type { ForwardPlan, ForwardResult } from './plan.ts';
import { completeRequestHeaders, type ProxiedRequest } from './proxy-headers.ts';
import { hasRequestBody, scanRequestHeaders } from './request-headers.ts';
import { filterResponseHeaders, type ParsedHeaders } from './response-headers.ts';
import { type FailureKind, isIdempotent, retriesStatus, retryDelay, shouldRetry } from './retry.ts';

export type InboundRequest = IncomingMessage | Http2ServerRequest;
export type InboundResponse = ServerResponse | Http2ServerResponse;

type DispatchController = UpstreamController;

/** What the call uses of a response: the part http.ServerResponse and Http2ServerResponse share. */
interface ResponseSink {
  readonly headersSent: boolean;
  readonly statusCode: number;
  writeHead(status: number, headers: string[]): unknown;
  write(chunk: Buffer, callback?: (error?: Error | null) => void): boolean;
  end(chunk?: Buffer, callback?: () => void): unknown;
  end(chunk: string, encoding: 'latin1'): unknown;
  addTrailers(trailers: Record<string, string | string[] | undefined>): void;
  destroy(error?: Error): unknown;
  on(event: 'drain' | 'close', listener: (this: InboundResponse) => void): unknown;
}

const kCall = Symbol('pier.forward.call');

/** A last chunk up to this size is copied rather than held until the response is flushed. */
const SMALL_CHUNK = 16 * 1024;

interface CallCarrier {
  [kCall]?: ForwardCall;
}

// Why the gateway itself aborted an attempt.
const ABORT_NONE = 0;
const ABORT_CLIENT = 1;
const ABORT_RETRY_STATUS = 2;
const ABORT_ATTEMPT_TIMEOUT = 3;
const ABORT_REQUEST_TIMEOUT = 4;

/** Thrown into undici when the gateway aborts an attempt; never reaches a client. */
class AttemptAborted extends Error {
  override readonly name = 'AttemptAborted';
}
const abortedByGateway = new AttemptAborted('attempt aborted by the gateway');

/**
 * The backend's headers with a request's additions (flat pairs, lowercase
 * names: CORS) in place of its own of those names, Vary joined instead; the
 * route's response edits then apply to the result as to any header.
 */
function withAdditions(headers: ParsedHeaders, additions: readonly string[]): ParsedHeaders {
  const out: ParsedHeaders = { ...headers };
  for (let i = 0; i + 1 < additions.length; i += 2) {
    const name = additions[i]!;
    const value = additions[i + 1]!;
    const existing = name === 'vary' ? out.vary : undefined;
    out[name] =
      existing === undefined
        ? value
        : `${Array.isArray(existing) ? existing.join(', ') : existing}, ${value}`;
  }
  return out;
}

function onResponseClose(this: InboundResponse): void {
  (this as CallCarrier)[kCall]?.onClientClose();
}

function onResponseDrain(this: InboundResponse): void {
  (this as CallCarrier)[kCall]?.onDrain();
}

function onRequestTimer(call: ForwardCall): void {
  call.onRequestTimeout();
}

function onAttemptTimer(call: ForwardCall): void {
  call.onAttemptTimeout();
}

function onRetryTimer(call: ForwardCall): void {
  call.retryTimer = undefined;
  call.attempt();
}

/** The request's state, undici's handler, and the observer's result, in one object. */
class ForwardCall extends CallState implements ProxiedRequest, ForwardResult {
  // The scan, ForwardResult and attempt fields come from CallState.
  readonly req: InboundRequest;
  readonly res: ResponseSink;
  body: InboundRequest | Buffer | null = null;
  /** The body is the request stream (not buffered): only a never-started attempt may be retried. */
  streamingBody = false;
  abortReason = ABORT_NONE;
  pendingStatus = 0;
  drainWaiting = false;
  drainListening = false;
  /** The response's Content-Length (-1: none, or a response without a body). */
  responseLength = -1;
  /**
   * The chunk that completes the body, held for res.end(chunk): one write
   * and no empty end write. A small one as a latin1 string (byte for byte).
   */
  lastChunk: Buffer | string | undefined = undefined;
  /**
   * The pool's release (UpstreamController.release) when chunks go to an
   * HTTP/1.1 response: each is released once its write to the client
   * completed, so the pool reads into that memory again instead of
   * allocating (HTTP/2 responses keep theirs: no reuse, no risk).
   */
  release: ((chunk: Buffer) => void) | undefined = undefined;
  /** Chunks written to the client and not yet flushed, oldest first (writes complete in order). */
  inFlight: Buffer[] | undefined = undefined;
  onWritten: (() => void) | undefined = undefined;
  requestTimer: NodeJS.Timeout | undefined = undefined;
  attemptTimer: NodeJS.Timeout | undefined = undefined;
  retryTimer: NodeJS.Timeout | undefined = undefined;
  dispatchOptions: UpstreamDispatchOptions | undefined = undefined;

  constructor(req: InboundRequest, res: InboundResponse, plan: ForwardPlan) {
    super(req.method, req.url, plan);
    this.req = req;
    this.res = res as unknown as ResponseSink;
  }

  get bytesReceived(): number {
    return this.contentLength >= 0 ? this.contentLength : -1;
  }

  start(plan: ForwardPlan): void {
    const { req, res, policy } = this;
    (res as unknown as CallCarrier)[kCall] = this;
    // 'close' comes once per response: on() spares the wrapper once() makes.
    res.on('close', onResponseClose);

    const headers = this.headers;
    scanRequestHeaders(req.rawHeaders, policy.requestRules, headers, this);
    if (this.contentLength === -2 || (this.chunked && this.contentLength >= 0)) {
      // Node's parser rejects most of these; an HTTP/2 peer may still send them.
      this.fail('BAD_REQUEST');
      return;
    }

    completeRequestHeaders(this, req.socket, plan, headers);

    this.dispatchOptions = {
      path: this.path,
      method: this.method,
      headers,
      body: null,
    };

    if (policy.requestTimeoutMs > 0) {
      this.requestTimer = setTimeout(onRequestTimer, policy.requestTimeoutMs, this);
    }

    if (this.hasBody()) {
      const retry = policy.retry;
      if (
        retry.maxBufferedBodyBytes > 0 &&
        this.contentLength > 0 &&
        this.contentLength <= retry.maxBufferedBodyBytes &&
        retry.attempts > 0 &&
        (retry.nonIdempotent || isIdempotent(this.method))
      ) {
        this.bufferBody();
        return;
      }
      this.body = req;
      this.streamingBody = true;
    }
    this.attempt();
  }

  hasBody(): boolean {
    if (hasRequestBody(this)) return true;
    // HTTP/2 requests may stream a body without Content-Length: a HEADERS
    // frame without END_STREAM says a body follows.
    const stream = (this.req as Http2ServerRequest).stream;
    return stream !== undefined && stream.endAfterHeaders === false && this.contentLength !== 0;
  }

  /** Reads a small body into one Buffer, so every attempt can send it. */
  bufferBody(): void {
    const req = this.req;
    const chunks: Buffer[] = [];
    let size = 0;
    this.sendContinue();
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.contentLength) {
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => {
      if (this.done) return;
      this.body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      this.attempt();
    });
    req.once('error', () => {
      // The client went away mid-body; 'close' on the response ends the call.
    });
  }

  sendContinue(): void {
    if (!this.expectContinue) return;
    this.expectContinue = false;
    const res = this.res as unknown as ServerResponse & {
      _sent100?: boolean;
      stream?: { sentInfoHeaders?: readonly unknown[] };
    };
    // Node answers 100-continue itself unless the server has a checkContinue
    // listener that hands the request here; then it is ours to send, once
    // the gateway has an endpoint for the body. HTTP/1.1 marks a sent 100
    // with _sent100, HTTP/2 keeps it among the stream's informational heads.
    if (res._sent100 === true) return;
    const infoHeads = res.stream?.sentInfoHeaders;
    if (infoHeads !== undefined && infoHeads.length > 0) return;
    res.writeContinue();
  }

  /** Starts an attempt on a host the balancer picks. */
  attempt(): void {
    if (this.done) return;
    const host = this.upstream.pick(this.hash, this.lastHost);
    if (host === undefined) {
      this.fail('NO_ENDPOINTS');
      return;
    }
    this.attempts++;
    this.lastHost = host;
    this.attemptHost = host;
    this.controller = null;
    this.connected = false;
    this.abortReason = ABORT_NONE;
    this.upstream.begin(host);
    if (this.streamingBody) this.sendContinue();
    if (this.policy.backendTimeoutMs > 0) {
      this.attemptTimer = setTimeout(onAttemptTimer, this.policy.backendTimeoutMs, this);
    }
    const options = this.dispatchOptions!;
    options.body = this.body;
    host.dispatcher.dispatch(options, this);
  }

  // --- undici's DispatchHandler ---

  onRequestStart(controller: DispatchController, _context: unknown): void {
    this.controller = controller;
    this.connected = true;
    if (this.abortReason !== ABORT_NONE || this.done) {
      // Timed out or abandoned while waiting for a connection.
      if (this.abortReason === ABORT_NONE) this.abortReason = ABORT_CLIENT;
      controller.abort(abortedByGateway);
    }
  }

  onResponseStart(
    controller: DispatchController,
    status: number,
    headers: ParsedHeaders,
    _statusMessage?: string,
  ): void {
    if (status < 200) return; // 1xx: the gateway already handled Expect itself.
    if (this.upstreamMs < 0) this.upstreamMs = performance.now() - this.startedAt;
    if (this.done) {
      this.abortReason = ABORT_CLIENT;
      controller.abort(abortedByGateway);
      return;
    }
    if (
      retriesStatus(this.policy.retry, status) &&
      shouldRetry(this.policy.retry, {
        attempts: this.attempts,
        failure: 'status',
        status,
        method: this.method,
        responseStarted: false,
        bodyReplayable: !this.streamingBody,
      })
    ) {
      this.pendingStatus = status;
      this.abortReason = ABORT_RETRY_STATUS;
      controller.abort(abortedByGateway);
      return;
    }
    const out: string[] = [];
    filterResponseHeaders(
      this.responseAdditions === undefined
        ? headers
        : withAdditions(headers, this.responseAdditions),
      this.policy.responseEdits,
      out,
    );
    if (this.setCookie !== undefined) out.push('set-cookie', this.setCookie);
    try {
      this.res.writeHead(status, out);
    } catch {
      // A header value Node refuses to send: the backend's response is unusable.
      this.endAttempt('failure');
      this.fail('UPSTREAM_PROTOCOL');
      this.abortReason = ABORT_CLIENT;
      controller.abort(abortedByGateway);
      return;
    }
    this.status = status;
    this.responseStarted = true;
    if (controller.release !== undefined && (this.req as IncomingMessage).httpVersionMajor === 1)
      this.release = controller.release;
    const length = headers['content-length'];
    this.responseLength = typeof length === 'string' ? Number(length) : -1;
  }

  onResponseData(controller: DispatchController, chunk: Buffer): void {
    const release = this.release;
    if (this.done) {
      release?.(chunk);
      return;
    }
    this.bytesSent += chunk.length;
    if (this.bytesSent === this.responseLength && this.lastChunk === undefined) {
      // The body is complete (the pool checks the length: onResponseEnd
      // follows in this same parse): end(chunk) writes it with the end of
      // the response, sparing Node a separate write, its cork tick and an
      // empty final write. Small answers are most answers: a small last
      // chunk is copied, so its read buffer goes back to the pool at once,
      // into a latin1 string: Node then writes the head and it as one
      // string (one write, no writev of a head and a Buffer).
      if (chunk.length <= SMALL_CHUNK) {
        this.lastChunk = chunk.toString('latin1');
        release?.(chunk);
      } else {
        this.lastChunk = chunk;
      }
      return;
    }
    let ok: boolean;
    if (release === undefined) {
      ok = this.res.write(chunk);
    } else {
      ok = this.res.write(chunk, this.trackWrite(chunk));
    }
    if (!ok) {
      controller.pause();
      this.drainWaiting = true;
      if (!this.drainListening) {
        // One listener for the whole response, however often it fills up.
        this.drainListening = true;
        this.res.on('drain', onResponseDrain);
      }
    }
  }

  /** Notes a chunk written to the client; returns the callback for its write. */
  trackWrite(chunk: Buffer): () => void {
    if (this.inFlight === undefined) this.inFlight = [];
    this.inFlight.push(chunk);
    if (this.onWritten === undefined) this.onWritten = () => this.releaseWritten();
    return this.onWritten;
  }

  /** A write to the client completed: its chunk goes back to the pool. */
  releaseWritten(): void {
    const chunk = this.inFlight?.shift();
    if (chunk !== undefined) this.release!(chunk);
  }

  onDrain(): void {
    if (!this.drainWaiting) return;
    this.drainWaiting = false;
    this.controller?.resume();
  }

  onResponseEnd(_controller: DispatchController, trailers: ParsedHeaders): void {
    this.clearAttemptTimer();
    this.endAttempt(outcomeOfStatus(this.status));
    if (this.done) return;
    for (const _ in trailers) {
      this.res.addTrailers(trailers);
      break;
    }
    this.finish();
    const last = this.lastChunk;
    if (last === undefined) this.res.end();
    else {
      this.lastChunk = undefined;
      if (typeof last === 'string') this.res.end(last, 'latin1');
      else if (this.release !== undefined) this.res.end(last, this.trackWrite(last));
      else this.res.end(last);
    }
  }

  onResponseError(_controller: DispatchController | null, error: Error): void {
    this.clearAttemptTimer();
    const reason = this.abortReason;
    let failure: FailureKind;
    switch (reason) {
      case ABORT_CLIENT:
      case ABORT_REQUEST_TIMEOUT:
        this.endAttempt('cancelled');
        return;
      case ABORT_RETRY_STATUS:
        failure = 'status';
        this.endAttempt('failure');
        break;
      case ABORT_ATTEMPT_TIMEOUT:
        failure = 'timeout';
        this.endAttempt('failure');
        break;
      default:
        if (error instanceof AttemptAborted) {
          this.endAttempt('cancelled');
          return;
        }
        failure = classifyFailure(error, this.connected);
        if (INVALID_REQUEST_CODES.has((error as { code?: string }).code ?? '')) {
          // The pool refused the request itself (a header it will not send).
          this.endAttempt('cancelled');
          this.fail('BAD_REQUEST');
          return;
        }
        this.endAttempt(failure === 'connect' ? 'connect-failure' : 'failure');
    }
    if (this.done) return;
    if (
      shouldRetry(this.policy.retry, {
        attempts: this.attempts,
        failure,
        status: this.pendingStatus,
        method: this.method,
        responseStarted: this.responseStarted,
        // A streamed body is intact only if no attempt ever reached a connection.
        bodyReplayable: !this.streamingBody || !this.connected,
      })
    ) {
      const delay = retryDelay(this.policy.retry, this.attempts);
      if (delay === 0) queueMicrotask(() => this.attempt());
      else this.retryTimer = setTimeout(onRetryTimer, delay, this);
      return;
    }
    this.fail(errorKeyOf(failure));
  }

  onRequestUpgrade(
    _controller: DispatchController,
    _status: number,
    _headers: unknown,
    socket: { destroy(): void },
  ): void {
    // Upgrades go through forwardUpgrade(); a backend that upgrades an
    // ordinary request is broken (undici normally refuses it before this).
    socket.destroy();
    this.endAttempt('failure');
    this.fail('UPSTREAM_PROTOCOL');
  }

  // --- endings ---

  clearAttemptTimer(): void {
    if (this.attemptTimer !== undefined) {
      clearTimeout(this.attemptTimer);
      this.attemptTimer = undefined;
    }
  }

  /** The gateway answers (or, once the response started, cuts it). */
  fail(key: GatewayErrorKey): void {
    if (this.done) return;
    this.errorCode = gatewayErrorCode(key);
    if (!this.responseStarted) this.status = this.grpc ? 200 : 0;
    this.finish();
    if (this.responseStarted) {
      this.res.destroy();
      return;
    }
    // Read and drop what is left of the body, as Node's HTTP/1.1 server does
    // after a response. On HTTP/2 an unread request makes Node reset the
    // stream (RST_STREAM NO_ERROR) right after the answer, which some
    // clients (curl 7.88) report as an error instead of the answer.
    if (!this.req.readableEnded) this.req.resume();
    sendGatewayError(this.res, key, this.grpc);
    if (!this.grpc) this.status = this.res.statusCode;
  }

  /** The response is over from the gateway's side: stop timers. */
  finish(): void {
    this.done = true;
    if (this.requestTimer !== undefined) {
      clearTimeout(this.requestTimer);
      this.requestTimer = undefined;
    }
    if (this.retryTimer !== undefined) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    this.clearAttemptTimer();
  }

  onRequestTimeout(): void {
    this.requestTimer = undefined;
    if (this.done) return;
    this.abortReason = ABORT_REQUEST_TIMEOUT;
    const controller = this.controller;
    this.fail('REQUEST_TIMEOUT');
    if (controller !== null) controller.abort(abortedByGateway);
  }

  onAttemptTimeout(): void {
    this.attemptTimer = undefined;
    if (this.done) return;
    const controller = this.controller;
    if (controller === null) {
      // Still waiting for a connection: abandon it (onRequestStart aborts it
      // if it ever starts), and answer now; no retry, as the attempt may
      // still be queued behind the pool's other requests.
      this.abortReason = ABORT_REQUEST_TIMEOUT;
      this.endAttempt('cancelled');
      this.fail('UPSTREAM_TIMEOUT');
      return;
    }
    this.abortReason = ABORT_ATTEMPT_TIMEOUT;
    controller.abort(abortedByGateway);
  }

  /** The client's response closed: completed, or the client went away. */
  onClientClose(): void {
    (this.res as unknown as CallCarrier)[kCall] = undefined;
    if (!this.done) {
      this.clientAborted = true;
      this.finish();
      const controller = this.controller;
      if (controller !== null) {
        this.abortReason = ABORT_CLIENT;
        controller.abort(abortedByGateway);
      } else if (this.attemptHost !== undefined) {
        // Queued for a connection: onRequestStart aborts it.
        this.abortReason = ABORT_CLIENT;
      }
    }
    this.report();
  }
}

/**
 * Forwards one request to the plan's upstream. Call it from the server's
 * 'request' handler, and from 'checkContinue' too (then the 100 Continue is
 * sent once an endpoint was picked, and a request that cannot be served is
 * answered before the client sends its body). Never throws for a request's
 * sake: every failure becomes a response from the gateway's error table.
 */
export function forward(req: InboundRequest, res: InboundResponse, plan: ForwardPlan): void {
  const call = new ForwardCall(req, res, plan);
  startGuarded(call, () => call.start(plan));
}
