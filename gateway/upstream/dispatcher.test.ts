// Both HTTP/1.1 dispatchers through the one suite: Pier's pool and undici's.

import { describeDispatcher } from './dispatcher.case.ts';
import { Http1Pool } from './http1/pool.ts';
import { undiciPool } from './pool-upstream.ts';

const timeouts = { connectTimeoutMs: 2000, keepAliveTimeoutMs: 4000 };

describeDispatcher(
  'Pier Http1Pool',
  (origin, options) => new Http1Pool(origin, { ...timeouts, ...options }),
);
describeDispatcher('undici Pool', (origin, options) =>
  undiciPool(origin, { ...timeouts, connections: options?.connections }),
);
