// The access log: one JSON line per request (issue 3 point 9), written to a
// buffered sink so that logging costs a string build per request, not a
// syscall. Lines are flushed in writes under 4 KiB: on a pipe those are
// atomic, so workers sharing stdout never interleave half lines.
//
//   {"time":"2026-11-29T23:40:01.123Z","msg":"access","gateway":"demo/edge","listener":"http",
//    "port":8080,"route":"HTTPRoute demo/by-path rule 0","service":"demo/echo-a:80",
//    "endpoint":"127.0.0.1:9101","method":"GET","path":"/a","status":200,"bytes_sent":312,
//    "bytes_received":-1,"duration_ms":1.42,"upstream_ms":1.2,"attempts":1,
//    "client":"127.0.0.1","traceparent":"00-...-...-00","error":null,"aborted":false}
//
// Fixed parts of a line (gateway, listener, route, service) are encoded once
// per route rule and backend (AccessLogStatic), at sync time.

import { pino } from 'pino';
import type { AccessLogSink } from '../gateway.ts';

/** What varies per request; ForwardResult (gateway/forward/plan.ts) is one. */
export interface AccessRecord {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly totalMs: number;
  readonly upstreamMs: number;
  readonly endpoint: string | undefined;
  readonly attempts: number;
  readonly clientIp: string;
  readonly traceparent: string;
  readonly errorCode: string | undefined;
  readonly clientAborted: boolean;
}

export interface AccessLogStatic {
  gateway: string;
  listener: string;
  port: number;
  /** `HTTPRoute ns/name rule 0`, or '' when no route matched. */
  route: string;
  /** `ns/name:port`, or ''. */
  service: string;
}

/** Pre-encoded `"gateway":...,"service":...` for one route rule and backend. */
export function encodeStatic(s: AccessLogStatic): string {
  return `"gateway":${JSON.stringify(s.gateway)},"listener":${JSON.stringify(s.listener)},"port":${s.port},"route":${JSON.stringify(s.route)},"service":${JSON.stringify(s.service)}`;
}

const MAX_PATH = 1024;

let lastMs = 0;
let lastIso = '';
function isoNow(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
}

function round(ms: number): number {
  return ms < 0 ? -1 : Math.round(ms * 100) / 100;
}

/** One access-log line (with its newline). */
export function accessLine(encodedStatic: string, r: AccessRecord): string {
  const path = r.path.length > MAX_PATH ? `${r.path.slice(0, MAX_PATH)}...` : r.path;
  return `{"time":"${isoNow()}","msg":"access",${encodedStatic},"endpoint":${r.endpoint === undefined ? 'null' : JSON.stringify(r.endpoint)},"method":${JSON.stringify(r.method)},"path":${JSON.stringify(path)},"status":${r.status},"bytes_sent":${r.bytesSent},"bytes_received":${r.bytesReceived},"duration_ms":${round(r.totalMs)},"upstream_ms":${round(r.upstreamMs)},"attempts":${r.attempts},"client":${JSON.stringify(r.clientIp)},"traceparent":${JSON.stringify(r.traceparent)},"error":${r.errorCode === undefined ? 'null' : `"${r.errorCode}"`},"aborted":${r.clientAborted}}\n`;
}

/**
 * Buffered stdout: sonic-boom (pino's destination), flushed once 3 KiB are
 * buffered or every few milliseconds, and synchronously by flush().
 */
export function createStdoutAccessLog(): AccessLogSink {
  const stream = pino.destination({ dest: 1, sync: false, minLength: 3072, maxWrite: 4096 });
  const timer = setInterval(() => stream.flush(), 50);
  timer.unref();
  return {
    write: (line) => stream.write(line),
    flush() {
      try {
        stream.flushSync();
      } catch {
        // Nothing buffered, or stdout is gone: nothing to do at exit.
      }
    },
  };
}
