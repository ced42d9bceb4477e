// The observer of one route rule and backend (or of the gateway's own
// answers on a port): what forward() reports at the end of a request goes
// to the metrics and the access log. Label children and the fixed part of
// the log line are made here, once per sync, so a request costs a few
// counter increments, two histogram observations and one string.

import type { Counter, Histogram } from 'prom-client';
import type { ForwardObserver } from '../forward.ts';
import type { AccessLogSink } from '../gateway.ts';
import { type AccessLogStatic, type AccessRecord, accessLine, encodeStatic } from './access-log.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';

export interface RouteLabels extends AccessLogStatic {
  /** Metric label: `httproute/ns/name/rule/0`, or ''. */
  routeLabel: string;
}

export interface RouteObserver extends ForwardObserver {
  onResponse(result: AccessRecord): void;
}

const CONNECT_ERROR = 'PIER_GW_UPSTREAM_CONNECT';

export function createRouteObserver(
  labels: RouteLabels,
  metrics: GatewayMetrics,
  accessLog: AccessLogSink | undefined,
): RouteObserver {
  const { routeLabel, service } = labels;
  const codes = new Map<number, Counter.Internal>();
  const duration: Histogram.Internal<'route' | 'service'> = metrics.duration.labels(
    routeLabel,
    service,
  );
  const upstream = metrics.upstreamDuration.labels(routeLabel, service);
  let retries: Counter.Internal | undefined;
  let connectErrors: Counter.Internal | undefined;
  const encoded = accessLog === undefined ? '' : encodeStatic(labels);
  return {
    onResponse(result) {
      let counter = codes.get(result.status);
      if (counter === undefined) {
        counter = metrics.requests.labels(routeLabel, service, String(result.status));
        codes.set(result.status, counter);
      }
      counter.inc();
      if (result.totalMs >= 0) duration.observe(result.totalMs / 1000);
      if (result.upstreamMs >= 0) upstream.observe(result.upstreamMs / 1000);
      if (result.attempts > 1) {
        retries ??= metrics.retries.labels(routeLabel, service);
        retries.inc(result.attempts - 1);
      }
      if (result.errorCode === CONNECT_ERROR) {
        connectErrors ??= metrics.connectErrors.labels(service);
        connectErrors.inc();
      }
      if (accessLog !== undefined) accessLog.write(accessLine(encoded, result));
    },
  };
}
