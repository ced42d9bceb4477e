// Http1Pool: Pier's HTTP/1.1 keep-alive pool to one endpoint, an
// UpstreamDispatcher (../dispatcher.ts) like undici's Pool, built for the
// gateway's hot path: a request costs one object and one write, the
// response is parsed in place (body chunks are views of the socket's reads),
// and no timer, promise or closure is made per request.
//
// Connections: the most recently used idle one takes the next request (warm
// sockets; the others age out); a new one opens when none is idle, up to
// `connections`; beyond that requests wait in order. One timer per pool
// ticks every 250 ms while it has connections: it closes connections idle
// for keepAliveTimeoutMs (or the backend's Keep-Alive timeout less a
// second) and fails a request whose backend said nothing for
// stallTimeoutMs (a backstop: the forwarder enforces the Gateway API
// timeouts itself).
//
// TLS (BackendTLSPolicy): an `https:` origin with `tls` settings. Each
// connection makes the handshake before it takes its first request (the
// connect timeout covers both), offers ALPN http/1.1 only and resumes the
// pool's last TLS session; verification is backend-tls.ts's. Keep-alive reuse
// is the same as over TCP.

import type { ConnectionOptions } from 'node:tls';
import type { UpstreamTls } from '../../upstream.ts';
import { tlsConnectOptions } from '../backend-tls.ts';
import {
  type UpstreamDispatcher,
  type UpstreamDispatchOptions,
  type UpstreamHandler,
  upstreamError,
} from '../dispatcher.ts';
import { type ConnectionOwner, Http1Connection, Http1Request } from './connection.ts';
import { requestHead } from './request-head.ts';

export interface Http1PoolOptions {
  /** TLS to the endpoint: required with an `https:` origin, refused with `http:`. */
  tls?: UpstreamTls | undefined;
  /** TCP connect timeout, TLS handshake included (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Idle connections close after this (default 4000 ms). */
  keepAliveTimeoutMs?: number;
  /** Connections at most; undefined: no limit. */
  connections?: number | undefined;
  /** Largest response head (default 64 KiB: backends send big cookies and tokens). */
  maxHeaderBytes?: number;
  /** A request whose backend sends nothing for this long fails (default 300 s). */
  stallTimeoutMs?: number;
}

const TICK_MS = 250;

function onTick(pool: Http1Pool): void {
  pool.tick();
}

export class Http1Pool implements UpstreamDispatcher, ConnectionOwner {
  readonly address: string;
  readonly port: number;
  /** Host header for requests that carry none. */
  readonly host: string;
  /** `ip:port` (IPv6 bracketed), for error messages. */
  readonly endpoint: string;
  /** tls.connect options (backend-tls.ts), or undefined for plain TCP. */
  readonly tls: ConnectionOptions | undefined;
  /** The last TLS session the endpoint gave, resumed by the next connection. */
  tlsSession: Buffer | undefined = undefined;
  readonly connectTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxHeaderBytes: number;
  readonly stallTimeoutMs: number;
  readonly maxConnections: number;
  ticks = 0;
  readonly #connections = new Set<Http1Connection>();
  readonly #idle: Http1Connection[] = [];
  readonly #queue: Http1Request[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closing = false;
  #destroyed = false;
  #closed: (() => void) | undefined;
  #closedPromise: Promise<void> | undefined;

  constructor(origin: string, options: Http1PoolOptions = {}) {
    const url = new URL(origin);
    const secure = url.protocol === 'https:';
    if (url.protocol !== 'http:' && !secure)
      throw new TypeError(`Http1Pool speaks http: or https:, not ${url.protocol}`);
    if (secure !== (options.tls !== undefined))
      throw new TypeError(
        `Http1Pool: ${url.protocol} ${secure ? 'needs' : 'takes no'} tls settings`,
      );
    this.address = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port === '' ? (secure ? 443 : 80) : Number(url.port);
    this.host = url.host;
    this.endpoint = `${url.hostname}:${this.port}`;
    this.tls = options.tls === undefined ? undefined : tlsConnectOptions(options.tls, 'http/1.1');
    this.connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs ?? 4000;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
    this.stallTimeoutMs = options.stallTimeoutMs ?? 300_000;
    this.maxConnections = options.connections ?? Number.POSITIVE_INFINITY;
  }

  /** Connections open (busy or idle) and requests waiting: for state and tests. */
  get stats(): { connections: number; idle: number; queued: number } {
    return {
      connections: this.#connections.size,
      idle: this.#idle.length,
      queued: this.#queue.length,
    };
  }

  dispatch(options: UpstreamDispatchOptions, handler: UpstreamHandler): boolean {
    let head: ReturnType<typeof requestHead>;
    try {
      head = requestHead(options, this.host);
    } catch (error) {
      handler.onResponseError?.(null, error as Error);
      return true;
    }
    const request = new Http1Request(options, handler, head);
    if (this.#closing || this.#destroyed) {
      request.error(upstreamError('PIER_UPSTREAM_POOL_CLOSED', 'the pool is closed'));
      return false;
    }
    // An upgrade may hand its socket over: it gets a connection of its own
    // that reads without reusable buffers.
    const upgrade = options.upgrade !== undefined;
    const idle = upgrade ? undefined : this.#idle.pop();
    if (idle !== undefined) {
      idle.start(request);
      return true;
    }
    if (this.#connections.size < this.maxConnections || upgrade) {
      this.#open(request);
      return true;
    }
    request.onAbortQueued = this.#abortQueued;
    this.#queue.push(request);
    return false;
  }

  #open(request: Http1Request): void {
    const connection = new Http1Connection(this, request, request.options.upgrade === undefined);
    this.#connections.add(connection);
    if (this.#timer === undefined) {
      this.#timer = setInterval(onTick, TICK_MS, this);
      this.#timer.unref();
    }
  }

  #abortQueued = (request: Http1Request, reason: Error): void => {
    const i = this.#queue.indexOf(request);
    if (i !== -1) this.#queue.splice(i, 1);
    request.error(reason);
    this.#checkClosed();
  };

  released(connection: Http1Connection): void {
    const next = this.#queue.shift();
    if (next !== undefined) {
      connection.start(next);
      return;
    }
    if (this.#closing) {
      connection.destroy();
      return;
    }
    connection.since = this.ticks;
    this.#idle.push(connection);
  }

  gone(connection: Http1Connection): void {
    this.#connections.delete(connection);
    const i = this.#idle.indexOf(connection);
    if (i !== -1) this.#idle.splice(i, 1);
    // A waiting request gets the place the connection left.
    if (this.#queue.length > 0 && !this.#destroyed && this.#connections.size < this.maxConnections)
      this.#open(this.#queue.shift()!);
    if (this.#connections.size === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    this.#checkClosed();
  }

  tick(): void {
    this.ticks++;
    const idleTicks = (ms: number) => Math.ceil(ms / TICK_MS);
    const stall = idleTicks(this.stallTimeoutMs);
    for (const connection of this.#connections) {
      if (connection.spliceProgress()) connection.since = this.ticks;
      const age = this.ticks - connection.since;
      if (connection.request === null) {
        if (connection.connected && age >= idleTicks(connection.idleTimeoutMs))
          connection.destroy();
      } else if (connection.connected && age >= stall) {
        connection.fail(
          upstreamError(
            'PIER_UPSTREAM_STALLED',
            `the backend sent nothing for ${this.stallTimeoutMs} ms`,
          ),
        );
      }
    }
  }

  close(): Promise<void> {
    if (!this.#closing) {
      this.#closing = true;
      for (const connection of this.#idle.splice(0)) connection.destroy();
    }
    this.#closedPromise ??= new Promise((resolve) => {
      this.#closed = resolve;
    });
    this.#checkClosed();
    return this.#closedPromise;
  }

  destroy(): Promise<void> {
    this.#destroyed = true;
    this.#closing = true;
    const error = upstreamError('PIER_UPSTREAM_POOL_DESTROYED', 'the pool was destroyed');
    for (const request of this.#queue.splice(0)) request.error(error);
    for (const connection of [...this.#connections]) connection.fail(error);
    return this.close();
  }

  #checkClosed(): void {
    if (this.#closed !== undefined && this.#connections.size === 0 && this.#queue.length === 0) {
      const resolve = this.#closed;
      this.#closed = undefined;
      resolve();
    }
  }
}
