// The upstream implementation: one dispatcher per endpoint (Pier's pool of
// keep-alive HTTP/1.1 connections, http1/pool.ts, or undici's HTTP/2
// prior-knowledge client for h2c), a balancer over the available hosts, and
// outlier ejection. `http1Client: 'undici'` puts undici's Pool in place of
// Pier's for HTTP/1.1: both pass dispatcher.case.ts.
//
// With `tls` (BackendTLSPolicy) every endpoint's origin is `https://ip:port`
// and its pool connects with TLS (backend-tls.ts): Pier's pool and undici's
// Pool offer ALPN http/1.1, an h2c upstream becomes HTTP/2 over TLS (ALPN h2).
//
// The available list is rebuilt only when it changes (endpoints replaced, a
// host ejected or back) and handed to the balancer, so pick() is the
// balancer's O(1) lookup plus, on a retry, one step to avoid the failed host.
// Ejected hosts come back by one timer armed for the earliest deadline.

import { Pool } from 'undici';
import { type Balancer, createBalancer } from '../balancer.ts';
import type {
  EndpointAddress,
  Http1Client,
  Upstream,
  UpstreamHost,
  UpstreamHostStatus,
  UpstreamOptions,
  UpstreamProtocol,
  UpstreamTls,
} from '../upstream.ts';
import { createTlsConnector, FixedServerNameDispatcher } from './backend-tls.ts';
import type { UpstreamDispatcher } from './dispatcher.ts';
import { createH2cDispatcher } from './h2c-dispatcher.ts';
import { Http1Pool } from './http1/pool.ts';
import {
  type AttemptOutcome,
  defaultOutlierPolicy,
  ejectionBudget,
  expireEjection,
  newOutlierState,
  type OutlierPolicy,
  type OutlierState,
  recordOutcome,
  validateOutlierPolicy,
} from './outlier-detector.ts';

type Dispatcher = UpstreamDispatcher;

/** Mutable behind the readonly UpstreamHost the rest of the gateway sees. */
interface Host {
  key: string;
  address: string;
  port: number;
  zone: string | undefined;
  origin: string;
  dispatcher: Dispatcher;
  active: number;
  outlier: OutlierState;
  live: boolean;
}

/** `ip:port`, with IPv6 addresses bracketed. */
export function hostKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** `http://ip:port`, or `https://ip:port` with TLS; IPv6 bracketed. */
export function originOf(key: string, tls: UpstreamTls | undefined): string {
  return tls === undefined ? `http://${key}` : `https://${key}`;
}

/**
 * The pool for one endpoint. `origin` is `https:` exactly when `tls` is set
 * (originOf); with it, h2c becomes HTTP/2 over TLS.
 */
export function defaultDispatcher(
  origin: string,
  protocol: UpstreamProtocol,
  tls: UpstreamTls | undefined,
  options: {
    connectTimeoutMs: number;
    keepAliveTimeoutMs: number;
    connections: number | undefined;
    http1Client?: Http1Client | undefined;
  },
): Dispatcher {
  if (protocol === 'h2c') {
    return createH2cDispatcher(origin, { ...options, tls });
  }
  if (options.http1Client !== 'undici') {
    return new Http1Pool(origin, {
      tls,
      connectTimeoutMs: options.connectTimeoutMs,
      keepAliveTimeoutMs: options.keepAliveTimeoutMs,
      connections: options.connections,
      maxHeaderBytes: 64 * 1024,
    });
  }
  return undiciPool(origin, { ...options, tls });
}

/** undici's Pool for HTTP/1.1, set up as Pier's own pool is; TLS when `tls` is set. */
export function undiciPool(
  origin: string,
  options: {
    connectTimeoutMs: number;
    keepAliveTimeoutMs: number;
    connections: number | undefined;
    tls?: UpstreamTls | undefined;
  },
): Dispatcher {
  const tls = options.tls;
  const pool = new Pool(origin, {
    // Over TLS the connector makes the handshake within connectTimeoutMs.
    connect:
      tls === undefined
        ? undefined
        : createTlsConnector({ tls, alpn: 'http/1.1', connectTimeoutMs: options.connectTimeoutMs }),
    connections: options.connections ?? null,
    pipelining: 1,
    connectTimeout: options.connectTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // The backend's own Keep-Alive hint may lower it, never raise it past this.
    keepAliveMaxTimeout: options.keepAliveTimeoutMs,
    // The forwarder enforces the Gateway API timeouts itself; these are only
    // backstops against a peer that stalls forever.
    headersTimeout: 300_000,
    bodyTimeout: 300_000,
    // Backends may send large headers (cookies, JWTs); Node's server default is 16 KiB.
    maxHeaderSize: 64 * 1024,
    strictContentLength: true,
  });
  if (tls !== undefined) return new FixedServerNameDispatcher(pool, tls.serverName);
  return pool as unknown as Dispatcher;
}

export function createUpstream(options: UpstreamOptions): Upstream {
  const name = options.name;
  const protocol: UpstreamProtocol = options.protocol ?? 'http1';
  const now = options.now ?? (() => performance.now());
  const random = options.random ?? Math.random;
  const balancer: Balancer = createBalancer(options.balancer ?? 'least-request', { random });
  let policy: OutlierPolicy | undefined;
  if (options.outlier !== false) {
    policy = { ...defaultOutlierPolicy, ...options.outlier };
    const problem = validateOutlierPolicy(policy);
    if (problem !== undefined) throw new RangeError(`upstream ${name}: outlier policy: ${problem}`);
  }
  const dispatcherOptions = {
    connectTimeoutMs: options.connectTimeoutMs ?? 5000,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 4000,
    connections: options.connectionsPerEndpoint,
    http1Client: options.http1Client,
  };
  const tls = options.tls;
  const newDispatcher =
    options.createDispatcher ??
    ((origin: string, proto: UpstreamProtocol, settings: UpstreamTls | undefined) =>
      defaultDispatcher(origin, proto, settings, dispatcherOptions));

  /** Live hosts by key. */
  let hosts = new Map<string, Host>();
  /** Live, not ejected: what the balancer sees. */
  let available: Host[] = [];
  let ejected = 0;
  /** Removed hosts whose pools are closing, with the promise of that. */
  const draining = new Map<Host, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function rebuild(): void {
    const next: Host[] = [];
    let out = 0;
    for (const host of hosts.values()) {
      if (host.outlier.ejectedUntil === 0) next.push(host);
      else out++;
    }
    available = next;
    ejected = out;
    balancer.setHosts(next);
  }

  function armTimer(): void {
    if (timer !== undefined) {
      clearTimeout(timer);
      timer = undefined;
    }
    if (closed) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const host of hosts.values()) {
      const until = host.outlier.ejectedUntil;
      if (until !== 0 && until < earliest) earliest = until;
    }
    if (earliest === Number.POSITIVE_INFINITY) return;
    timer = setTimeout(onTimer, Math.max(0, earliest - now()) + 1);
    timer.unref();
  }

  function onTimer(): void {
    timer = undefined;
    const t = now();
    let changed = false;
    for (const host of hosts.values()) {
      if (expireEjection(host.outlier, t)) changed = true;
    }
    if (changed) rebuild();
    armTimer();
  }

  function drain(host: Host): void {
    host.live = false;
    const closing = host.dispatcher
      .close()
      .catch(() => {
        // A pool that fails to close cleanly has nothing left to lose: its
        // requests already got their errors through their handlers.
      })
      .finally(() => draining.delete(host));
    draining.set(host, closing);
  }

  const upstream: Upstream = {
    name,
    protocol,
    balancer,
    get hashes() {
      return balancer.hashes;
    },

    setEndpoints(endpoints: readonly EndpointAddress[]) {
      if (closed) throw new Error(`upstream ${name} is closed`);
      const next = new Map<string, Host>();
      for (const endpoint of endpoints) {
        const key = hostKey(endpoint.address, endpoint.port);
        if (next.has(key)) continue;
        const existing = hosts.get(key);
        if (existing !== undefined) {
          existing.zone = endpoint.zone;
          next.set(key, existing);
          continue;
        }
        const origin = originOf(key, tls);
        next.set(key, {
          key,
          address: endpoint.address,
          port: endpoint.port,
          zone: endpoint.zone,
          origin,
          dispatcher: newDispatcher(origin, protocol, tls),
          active: 0,
          outlier: newOutlierState(),
          live: true,
        });
      }
      for (const [key, host] of hosts) {
        if (!next.has(key)) drain(host);
      }
      hosts = next;
      rebuild();
      armTimer();
    },

    available() {
      return available;
    },

    pick(hash: number, avoid?: UpstreamHost) {
      const list = available;
      const n = list.length;
      if (n === 0) return undefined;
      let i = balancer.pick(hash);
      if (i < 0) return undefined;
      if (avoid !== undefined && n > 1 && list[i] === avoid) i = (i + 1) % n;
      return list[i];
    },

    begin(host: UpstreamHost) {
      (host as Host).active++;
    },

    end(host: UpstreamHost, outcome: AttemptOutcome) {
      const h = host as Host;
      h.active--;
      if (policy === undefined || outcome === 'cancelled') return;
      if (outcome === 'success' && h.outlier.failures === 0) return;
      if (!h.live) return;
      const mayEject = ejected + 1 <= ejectionBudget(hosts.size, policy);
      if (recordOutcome(h.outlier, outcome, now(), policy, mayEject)) {
        rebuild();
        armTimer();
      }
    },

    status() {
      const t = now();
      const list: UpstreamHostStatus[] = [];
      for (const host of hosts.values()) {
        list.push({
          key: host.key,
          zone: host.zone,
          active: host.active,
          live: host.live,
          ejected: host.outlier.ejectedUntil !== 0,
          ejectedUntil:
            host.outlier.ejectedUntil === 0 ? 0 : Math.max(0, host.outlier.ejectedUntil - t),
          ejections: host.outlier.ejections,
          consecutiveFailures: host.outlier.failures,
        });
      }
      return list;
    },

    async close() {
      if (!closed) {
        closed = true;
        if (timer !== undefined) clearTimeout(timer);
        for (const host of hosts.values()) drain(host);
        hosts = new Map();
        rebuild();
      }
      await Promise.all(draining.values());
    },

    async destroy() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      const all = [...hosts.values(), ...draining.keys()];
      hosts = new Map();
      rebuild();
      await Promise.all(all.map((host) => host.dispatcher.destroy().catch(() => {})));
      await Promise.all(draining.values());
    },
  };
  return upstream;
}
