// The dispatcher for an h2c endpoint (Service appProtocol kubernetes.io/h2c,
// gRPC): HTTP/2 with prior knowledge over plain TCP. One connection carries
// up to 100 concurrent streams; the pool opens another only when all of its
// connections are that busy (connectionsPerEndpoint caps them, default 1).

import { type Dispatcher, H2CClient, Pool } from 'undici';

export interface H2cDispatcherOptions {
  connectTimeoutMs: number;
  keepAliveTimeoutMs: number;
  connections: number | undefined;
}

const MAX_CONCURRENT_STREAMS = 100;

export function createH2cDispatcher(origin: string, options: H2cDispatcherOptions): Dispatcher {
  return new Pool(origin, {
    connections: options.connections ?? 1,
    factory: (url) =>
      new H2CClient(url, {
        connectTimeout: options.connectTimeoutMs,
        keepAliveTimeout: options.keepAliveTimeoutMs,
        keepAliveMaxTimeout: options.keepAliveTimeoutMs,
        maxConcurrentStreams: MAX_CONCURRENT_STREAMS,
        pipelining: MAX_CONCURRENT_STREAMS,
        // gRPC streams may stay open and quiet for long; the forwarder's
        // timeouts (Gateway API) are the ones that apply.
        headersTimeout: 300_000,
        bodyTimeout: 0,
      }),
  });
}
