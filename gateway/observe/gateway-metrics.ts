// The gateway's Prometheus metrics (issue 3 point 9), all in the process's
// registry (src/observe/metrics.ts) under pier_gateway_*:
//
//   requests_total{route,service,code}          requests answered, by status
//   request_duration_seconds{route,service}     from the request to the end of its response
//   upstream_duration_seconds{route,service}    from the request to the backend's response head
//   upstream_connect_errors_total{service}      requests that ended on a connect failure
//   retries_total{route,service}                attempts after the first
//   outlier_ejections_total{service}            endpoints ejected (read from the upstreams)
//   open_connections{port}                      client connections, upgraded ones included
//   client_errors_total{reason,status}          requests refused by a listener (smuggling, limits, CONNECT)
//   tls_handshake_errors_total{reason}
//   syncs_total, sync_duration_seconds, config_problems
//
// `route` is `<kind>/<namespace>/<name>/rule/<index>` (lower-case kind), or
// '' when no route matched; `service` is `<namespace>/<name>:<port>`.
// Label children are made once per route rule and backend at sync time, so
// recording a request does no label hashing.

import type { Counter, Gauge, Histogram } from 'prom-client';
import type { Metrics } from '../../src/observe/metrics.ts';

export interface GatewayMetrics {
  readonly requests: Counter<'route' | 'service' | 'code'>;
  readonly duration: Histogram<'route' | 'service'>;
  readonly upstreamDuration: Histogram<'route' | 'service'>;
  readonly connectErrors: Counter<'service'>;
  readonly retries: Counter<'route' | 'service'>;
  readonly openConnections: Gauge<'port'>;
  readonly clientErrors: Counter<'reason' | 'status'>;
  readonly tlsErrors: Counter<'reason'>;
  readonly splicedBodies: Counter<'outcome'>;
  readonly splicedBytes: Counter;
  readonly syncs: Counter;
  readonly syncDuration: Histogram;
  readonly problems: Gauge;
  /** Sets where outlier_ejections_total reads its numbers from (the upstream registry). */
  setEjectionSource(source: () => Iterable<[service: string, ejections: number]>): void;
}

export function createGatewayMetrics(metrics: Metrics): GatewayMetrics {
  let ejectionSource: () => Iterable<[string, number]> = () => [];
  const ejections = metrics.counter(
    'gateway_outlier_ejections_total',
    'Endpoints ejected as outliers (connect failures, consecutive 5xx), per Service port since its upstream was made',
    ['service'],
  );
  // Read at scrape time: the upstreams own the numbers (prom-client calls collect()).
  (ejections as unknown as { collect?: () => void }).collect = () => {
    ejections.reset();
    for (const [service, count] of ejectionSource()) ejections.inc({ service }, count);
  };
  return {
    requests: metrics.counter(
      'gateway_requests_total',
      'Requests answered, by route, Service and status code',
      ['route', 'service', 'code'],
    ),
    duration: metrics.histogram(
      'gateway_request_duration_seconds',
      'From the request to the end of its response',
      ['route', 'service'],
    ),
    upstreamDuration: metrics.histogram(
      'gateway_upstream_duration_seconds',
      "From the request to the backend's response head",
      ['route', 'service'],
    ),
    connectErrors: metrics.counter(
      'gateway_upstream_connect_errors_total',
      'Requests that ended on a failure to connect to an endpoint',
      ['service'],
    ),
    retries: metrics.counter(
      'gateway_retries_total',
      'Attempts after the first, by route and Service',
      ['route', 'service'],
    ),
    openConnections: metrics.gauge(
      'gateway_open_connections',
      'Client connections open, upgraded (WebSocket) ones included',
      ['port'],
    ),
    clientErrors: metrics.counter(
      'gateway_client_errors_total',
      'Requests a listener refused before routing (malformed, ambiguous, too large, too slow, CONNECT)',
      ['reason', 'status'],
    ),
    splicedBodies: metrics.counter(
      'gateway_request_bodies_spliced_total',
      'Request bodies the kernel moved from client to endpoint (splice(2)), by outcome: ok, or the side that failed (source: the client, destination: the endpoint, cancelled)',
      ['outcome'],
    ),
    splicedBytes: metrics.counter(
      'gateway_request_body_bytes_spliced_total',
      'Bytes of request bodies moved by the kernel (bodies spliced whole)',
    ),
    tlsErrors: metrics.counter('gateway_tls_handshake_errors_total', 'Failed TLS handshakes', [
      'reason',
    ]),
    syncs: metrics.counter('gateway_syncs_total', 'Configuration syncs applied'),
    syncDuration: metrics.histogram(
      'gateway_sync_duration_seconds',
      'Time to apply one sync (translate, upstreams, certificates, listeners)',
    ),
    problems: metrics.gauge(
      'gateway_config_problems',
      'Objects not served as written (see the log for each, with its PIER_GW_TRANSLATE_* code)',
    ),
    setEjectionSource(source) {
      ejectionSource = source;
    },
  };
}
