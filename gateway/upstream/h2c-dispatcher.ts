// The dispatcher for an h2c endpoint (Service appProtocol kubernetes.io/h2c,
// gRPC): HTTP/2 with prior knowledge over plain TCP. One connection carries
// up to 100 concurrent streams; the pool opens another only when all of its
// connections are that busy (connectionsPerEndpoint caps them, default 1).
//
// With `tls` (a BackendTLSPolicy on the port, an `https:` origin) it is
// HTTP/2 over TLS instead: undici's Client with allowH2, through
// backend-tls.ts's connector, which offers ALPN h2 only and fails a backend
// that does not select it (no quiet fallback to HTTP/1.1, which gRPC cannot
// use).

import { Client, type Dispatcher, H2CClient, Pool } from 'undici';
import type { UpstreamTls } from '../upstream.ts';
import { createTlsConnector, FixedServerNameDispatcher } from './backend-tls.ts';
import type { UpstreamDispatcher } from './dispatcher.ts';

export interface H2cDispatcherOptions {
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connections: number | undefined;
  /** HTTP/2 over TLS (origin `https:`); absent: h2c (origin `http:`). */
  tls?: UpstreamTls | undefined;
}

const MAX_CONCURRENT_STREAMS = 100;

export function createH2cDispatcher(
  origin: string,
  options: H2cDispatcherOptions,
): UpstreamDispatcher {
  const clientOptions = {
    keepAliveTimeout: options.keepAliveTimeoutMs,
    keepAliveMaxTimeout: options.keepAliveTimeoutMs,
    maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
    pipelining: MAX_CONCURRENT_STREAMS,
    // gRPC streams may stay open and quiet for long; the forwarder's
    // timeouts (Gateway API) are the ones that apply.
    headersTimeout: 300_000,
    bodyTimeout: 0,
  };
  const tls = options.tls;
  if (tls === undefined) {
    const pool = new Pool(origin, {
      connections: options.connections ?? 1,
      factory: (url) =>
        new H2CClient(url, { ...clientOptions, connectTimeout: options.connectTimeoutMs }),
    });
    return pool as unknown as UpstreamDispatcher;
  }
  // One connector for the pool's clients: they share its TLS session.
  const connect = createTlsConnector({
    tls,
    alpn: 'h2',
    connectTimeoutMs: options.connectTimeoutMs,
  });
  const pool: Dispatcher = new Pool(origin, {
    connections: options.connections ?? 1,
    factory: (url) => new Client(url, { ...clientOptions, allowH2: true, connect }),
  });
  return new FixedServerNameDispatcher(pool, tls.serverName);
}
