// A listener is one port of the gateway: the socket that accepts client
// connections and the protocol engines that parse them, up to the point
// where a request (or an Upgrade) is handed to the assembly's handlers.
//
//   HTTP port:   net.Server ──peek first bytes──> HTTP/2 preface? ──yes──> http2 engine (h2c)
//                                                                 └─no──> http/1.1 engine
//   HTTPS port:  tls.Server (SNI -> certificate, ALPN h2 | http/1.1) ──alpn──> the same two engines
//
// The engines are node:http and node:http2 servers that never listen
// themselves: the front socket hands each connection over with
// emit('connection'), so the same limits, timeouts and drain logic apply to
// cleartext and TLS alike. Implementation: gateway/listener/http-listener.ts.
//
// What the listener guarantees (issue 3 points 1, 6, 8):
// - limits: header bytes and count, a headers timeout (slowloris), a whole
//   request timeout, a keep-alive idle timeout, a TLS handshake timeout;
// - llhttp in strict mode refuses smuggling (conflicting Content-Length and
//   Transfer-Encoding, obs-fold, bad chunk sizes) with 400 and a close;
// - CONNECT is refused (405) and never tunnels;
// - close(grace) stops accepting at once, lets requests in flight finish,
//   closes keep-alive connections as they go idle (HTTP/1.1 with
//   `Connection: close`, HTTP/2 with GOAWAY), and cuts what is left after
//   the grace period;
// - certificates are swapped live (setCertificates): new handshakes see the
//   new selection, open connections keep theirs.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { SecureContext } from 'node:tls';
import type { SpliceSide } from './http1/body-splice.ts';
import type { ClientValidation } from './translate/gateway-config.ts';

export type ListenerProtocol = 'HTTP' | 'HTTPS';

export type GatewayRequest = IncomingMessage | Http2ServerRequest;
export type GatewayResponse = ServerResponse | Http2ServerResponse;

export interface ListenerLimits {
  /** Request line and headers together, in bytes (HTTP/1.1); the header list size (HTTP/2). Over it: 431. */
  maxHeaderBytes: number;
  /** Header fields per request. Over it: 431. */
  maxHeaders: number;
  /** The request head must arrive within this, from the connection or the previous request (slowloris). 408. */
  headersTimeoutMs: number;
  /** The whole request, body included, must arrive within this; 0: no limit. 408. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection (HTTP/1.1) or session (HTTP/2) closes after this. */
  keepAliveTimeoutMs: number;
  /** Concurrent streams per HTTP/2 connection. */
  maxConcurrentStreams: number;
  /**
   * An upgraded connection (WebSocket) with no bytes either way for this
   * long is closed, both sides; 0: never. Also ends a tunnel one peer
   * half-closed and the other never closes.
   */
  tunnelIdleTimeoutMs: number;
}

export const DEFAULT_LISTENER_LIMITS: Readonly<ListenerLimits> = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 60_000,
  maxConcurrentStreams: 128,
  tunnelIdleTimeoutMs: 3_600_000,
});

/** What the listener calls; the assembly's request handler implements it. */
export interface ListenerHandlers {
  /** A request on HTTP/1.1 or HTTP/2 (any method but CONNECT). Must answer it, also on error. */
  request(req: GatewayRequest, res: GatewayResponse): void;
  /** An HTTP/1.1 Upgrade (WebSocket): the socket is the handler's from here on. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
}

/** Things a listener reports without deciding anything (logs and metrics). */
export interface ListenerEvents {
  /** A connection was accepted (+1) or has closed (-1). */
  connection?(delta: 1 | -1): void;
  /** A client sent something the engines refused; `code` is node's (HPE_*, ERR_HTTP_REQUEST_TIMEOUT...). */
  clientError?(code: string, status: number): void;
  /** A TLS handshake failed (no certificate for the name, protocol mismatch...). */
  tlsError?(code: string, servername: string | undefined): void;
  /** A request body's splice ended: `bytes` the kernel was asked to move; ok, or why not. */
  bodySpliced?(bytes: number, outcome: 'ok' | SpliceSide): void;
}

/** The certificates of an HTTPS port: which secure context a client hello gets. */
export interface CertificateSelection {
  /** The context for an SNI server name (or undefined when the client sent none); undefined: abort the handshake. */
  select(servername: string | undefined): SecureContext | undefined;
  /**
   * The PEM pair of the context clients without SNI get (with the CAs of its
   * listener's client validation, if any); undefined: such handshakes fail.
   */
  readonly fallback: { cert: Buffer; key: Buffer; ca?: readonly string[] } | undefined;
  /** How many hostnames (and the catch-all) it serves certificates for (for logs). */
  readonly size: number;
  /** Some listener checks client certificates: handshakes on the port ask clients for one. */
  readonly requestsClientCertificates: boolean;
  /**
   * How the listener a server name selects treats client certificates
   * (Gateway spec.tls.frontend): undefined when it does not check them.
   * Its secure context carries the CAs, so `socket.authorized` is the verdict.
   */
  clientValidation(servername: string | undefined): ClientValidationMode | undefined;
}

export type ClientValidationMode = ClientValidation['mode'];

export interface ListenerOptions {
  port: number;
  /** The local address to bind: `127.0.0.1`, `0.0.0.0`, `::`. */
  address: string;
  protocol: ListenerProtocol;
  handlers: ListenerHandlers;
  limits?: Partial<ListenerLimits>;
  /** HTTPS: the initial certificate selection (swap later with setCertificates). */
  certificates?: CertificateSelection;
  events?: ListenerEvents;
  /** SO_REUSEPORT: worker processes share the port (default true). */
  reusePort?: boolean;
  /**
   * Offer large HTTP/1.1 request bodies for splicing (http1/body-splice.ts;
   * default true). Only cleartext connections can; only when the addon is built.
   */
  bodySplice?: boolean;
}

export interface Listener {
  readonly port: number;
  readonly protocol: ListenerProtocol;
  /** Open client connections (TCP), upgraded ones included. */
  readonly connections: number;
  /** Requests and upgraded connections in flight. */
  readonly inFlight: number;
  /** Binds; rejects with PIER_GW_LISTEN_FAILED (address in use, no permission...). */
  listen(): Promise<{ address: string; port: number }>;
  /** HTTPS: the selection new handshakes use. */
  setCertificates(selection: CertificateSelection): void;
  /**
   * Stops accepting, drains (see above) and resolves once every connection
   * is gone; what is still open after `graceMs` is cut. Idempotent.
   */
  close(graceMs: number): Promise<void>;
}

export { createListener } from './listener/http-listener.ts';
