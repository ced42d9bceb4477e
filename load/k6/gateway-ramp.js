// k6 ramp test for a running Pier gateway (for users; k6 is not installed in
// Pier's CI and these scripts are not run there). Raises the request rate in
// steps to find where latency bends: read the p99 per stage in k6's summary,
// or stream results with `--out json=ramp.json`.
//
//   k6 run -e TARGET=http://127.0.0.1:8080 -e PEAK=20000 load/k6/gateway-ramp.js
//
// PEAK is the highest rate tried (requests/s, default 10000); PATH_ the path
// (default /small). Run k6 on another machine than the gateway when you can:
// on one machine the load generator competes with what it measures.

import { check } from 'k6';
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://127.0.0.1:8080';
const PATH = __ENV.PATH_ || '/small';
const PEAK = Number(__ENV.PEAK || 10000);

export const options = {
  discardResponseBodies: true,
  scenarios: {
    ramp: {
      executor: 'ramping-arrival-rate',
      startRate: Math.max(1, Math.round(PEAK / 20)),
      timeUnit: '1s',
      preAllocatedVUs: 200,
      maxVUs: 2000,
      stages: [
        { target: Math.round(PEAK * 0.25), duration: '30s' },
        { target: Math.round(PEAK * 0.5), duration: '30s' },
        { target: Math.round(PEAK * 0.75), duration: '30s' },
        { target: PEAK, duration: '30s' },
        { target: PEAK, duration: '60s' },
        { target: 0, duration: '10s' },
      ],
    },
  },
  thresholds: {
    // The targets are ratios against nginx at the same load (see
    // load/README.md); these absolute bounds only flag a broken run.
    http_req_failed: ['rate<0.01'],
    http_req_duration: ['p(99)<250'],
    dropped_iterations: ['count<100'],
  },
};

export default function () {
  const res = http.get(`${TARGET}${PATH}`);
  check(res, { 'status 200': (r) => r.status === 200 });
}
