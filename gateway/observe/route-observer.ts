// The observer of one route rule and backend (or of the gateway's own
// answers on a port): what forward() reports at the end of a request goes
// to the metrics and the access log. Label children and the fixed part of
// the log line are made here, once per sync, so a request costs a few
// counter increments, two histogram observations and one string.

import type { Counter } from 'prom-client';
import type { ForwardObserver } from '../forward.ts';
import type { AccessLogSink } from '../gateway.ts';
import { type AccessLogStatic, type AccessRecord, accessLine, encodeStatic } from './access-log.ts';
import type { GatewayMetrics } from './gateway-metrics.ts';
import { counterChild, histogramChild } from './metric-children.ts';

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
  // requests_total by status: the children for statuses seen, made on first sight.
  const codes = new Map<number, () => void>();
  const duration = histogramChild(metrics.duration, [routeLabel, service]);
  const upstream = histogramChild(metrics.upstreamDuration, [routeLabel, service]);
  let retries: Counter.Internal | undefined;
  let connectErrors: Counter.Internal | undefined;
  const encoded = accessLog === undefined ? '' : encodeStatic(labels);
  return {
    onResponse(result) {
      let inc = codes.get(result.status);
      if (inc === undefined) {
        inc = counterChild(metrics.requests, [routeLabel, service, String(result.status)]);
        codes.set(result.status, inc);
      }
      inc();
      if (result.totalMs >= 0) duration(result.totalMs / 1000);
      if (result.upstreamMs >= 0) upstream(result.upstreamMs / 1000);
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
