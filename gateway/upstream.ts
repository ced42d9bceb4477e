// An upstream (Envoy: a cluster) is one Service port as the gateway sees it:
// the endpoints it may send requests to, a pool of keep-alive connections
// per endpoint, a balancer, and the passive health (outlier) state of each
// endpoint. The router resolves a backendRef to an upstream once per config
// change; the forwarder asks it for a host per attempt and reports back.
//
// Endpoint sets are replaced live (setEndpoints): an endpoint that stays
// keeps its connections and state; a removed one gets no new requests and
// its pool closes once its in-flight requests have finished, so an update
// never drops a request.
//
// Implementation: gateway/upstream/pool-upstream.ts (createUpstream, a pool
// per endpoint: Pier's HTTP/1.1 pool, upstream/http1/, or undici's H2C client
// for h2c; over TLS when a BackendTLSPolicy applies, upstream/backend-tls.ts).
// The pure parts beside it: endpoints-from-slices.ts
// (Service + EndpointSlices -> endpoint set) and outlier-detector.ts.

import type { Balancer, BalancerHost, BalancerKind } from './balancer.ts';
import type { UpstreamDispatcher } from './upstream/dispatcher.ts';
import type { AttemptOutcome, OutlierPolicy, OutlierState } from './upstream/outlier-detector.ts';

/** How the gateway speaks to the endpoints: HTTP/1.1, or HTTP/2 with prior knowledge (gRPC). */
export type UpstreamProtocol = 'http1' | 'h2c';

/**
 * TLS to the endpoints (a BackendTLSPolicy on the Service port): how the
 * gateway connects and what it accepts of the endpoint's certificate.
 * Without it the gateway speaks plain TCP (the default).
 */
export interface UpstreamTls {
  /** The SNI sent; also the name the certificate must carry when subjectAltNames is empty. */
  readonly serverName: string;
  /** PEM CA certificates to trust (each entry may hold a bundle); undefined: the system's well-known CAs. */
  readonly ca: readonly string[] | undefined;
  /**
   * When not empty, the certificate must carry one of these names instead:
   * a DNS name (`Hostname`, wildcards in the certificate as RFC 6125 allows) or a URI (SPIFFE IDs).
   */
  readonly subjectAltNames: readonly UpstreamSubjectAltName[];
  /**
   * The certificate chain and key (PEM) the gateway presents when the
   * endpoint asks for one (mutual TLS: Gateway spec.tls.backend.clientCertificateRef).
   */
  readonly clientCertificate?: { readonly cert: string; readonly key: string } | undefined;
  /** Equal keys mean equal settings: an upstream whose key changes gets new pools. */
  readonly key: string;
}

export interface UpstreamSubjectAltName {
  readonly type: 'Hostname' | 'URI';
  readonly value: string;
}

/** Which pool speaks HTTP/1.1: Pier's own (upstream/http1/, the default) or undici's. */
export type Http1Client = 'pier' | 'undici';

/** One endpoint as EndpointSlices describe it: the desired state. */
export interface EndpointAddress {
  /** An IP address (or, for an ExternalName Service, a DNS name). */
  address: string;
  port: number;
  /** EndpointSlice conditions; absent ready/serving mean true, absent terminating false. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  zone?: string;
  nodeName?: string;
}

/** One endpoint as the gateway runs it. */
export interface UpstreamHost extends BalancerHost {
  /** `10.0.0.7:8080`, `[fd00::7]:8080`. */
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly zone: string | undefined;
  /** `http://10.0.0.7:8080`; `https://10.0.0.7:8443` when the upstream has `tls`. */
  readonly origin: string;
  /** The keep-alive connection pool to this endpoint. */
  readonly dispatcher: UpstreamDispatcher;
  /** Requests in flight (the least-request balancer reads it). */
  readonly active: number;
  readonly outlier: Readonly<OutlierState>;
  /** False once the endpoint was removed: its pool is draining. */
  readonly live: boolean;
}

export interface UpstreamOptions {
  /** How logs and errors name it: `Service default/web:80`. */
  name: string;
  protocol?: UpstreamProtocol;
  /** TLS to the endpoints (BackendTLSPolicy); absent: plain TCP. */
  tls?: UpstreamTls | undefined;
  /** Default least-request; ring-hash or maglev for affinity (sessionAffinity ClientIP, cookie, header). */
  balancer?: BalancerKind;
  /** Passive outlier ejection; false turns it off. */
  outlier?: Partial<OutlierPolicy> | false;
  /** TCP connect timeout per endpoint (default 5000 ms). */
  connectTimeoutMs?: number;
  /**
   * Idle keep-alive connections close after this (default 4000 ms). Keep it
   * below the backends' own idle timeout (Node's default is 5 s), or a
   * request may race the backend closing the connection.
   */
  keepAliveTimeoutMs?: number;
  /** The HTTP/1.1 pool (default 'pier'). */
  http1Client?: Http1Client;
  /** Connections per endpoint at most (default: no limit for HTTP/1.1, 1 for h2c). */
  connectionsPerEndpoint?: number;
  /**
   * Builds an endpoint's dispatcher: the port tests replace. Default
   * (defaultDispatcher): Pier's Http1Pool, undici's Pool, or undici's HTTP/2
   * client for h2c. `tls` is the upstream's `tls` and the origin is `https:`
   * exactly when it is set; the dispatcher must connect with TLS then.
   */
  createDispatcher?: (
    origin: string,
    protocol: UpstreamProtocol,
    tls: UpstreamTls | undefined,
  ) => UpstreamDispatcher;
  /** Clock in ms (default performance.now) and random source (default Math.random): injected for tests. */
  now?: () => number;
  random?: () => number;
}

export interface UpstreamHostStatus {
  key: string;
  zone: string | undefined;
  active: number;
  live: boolean;
  ejected: boolean;
  ejectedUntil: number;
  ejections: number;
  consecutiveFailures: number;
}

export interface Upstream {
  readonly name: string;
  readonly protocol: UpstreamProtocol;
  /** Whether the balancer uses an affinity hash; the forwarder hashes only then. */
  readonly hashes: boolean;
  readonly balancer: Balancer;
  /**
   * Replaces the endpoint set (duplicates by address:port collapse to one).
   * Hosts that stay keep their pools and state; removed hosts drain.
   */
  setEndpoints(endpoints: readonly EndpointAddress[]): void;
  /** Hosts new requests may go to: live and not ejected. */
  available(): readonly UpstreamHost[];
  /**
   * The host for one attempt, undefined when none is available. `hash` is
   * the affinity hash (when `hashes`); `avoid` is the host of a failed
   * previous attempt, skipped when another host is available.
   */
  pick(hash: number, avoid?: UpstreamHost): UpstreamHost | undefined;
  /** An attempt starts on the host: one more in flight. */
  begin(host: UpstreamHost): void;
  /** The attempt ended: one less in flight, and its outcome feeds outlier detection. */
  end(host: UpstreamHost, outcome: AttemptOutcome): void;
  /** Per-host state for /debug and tests. */
  status(): UpstreamHostStatus[];
  /** Stops taking requests; resolves when every pool has closed after its in-flight requests. */
  close(): Promise<void>;
  /** Closes every connection now, failing requests in flight. */
  destroy(): Promise<void>;
}

export { createUpstream } from './upstream/pool-upstream.ts';
