// k6 smoke test for a running Pier gateway (for users; k6 is not installed in
// Pier's CI and these scripts are not run there). A few virtual users for a
// short time: every case answers, nothing fails, latencies are sane.
//
//   k6 run -e TARGET=http://127.0.0.1:8080 load/k6/gateway-smoke.js
//
// TARGET is the Gateway listener; it should route /small, /download and
// /upload to a backend like load/gateway's (nginx answering a short text, a
// 1 MiB file, and reading a 1 MiB upload). Set UPLOAD=0 to skip the upload.

import { check, sleep } from 'k6';
import http from 'k6/http';

const TARGET = __ENV.TARGET || 'http://127.0.0.1:8080';
const UPLOAD = __ENV.UPLOAD !== '0';
const ONE_MIB = 'x'.repeat(1024 * 1024);

export const options = {
  vus: 5,
  duration: '30s',
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{case:small}': ['p(99)<100'],
    'http_req_duration{case:download}': ['p(99)<1000'],
    'http_req_duration{case:upload}': ['p(99)<1000'],
    checks: ['rate>0.99'],
  },
};

export default function () {
  const small = http.get(`${TARGET}/small`, { tags: { case: 'small' } });
  check(small, {
    'small: 200': (r) => r.status === 200,
    'small: has a body': (r) => r.body.length > 0,
  });

  const download = http.get(`${TARGET}/download`, { tags: { case: 'download' } });
  check(download, {
    'download: 200': (r) => r.status === 200,
    'download: 1 MiB': (r) => r.body.length === ONE_MIB.length,
  });

  if (UPLOAD) {
    const upload = http.post(`${TARGET}/upload`, ONE_MIB, {
      headers: { 'Content-Type': 'application/octet-stream' },
      tags: { case: 'upload' },
    });
    check(upload, { 'upload: 200': (r) => r.status === 200 });
  }
  sleep(0.1);
}
