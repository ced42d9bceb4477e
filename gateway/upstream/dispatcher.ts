// The port between the forwarder and a connection pool to one endpoint: an
// UpstreamDispatcher takes a request and drives an UpstreamHandler through
// it. The shapes are undici's dispatch API (undici 7+, onRequestStart ...
// onResponseError), so an undici Pool or H2CClient is one implementation and
// Pier's own HTTP/1.1 pool (http1/pool.ts) the other; dispatcher.case.ts is
// the suite both pass.
//
// The contract the forwarder relies on:
// - onRequestStart runs when the request is handed to a connected socket,
//   just before it is written: an error before it is a failure to connect.
// - Exactly one of onResponseEnd, onResponseError, onRequestUpgrade ends a
//   request, and nothing is called after it.
// - controller.abort(reason) ends the request with onResponseError(reason)
//   and closes its connection; pause()/resume() stop and restart the reads
//   of the response body (backpressure).
// - onRequestUpgrade hands over the socket with the bytes read past the 101
//   put back, not flowing: the handler pipes it or calls resume().

import type { Duplex, Readable } from 'node:stream';

/** Response headers: lowercase names, arrays for names sent more than once. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface UpstreamController {
  /**
   * Called (without `this`) once the handler no longer needs a chunk it got
   * from onResponseData, e.g. when its write to the client completed: the
   * pool may then read into that memory again. Optional both ways: a pool
   * without it never reuses, a handler that never calls it keeps the chunk.
   */
  release?(chunk: Buffer): void;
  abort(reason: Error): void;
  pause(): void;
  resume(): void;
  readonly aborted: boolean;
  readonly paused: boolean;
}

export interface UpstreamHandler {
  onRequestStart?(controller: UpstreamController, context: unknown): void;
  onRequestUpgrade?(
    controller: UpstreamController,
    statusCode: number,
    headers: ResponseHeaders,
    socket: Duplex,
  ): void;
  onResponseStart?(
    controller: UpstreamController,
    statusCode: number,
    headers: ResponseHeaders,
    statusMessage?: string,
  ): void;
  onResponseData?(controller: UpstreamController, chunk: Buffer): void;
  onResponseEnd?(controller: UpstreamController, trailers: ResponseHeaders): void;
  onResponseError?(controller: UpstreamController | null, error: Error): void;
}

export interface UpstreamDispatchOptions {
  /** Origin-form target: `/path?query`. */
  path: string;
  method: string;
  /** Flat name, value pairs, sent as given (Host among them). */
  headers: string[];
  /** A Buffer, a readable stream (sent chunked without a Content-Length), or none. */
  body: Buffer | Readable | null;
  /** The protocol of an Upgrade request (`websocket`): a 101 hands over the socket. */
  upgrade?: string;
}

export interface UpstreamDispatcher {
  /** Starts a request; false says the pool is busy (it is queued all the same). */
  dispatch(options: UpstreamDispatchOptions, handler: UpstreamHandler): boolean;
  /** Takes no new requests; resolves once those in flight have finished. */
  close(): Promise<void>;
  /** Closes every connection now; requests in flight get an error. */
  destroy(): Promise<void>;
}

/** Error codes a dispatcher gives a request it refuses to send (a header it will not write). */
export const INVALID_REQUEST_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_INVALID_ARG',
  'PIER_UPSTREAM_INVALID_REQUEST',
]);

/** An error with the code the forwarder classifies (gateway/forward/failure.ts). */
export function upstreamError(code: string, message: string, cause?: unknown): Error {
  const error = new Error(message, cause === undefined ? undefined : { cause }) as Error & {
    code: string;
  };
  error.code = code;
  return error;
}

/** A TCP connect that did not finish within the pool's connect timeout. */
export function connectTimeoutError(ms: number): Error {
  return upstreamError('PIER_UPSTREAM_CONNECT_TIMEOUT', `connect timed out after ${ms} ms`);
}

/**
 * Socket options of every upstream connection, TCP or TLS: no Nagle delay
 * (requests are written whole), and TCP keep-alive probes after a minute
 * idle so a pooled connection to a vanished endpoint is noticed.
 */
export const UPSTREAM_SOCKET_OPTIONS = Object.freeze({
  noDelay: true,
  keepAlive: true,
  keepAliveInitialDelay: 60_000,
});
