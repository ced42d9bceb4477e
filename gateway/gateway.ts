// The gateway as one object: everything between the Store and the sockets.
//
//   Store ──informer (list+watch, in-memory index)──> record changes
//        └─> one rate-limited sync (coalesces changes within syncDelayMs):
//              translate(objects) -> GatewayConfig (ports, listeners, route tables, status)
//              upstream registry  -> an Upstream per Service port, endpoints from EndpointSlices
//              certificates       -> a selection per HTTPS port
//              listeners          -> open new ports, swap routing/certificates, drain removed ports
//   client ──listener──> request handler: lookup -> errors / redirects -> filters -> forward()
//
// A sync swaps each port's routing in one assignment, so a request sees the
// old or the new table, never a mix; requests in flight keep the upstream
// they started on (removed endpoints drain), and open connections stay on
// their listener whatever changes (gateway/README.md "Listeners and assembly").
//
// Implementation: gateway/assembly/create-gateway.ts.

import type { PierConfig } from '../src/config/schema.ts';
import type { Logger } from '../src/observe/logger.ts';
import type { Metrics } from '../src/observe/metrics.ts';
import type { Informer } from '../src/store/informer.ts';
import type { Store } from '../src/store.ts';
import type { ListenerProtocol } from './listener.ts';
import type { GatewayConfig, Problem, StatusReport } from './translate/gateway-config.ts';

/** The `gateway` config section (src/config/sections/gateway.ts). */
export type GatewaySettings = PierConfig['gateway'];

/** Where access-log lines go: one complete JSON line per call. */
export interface AccessLogSink {
  write(line: string): unknown;
  /** Writes out what is buffered (at shutdown). */
  flush?(): void;
}

export interface GatewayOptions {
  /** The Store to watch; the gateway makes its own informer over GATEWAY_KINDS. */
  store?: Store;
  /** Or an informer over (at least) GATEWAY_KINDS, started by its owner. */
  informer?: Informer;
  settings: GatewaySettings;
  logger: Logger;
  metrics: Metrics;
  /** Access-log destination (default: buffered stdout); ignored when settings.accessLog is off. */
  accessLog?: AccessLogSink;
}

export interface GatewayPortStatus {
  port: number;
  protocol: ListenerProtocol;
  address: string;
  connections: number;
  inFlight: number;
  /** Listeners served on the port: `namespace/gateway listener`. */
  listeners: string[];
}

export interface GatewayState {
  /** Syncs applied so far. */
  syncs: number;
  /** The Store revision the last sync saw. */
  revision: number;
  ports: GatewayPortStatus[];
  /** Ports that could not be opened, with why. */
  portErrors: { port: number; code: string; message: string }[];
  upstreams: { name: string; endpoints: number; available: number }[];
  problems: readonly Problem[];
  status: StatusReport | undefined;
}

export interface Gateway {
  /** Starts watching; resolves once the first sync has opened the listeners. */
  start(signal?: AbortSignal): Promise<void>;
  /** Synced, and every port the config asks for is listening. */
  ready(): boolean;
  /** Resolves after a sync has applied everything recorded before the call. */
  settled(): Promise<void>;
  state(): GatewayState;
  /** The configuration the last sync applied (undefined before the first). */
  config(): GatewayConfig | undefined;
  /**
   * Stops accepting on every port, lets requests in flight finish within
   * `graceMs` (settings.shutdownGraceMs by default), then closes upstreams.
   */
  close(graceMs?: number): Promise<void>;
}

export { createGateway } from './assembly/create-gateway.ts';
export { GATEWAY_KINDS } from './assembly/kinds.ts';
