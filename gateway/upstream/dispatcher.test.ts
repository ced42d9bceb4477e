// Both HTTP/1.1 dispatchers through the one suite: Pier's pool and undici's,
// over TCP and over TLS (backends serving testdata/backend.crt).

import { describeDispatcher } from './dispatcher.case.ts';
import { Http1Pool } from './http1/pool.ts';
import { undiciPool } from './pool-upstream.ts';
import { serving, upstreamTls } from './testdata/certificates.ts';

const timeouts = { connectTimeoutMs: 2000, keepAliveTimeoutMs: 4000 };
const tls = upstreamTls();

describeDispatcher(
  'Pier Http1Pool',
  (origin, options) => new Http1Pool(origin, { ...timeouts, ...options }),
);
describeDispatcher('undici Pool', (origin, options) =>
  undiciPool(origin, { ...timeouts, connections: options?.connections }),
);
describeDispatcher(
  'Pier Http1Pool over TLS',
  (origin, options) => new Http1Pool(origin, { ...timeouts, ...options, tls }),
  serving('backend'),
);
describeDispatcher(
  'undici Pool over TLS',
  (origin, options) => undiciPool(origin, { ...timeouts, connections: options?.connections, tls }),
  serving('backend'),
);
