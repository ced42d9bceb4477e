// The listener (gateway/listener.ts): one net.Server per port, and behind
// it two protocol engines that never listen themselves (Pier's own
// HTTP/1.1 server, http1/server.ts, and a node:http2 server for HTTP/2).
// Each accepted connection is handed to one of them:
//
//   HTTP:  the first bytes are read; the HTTP/2 preface picks the h2
//          engine (they are put back for it), anything else the HTTP/1.1
//          one (they are its first read).
//   HTTPS: the raw socket goes to a tls.Server (never listening either) for
//          the handshake: SNI picks the certificate, ALPN the engine.
//
// Every connection is tracked (Conn, hung on the socket under a symbol, so
// the per-request path does no Map lookup) for drain: close() stops
// accepting, closes idle connections, asks busy HTTP/1.1 ones to close after
// their response (Connection: close), sends GOAWAY on HTTP/2 sessions, and
// cuts what is left when the grace period ends.
//
// Per request the listener does: one counter up, one 'close' listener (a
// shared function, no closure), a header-count check, the handler call.

import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  createServer as createH2Server,
  type Http2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
  type ServerHttp2Session,
} from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import {
  createServer as createTlsServer,
  type TLSSocket,
  type Server as TlsServer,
} from 'node:tls';
import {
  type CertificateSelection,
  DEFAULT_LISTENER_LIMITS,
  type GatewayRequest,
  type GatewayResponse,
  type Listener,
  type ListenerLimits,
  type ListenerOptions,
} from '../listener.ts';
import { ListenerErrors } from './errors.ts';
import { createHttp1Server, type Http1Server } from './http1/server.ts';
import { keep, setReader, withOwnReads } from './own-reads.ts';
import { sniffProtocol } from './preface.ts';
import { rawResponse, refusal } from './refusals.ts';

const kConn = Symbol('pier.listener.conn');

const PENDING = 0;
const HTTP1 = 1;
const HTTP2 = 2;
const UPGRADED = 3;

interface Conn {
  raw: Socket;
  /** The socket the engine reads: `raw`, or the TLS socket over it. */
  socket: Socket | undefined;
  protocol: number;
  /** Requests in flight on it (an upgraded connection counts as one until it closes). */
  active: number;
  session: ServerHttp2Session | undefined;
  /** HTTP/1.1: the response being written, to ask it for Connection: close on drain. */
  response: ServerResponse | undefined;
  /** Bytes read before the protocol could be told (a preface split over segments). */
  head: Buffer | undefined;
}

type Tagged<T> = T & { [kConn]?: Conn };

function noop(): void {}

function wantsUpgrade(req: IncomingMessage): boolean {
  const upgrade = req.headers.upgrade;
  return upgrade !== undefined && upgrade.toLowerCase() !== 'h2c';
}

export function createListener(options: ListenerOptions): Listener {
  const limits: ListenerLimits = { ...DEFAULT_LISTENER_LIMITS, ...options.limits };
  const { handlers, port, address, protocol } = options;
  const events = options.events ?? {};
  const onConnectionEvent = events.connection ?? noop;
  const tls = protocol === 'HTTPS';
  let certificates: CertificateSelection | undefined = options.certificates;

  const conns = new Set<Conn>();
  let inFlight = 0;
  let draining = false;
  let closing: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  // --- the engines ---------------------------------------------------------------

  const h1: Http1Server = createHttp1Server(
    {
      maxHeaderBytes: limits.maxHeaderBytes,
      headersTimeoutMs: limits.headersTimeoutMs,
      requestTimeoutMs: limits.requestTimeoutMs,
      keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
      // h2c upgrades (curl --http2 on http://) are served as HTTP/1.1, as RFC 9113 lets a server do.
      shouldUpgrade: wantsUpgrade,
      bodySplice: options.bodySplice ?? true,
    },
    {
      request: onH1Request,
      upgrade: onUpgrade,
      connect: onConnect,
      clientError: onClientError,
      bodySpliced: events.bodySpliced
        ? (bytes, error) => events.bodySpliced!(bytes, error === null ? 'ok' : error.side)
        : undefined,
    },
  );

  const h2: Http2Server = createH2Server({
    maxHeaderListPairs: limits.maxHeaders + 8,
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderBytes,
      enablePush: false,
    },
    unknownProtocolTimeout: limits.headersTimeoutMs,
  });

  // --- per request ---------------------------------------------------------------

  function onResponseClose(this: Tagged<GatewayResponse>): void {
    const conn = this[kConn];
    if (conn === undefined) return;
    this[kConn] = undefined;
    conn.active--;
    inFlight--;
    if (conn.response === this) conn.response = undefined;
    if (draining && conn.active === 0 && conn.protocol === HTTP1) conn.socket?.destroySoon();
  }

  function onH1Request(req: IncomingMessage, res: Tagged<ServerResponse>): void {
    const conn = (req.socket as Tagged<Socket>)[kConn];
    if (conn !== undefined) {
      conn.active++;
      inFlight++;
      conn.response = res;
      res[kConn] = conn;
      res.on('close', onResponseClose);
      if (draining) res.shouldKeepAlive = false;
    }
    if (req.rawHeaders.length > limits.maxHeaders * 2) {
      refuse(req, res, 'TOO_MANY_HEADERS', 431);
      return;
    }
    handlers.request(req, res);
  }

  function refuse(req: IncomingMessage, res: ServerResponse, code: string, status: number): void {
    events.clientError?.(code, status);
    const r = refusal(status);
    res.shouldKeepAlive = false;
    res.writeHead(status, r.headers as string[]);
    res.end(r.body);
    req.resume();
  }

  function onH2Request(req: Http2ServerRequest, res: Tagged<Http2ServerResponse>): void {
    const conn = (req.stream.session as Tagged<ServerHttp2Session> | undefined)?.[kConn];
    if (conn !== undefined) {
      conn.active++;
      inFlight++;
      res[kConn] = conn;
      res.on('close', onResponseClose);
    }
    handlers.request(req as GatewayRequest, res as GatewayResponse);
  }

  function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const conn = (socket as Tagged<Duplex>)[kConn];
    if (conn !== undefined) {
      conn.protocol = UPGRADED;
      conn.active++;
      inFlight++;
    }
    // Every byte of the tunnel passes through the client socket (read one
    // way, written the other), so its inactivity timer is the tunnel's.
    // Closing it makes the forwarder close the backend side too.
    if (limits.tunnelIdleTimeoutMs > 0 && socket instanceof Socket)
      socket.setTimeout(limits.tunnelIdleTimeoutMs, onTunnelIdle);
    handlers.upgrade(req, socket, head);
  }

  function onTunnelIdle(this: Socket): void {
    this.destroy();
  }

  function onConnect(_req: IncomingMessage, socket: Duplex): void {
    events.clientError?.('CONNECT', 405);
    socket.end(rawResponse(405));
  }

  function onClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
    const code = error.code ?? 'ERR_UNKNOWN';
    const conn = (socket as Tagged<Duplex>)[kConn];
    // A reset is the client leaving, not a malformed request.
    if (code === 'ECONNRESET' || !socket.writable || conn?.response?.headersSent === true) {
      socket.destroy();
      return;
    }
    const status =
      code === 'HPE_HEADER_OVERFLOW'
        ? 431
        : code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? 408
          : code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
            ? 413
            : 400;
    events.clientError?.(code, status);
    socket.end(rawResponse(status));
    (socket as Socket).destroySoon?.();
  }

  function onSession(session: Tagged<ServerHttp2Session>): void {
    const conn = (session.socket as Tagged<Socket>)[kConn];
    if (conn === undefined) return;
    conn.session = session;
    session[kConn] = conn;
    if (limits.keepAliveTimeoutMs > 0) session.setTimeout(limits.keepAliveTimeoutMs, onSessionIdle);
    if (draining) session.close();
  }

  function onSessionIdle(this: ServerHttp2Session): void {
    // Idle for keepAliveTimeout: GOAWAY, streams still open finish.
    this.close();
  }

  // Expect: 100-continue reaches the handler unanswered (http1/server.ts):
  // the forwarder sends 100 once it has an endpoint, and a 404 never asks
  // for the body.
  h2.on('request', onH2Request);
  h2.on('checkContinue', onH2Request);
  h2.on('session', onSession);
  // A session error (a peer breaking the protocol) ends that session only.
  h2.on('sessionError', noop);
  h2.on('streamError', noop);

  // --- the front -------------------------------------------------------------------

  function dispatch(
    conn: Conn,
    socket: Tagged<Socket>,
    h2Wanted: boolean,
    head: Buffer | undefined,
  ): void {
    conn.socket = socket;
    socket[kConn] = conn;
    if (h2Wanted) {
      conn.protocol = HTTP2;
      if (head !== undefined) socket.unshift(head);
      h2.emit('connection', socket);
    } else {
      conn.protocol = HTTP1;
      h1.serve(socket, head);
    }
  }

  function onSniffTimeout(this: Socket): void {
    events.clientError?.('HEADERS_TIMEOUT', 408);
    this.destroy();
  }

  /** The first reads of a cleartext connection: the HTTP/2 preface or not. */
  function onFirstRead(this: Tagged<Socket>, chunk: Buffer): undefined {
    const conn = this[kConn];
    if (conn === undefined) return undefined;
    const head = conn.head === undefined ? chunk : Buffer.concat([conn.head, chunk]);
    const kind = sniffProtocol(head);
    if (kind === 'more') {
      conn.head = keep(this, head);
      return undefined;
    }
    conn.head = undefined;
    this.removeListener('timeout', onSniffTimeout);
    this.setTimeout(0);
    // The HTTP/2 engine gets the bytes back as stream data, kept past this read.
    dispatch(conn, this, kind === 'h2', kind === 'h2' ? keep(this, head) : head);
    return undefined;
  }

  function onRawClose(this: Tagged<Socket>): void {
    const conn = this[kConn];
    if (conn === undefined || !conns.delete(conn)) return;
    if (conn.protocol === UPGRADED) inFlight--;
    onConnectionEvent(-1);
    if (draining && conns.size === 0) drained?.();
  }

  function onSocketError(this: Socket): void {
    // Resets and the like: the engines log nothing for them either.
    this.destroy();
  }

  const front: NetServer = createNetServer({ noDelay: true, pauseOnConnect: !tls }, (accepted) => {
    if (draining) {
      accepted.destroy();
      return;
    }
    const raw: Tagged<Socket> = tls ? accepted : withOwnReads(accepted);
    const conn: Conn = {
      raw,
      socket: undefined,
      protocol: PENDING,
      active: 0,
      session: undefined,
      response: undefined,
      head: undefined,
    };
    raw[kConn] = conn;
    conns.add(conn);
    onConnectionEvent(1);
    raw.on('close', onRawClose);
    raw.on('error', onSocketError);
    if (tlsServer !== undefined) {
      tlsServer.emit('connection', raw);
      return;
    }
    raw.setTimeout(limits.headersTimeoutMs, onSniffTimeout);
    setReader(raw, onFirstRead);
  });

  // --- TLS ---------------------------------------------------------------------------

  let tlsServer: TlsServer | undefined;
  if (tls) {
    tlsServer = createTlsServer({
      ALPNProtocols: ['h2', 'http/1.1'],
      handshakeTimeout: limits.headersTimeoutMs,
      minVersion: 'TLSv1.2',
      // Client certificates (when a listener asks for them, applyFallback) are
      // judged per listener after the handshake, not by OpenSSL for the port.
      rejectUnauthorized: false,
      SNICallback(servername, callback) {
        const context = certificates?.select(servername);
        if (context === undefined)
          callback(new Error(`no certificate for ${servername}`), undefined);
        else callback(null, context);
      },
    });
    tlsServer.on('secureConnection', (socket: Tagged<TLSSocket>) => {
      const raw = (socket as unknown as { _parent?: Tagged<Socket> })._parent;
      const conn = raw?.[kConn];
      if (conn === undefined || draining) {
        socket.destroy();
        return;
      }
      // The listener the server name selected checks client certificates
      // against its own CAs (its context has them): AllowValidOnly closes a
      // connection without a valid one; AllowInsecureFallback serves it.
      const servername = socket.servername || undefined;
      if (certificates?.clientValidation(servername) === 'AllowValidOnly' && !socket.authorized) {
        events.tlsError?.(
          `CLIENT_CERTIFICATE_${socket.authorizationError ?? 'MISSING'}`,
          servername,
        );
        socket.destroy();
        return;
      }
      socket.on('close', onTlsClose);
      dispatch(conn, socket as unknown as Socket, socket.alpnProtocol === 'h2', undefined);
    });
    tlsServer.on('tlsClientError', (error: NodeJS.ErrnoException, socket: TLSSocket) => {
      events.tlsError?.(error.code ?? 'ERR_TLS', socket.servername || undefined);
      socket.destroy();
    });
    applyFallback(certificates);
  }

  function onTlsClose(this: Tagged<TLSSocket>): void {
    const conn = this[kConn];
    if (conn !== undefined && !conn.raw.destroyed) conn.raw.destroy();
  }

  function applyFallback(selection: CertificateSelection | undefined): void {
    // Clients that send no SNI get the server's own context.
    const pair = selection?.fallback;
    if (tlsServer === undefined) return;
    if (pair !== undefined) {
      tlsServer.setSecureContext({
        cert: pair.cert,
        key: pair.key,
        ...(pair.ca === undefined ? {} : { ca: [...pair.ca] }),
        minVersion: 'TLSv1.2',
      });
    }
    // tls.Server reads requestCert for every new connection: a listener that
    // checks client certificates makes the port's handshakes ask for one
    // (clients without one still connect; their listener decides).
    (tlsServer as TlsServer & { requestCert: boolean }).requestCert =
      selection?.requestsClientCertificates ?? false;
  }

  // --- drain -------------------------------------------------------------------------

  function drainConn(conn: Conn): void {
    switch (conn.protocol) {
      case PENDING:
        conn.raw.destroy();
        return;
      case HTTP1:
        if (conn.active === 0) conn.socket?.destroy();
        else if (conn.response !== undefined && !conn.response.headersSent)
          conn.response.shouldKeepAlive = false;
        return;
      case HTTP2:
        if (conn.session !== undefined && !conn.session.closed) conn.session.close();
        return;
      default:
      // Upgraded (WebSocket): left open until the grace period ends.
    }
  }

  return {
    port,
    protocol,
    get connections() {
      return conns.size;
    },
    get inFlight() {
      return inFlight;
    },
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (error: NodeJS.ErrnoException) => {
          reject(ListenerErrors.FAILED(address, port, error.code ?? error.message));
        };
        front.once('error', onError);
        front.listen({ port, host: address, reusePort: options.reusePort ?? true }, () => {
          front.off('error', onError);
          const bound = front.address();
          resolve(
            typeof bound === 'object' && bound !== null
              ? { address: bound.address, port: bound.port }
              : { address, port },
          );
        });
      });
    },
    setCertificates(selection) {
      certificates = selection;
      applyFallback(selection);
    },
    close(graceMs) {
      closing ??= new Promise<void>((resolve) => {
        draining = true;
        front.close();
        let timer: NodeJS.Timeout | undefined;
        const finish = () => {
          if (timer !== undefined) clearTimeout(timer);
          h1.close();
          h2.close();
          resolve();
        };
        for (const conn of conns) drainConn(conn);
        if (conns.size === 0) {
          finish();
          return;
        }
        drained = finish;
        timer = setTimeout(() => {
          for (const conn of conns) {
            conn.socket?.destroy();
            conn.raw.destroy();
          }
        }, graceMs);
      });
      return closing;
    },
  };
}
