// TLS from the gateway to an endpoint: the transport half of Gateway API
// BackendTLSPolicy, shared by Pier's HTTP/1.1 pool (http1/) and undici's
// pools (pool-upstream.ts, h2c-dispatcher.ts).
//
// What the spec asks, and where it is done:
// - the policy's hostname is the SNI (RFC 6066; not sent when it is an IP
//   literal, which RFC 6066 forbids): tlsConnectOptions().servername;
// - the chain is verified against the policy's CAs only, or the system's
//   well-known CAs without them: one secure context per settings;
// - the certificate must carry the hostname, or, when the policy lists
//   subjectAltNames, one of those instead (the hostname is then SNI only):
//   verifyBackendIdentity(), Node's checkServerIdentity for DNS names
//   (wildcards per RFC 6125), exact comparison for URIs;
// - a failed handshake fails the connection, before any request was sent on
//   it: the forwarder counts it as a failure to connect (502/503, retried on
//   another endpoint), and the message says why (tlsFailure()).
//
// rejectUnauthorized is set explicitly, so NODE_TLS_REJECT_UNAUTHORIZED=0
// in the environment does not turn verification off.

import { isIP } from 'node:net';
import {
  type ConnectionOptions,
  checkServerIdentity,
  createSecureContext,
  type PeerCertificate,
  type SecureContext,
  type TLSSocket,
  connect as tlsConnect,
} from 'node:tls';
import type { buildConnector, Dispatcher } from 'undici';
import type { UpstreamTls } from '../upstream.ts';
import {
  connectTimeoutError,
  UPSTREAM_SOCKET_OPTIONS,
  type UpstreamDispatcher,
  type UpstreamDispatchOptions,
  type UpstreamHandler,
  upstreamError,
} from './dispatcher.ts';

/** The code of every TLS failure (handshake, chain, name); the cause is Node's error. */
export const UPSTREAM_TLS_ERROR = 'PIER_UPSTREAM_TLS';

/** The ALPN protocol a pool speaks: it offers only that one. */
export type UpstreamAlpn = 'http/1.1' | 'h2';

const contexts = new WeakMap<UpstreamTls, SecureContext>();

/**
 * The tls.connect options for one endpoint's connections, without host,
 * port and socket options. The CAs are parsed once per settings object (a
 * secure context shared by every connection and endpoint of the upstream).
 */
export function tlsConnectOptions(settings: UpstreamTls, alpn: UpstreamAlpn): ConnectionOptions {
  let secureContext = contexts.get(settings);
  if (secureContext === undefined) {
    secureContext = createSecureContext({
      // An empty list trusts nothing: "only those CAs" holds for it too.
      ca: settings.ca === undefined ? undefined : [...settings.ca],
      // Mutual TLS: sent only when the endpoint requests a client certificate.
      ...(settings.clientCertificate === undefined
        ? {}
        : { cert: settings.clientCertificate.cert, key: settings.clientCertificate.key }),
      minVersion: 'TLSv1.2',
    });
    contexts.set(settings, secureContext);
  }
  return {
    secureContext,
    servername: isIP(settings.serverName) === 0 ? settings.serverName : undefined,
    ALPNProtocols: [alpn],
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) =>
      verifyBackendIdentity(settings, cert),
  };
}

/**
 * Whether the endpoint's certificate (its chain already verified) carries
 * the name the policy asks for: the hostname, or one of subjectAltNames
 * when there are any. Undefined when it does, else the error to fail with.
 */
export function verifyBackendIdentity(
  settings: UpstreamTls,
  cert: PeerCertificate,
): Error | undefined {
  const names = subjectAltNamesOf(cert.subjectaltname);
  const wanted = settings.subjectAltNames;
  if (wanted.length === 0) {
    // Node's rules: DNS (or IP) SANs, the CN only when the certificate has no DNS SAN.
    if (checkServerIdentity(settings.serverName, cert) === undefined) return undefined;
    return identityError(settings.serverName, names, cert);
  }
  // A SAN must match: with no DNS SAN, Node would fall back to the CN.
  const hasDns = names.some((name) => name.startsWith('DNS:'));
  for (const san of wanted) {
    if (san.type === 'URI') {
      if (names.includes(`URI:${san.value}`)) return undefined;
    } else if (hasDns && checkServerIdentity(san.value, cert) === undefined) {
      return undefined;
    }
  }
  const list = wanted.map((san) => `${san.type === 'URI' ? 'URI' : 'DNS'}:${san.value}`);
  return identityError(list.join(' or '), names, cert);
}

function identityError(wanted: string, names: readonly string[], cert: PeerCertificate): Error {
  const cn = cert.subject?.CN;
  const has =
    names.length > 0 ? names.join(', ') : cn !== undefined ? `CN ${cn}` : 'no names at all';
  const error = new Error(`certificate does not match ${wanted} (${has})`) as Error & {
    code: string;
  };
  error.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
  return error;
}

/**
 * Node's subjectaltname text as `TYPE:value` entries. Entries are joined by
 * `, `; a value with special characters comes JSON-quoted (`URI:"a,b"`).
 */
export function subjectAltNamesOf(text: string | undefined): string[] {
  if (text === undefined || text === '') return [];
  if (!text.includes('"')) return text.split(', ');
  const names: string[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon === -1) break;
    let end: number;
    let value: string;
    if (text[colon + 1] === '"') {
      let j = colon + 2;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      end = j + 1;
      value = JSON.parse(text.slice(colon + 1, end)) as string;
    } else {
      end = text.indexOf(', ', colon);
      if (end === -1) end = text.length;
      value = text.slice(colon + 1, end);
    }
    names.push(text.slice(i, colon + 1) + value);
    i = end + 2;
  }
  return names;
}

/** A failed handshake or verification, for the endpoint `ip:port`. */
export function tlsFailure(endpoint: string, cause: Error): Error {
  return upstreamError(UPSTREAM_TLS_ERROR, `TLS to ${endpoint} failed: ${cause.message}`, cause);
}

/** A handshake that did not finish within the connect timeout (the TCP connect did). */
export function tlsTimeout(endpoint: string, timeoutMs: number): Error {
  return upstreamError(
    'PIER_UPSTREAM_CONNECT_TIMEOUT',
    `TLS to ${endpoint} failed: no handshake within ${timeoutMs} ms`,
  );
}

export interface TlsConnectorOptions {
  tls: UpstreamTls;
  alpn: UpstreamAlpn;
  /** Covers the TCP connect and the handshake; 0: none. */
  connectTimeoutMs: number;
}

/**
 * The `connect` function for undici's Client and Pool: a TLS connection
 * with the policy's settings, whatever servername undici asks for. It
 * resumes the last TLS session of its pool (one endpoint, one policy, so a
 * session is never used for other settings) and, for h2, fails a backend
 * that did not agree to it instead of letting undici fall back to HTTP/1.1.
 */
export function createTlsConnector(options: TlsConnectorOptions): buildConnector.connector {
  const base = tlsConnectOptions(options.tls, options.alpn);
  let session: Buffer | undefined;
  return ({ hostname, port }, callback) => {
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const endpoint = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    // tls.connect hands noDelay and keepAlive to the socket (Node 24); @types/node omits them.
    const socket: TLSSocket = tlsConnect({
      ...base,
      host,
      port: Number(port),
      session,
      ...UPSTREAM_SOCKET_OPTIONS,
    } as ConnectionOptions);
    let tcpConnected = false;
    let done = false;
    const finish = (error: Error | null) => {
      if (done) return;
      done = true;
      if (timer !== undefined) clearTimeout(timer);
      socket.removeListener('error', onError);
      if (error === null) {
        callback(null, socket);
        return;
      }
      socket.on('error', () => {});
      socket.destroy();
      callback(error, null);
    };
    const onError = (error: Error) => finish(tcpConnected ? tlsFailure(endpoint, error) : error);
    const timer =
      options.connectTimeoutMs > 0
        ? setTimeout(
            () =>
              finish(
                tcpConnected
                  ? tlsTimeout(endpoint, options.connectTimeoutMs)
                  : connectTimeoutError(options.connectTimeoutMs),
              ),
            options.connectTimeoutMs,
          )
        : undefined;
    socket.once('connect', () => {
      tcpConnected = true;
    });
    socket.on('session', (next: Buffer) => {
      session = next;
    });
    socket.on('error', onError);
    socket.once('secureConnect', () => {
      if (options.alpn === 'h2' && socket.alpnProtocol !== 'h2') {
        finish(tlsFailure(endpoint, new Error('the backend did not agree to HTTP/2 (ALPN h2)')));
        return;
      }
      finish(null);
    });
  };
}

/**
 * An undici Pool to a TLS endpoint, with the policy's name as every
 * request's servername. undici otherwise takes each request's SNI from its
 * Host header and closes a connection made for another name before it sends
 * a request with a different Host: behind a gateway, Hosts vary, the
 * endpoint and its policy do not. (createTlsConnector ignores the name
 * anyway; this keeps undici from reconnecting.)
 */
export class FixedServerNameDispatcher implements UpstreamDispatcher {
  readonly pool: Dispatcher;
  readonly servername: string;

  constructor(pool: Dispatcher, servername: string) {
    this.pool = pool;
    this.servername = servername;
  }

  dispatch(options: UpstreamDispatchOptions, handler: UpstreamHandler): boolean {
    return this.pool.dispatch(
      { ...options, servername: this.servername } as Dispatcher.DispatchOptions,
      handler as Dispatcher.DispatchHandler,
    );
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
