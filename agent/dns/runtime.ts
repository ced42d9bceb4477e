// One query loop: stats, forwarder and cache, engine, zone sync, and the
// UDP and TCP listeners of every listen address. The in-thread server runs
// one; each worker thread runs one over its mirror of the objects.

import { parseHostPort } from '../../src/config/host-port.ts';
import type { DnsAddress, DnsLogger, DnsSettings } from '../dns.ts';
import { createAnswerCache } from './answer-cache.ts';
import { createEngine, type Engine } from './engine.ts';
import { DnsErrors } from './errors.ts';
import { createForwarder, type Forwarder, type UpstreamAddress } from './forwarder.ts';
import { networkList } from './stages/acl-stage.ts';
import { createDnsStats, type DnsStats } from './stats.ts';
import { listenTcp, type TcpListener } from './tcp-listener.ts';
import { listenUdp, type UdpListener } from './udp-listener.ts';
import { createZoneSync, type ObjectView, type ZoneSync } from './zone-sync.ts';

export interface RuntimeOptions {
  settings: DnsSettings;
  /** Resolved upstreams (empty: no forwarding). */
  upstreams: readonly UpstreamAddress[];
  view: ObjectView;
  logger: DnsLogger;
  /** Share the listen addresses with other runtimes (SO_REUSEPORT). */
  reusePort: boolean;
}

export interface DnsRuntime {
  engine: Engine;
  zoneSync: ZoneSync;
  stats: DnsStats;
  addresses: DnsAddress[];
  close(): Promise<void>;
}

/** Rebuilds at most this often under steady churn. */
const MIN_REBUILD_INTERVAL_MS = 20;
const BIND_ATTEMPTS = 5;

export async function startRuntime(options: RuntimeOptions): Promise<DnsRuntime> {
  const { settings, logger } = options;
  const stats = createDnsStats();
  const onError = (error: unknown, context: string) =>
    logger.error(
      {
        err:
          error instanceof Error
            ? { message: error.message, code: (error as { code?: string }).code }
            : error,
        context,
      },
      'dns error',
    );
  const listen = settings.listen.map((value) => {
    const hp = parseHostPort(value);
    if (hp === undefined) throw DnsErrors.LISTEN_FAILED(value, 'not host:port');
    return hp;
  });
  const serverAddresses =
    settings.serverAddresses.length > 0
      ? settings.serverAddresses
      : listen.map((l) => l.host).filter((h) => h !== '0.0.0.0' && h !== '::');
  const zoneOptions = {
    domain: settings.domain,
    ttl: settings.ttl,
    pods: settings.pods,
    nameservers: serverAddresses,
    serial: Math.floor(Date.now() / 1000),
  };
  let engine: Engine | undefined;
  const zoneSync = createZoneSync({
    view: options.view,
    zone: zoneOptions,
    changed: (names) => engine?.invalidate(names),
    minIntervalMs: MIN_REBUILD_INTERVAL_MS,
    stats,
    onProblems: (problems) => logger.warn({ problems }, 'objects left out of the cluster DNS zone'),
  });

  let forwarder: Forwarder | undefined;
  if (settings.forward.enabled && options.upstreams.length > 0) {
    forwarder = createForwarder({
      upstreams: options.upstreams,
      timeoutMs: settings.forward.timeoutMs,
      attempts: Math.min(3, options.upstreams.length),
      maxConcurrent: settings.forward.maxConcurrent,
      maxFails: 2,
      healthCheckMs: settings.forward.healthCheckMs,
      stats,
    });
  }
  const limits = {
    maxEntries: settings.cache.size,
    minTtl: 0,
    maxTtl: settings.cache.maxTtl,
    maxNegativeTtl: settings.cache.maxNegativeTtl,
    staleSeconds: settings.cache.staleSeconds,
  };
  engine = createEngine({
    zone: zoneSync.zone,
    stats,
    recursionAllowed: networkList(settings.forward.allowedNetworks),
    ...(forwarder
      ? {
          forward: {
            forwarder,
            cache: createAnswerCache(limits),
            limits,
            prefetchHits:
              settings.cache.prefetchHits > 0
                ? settings.cache.prefetchHits
                : Number.POSITIVE_INFINITY,
            prefetchPercent: settings.cache.prefetchPercent,
          },
        }
      : {}),
    ...(settings.rateLimit.responsesPerSecond > 0 ? { rateLimit: settings.rateLimit } : {}),
    onError,
  });

  const e = engine;
  const udp: UdpListener[] = [];
  const tcp: TcpListener[] = [];
  const closeAll = async () => {
    zoneSync.close();
    await Promise.all([...udp.map((l) => l.close()), ...tcp.map((l) => l.close())]);
    await forwarder?.close();
  };
  try {
    for (const { host, port } of listen) {
      // Port 0: UDP picks a port, TCP takes the same one; if TCP finds it taken, pick again.
      for (let attempt = 1; ; attempt++) {
        const u = await listenUdp({ host, port, reusePort: options.reusePort, engine: e, onError });
        try {
          tcp.push(
            await listenTcp({
              host,
              port: u.address().port,
              reusePort: options.reusePort,
              engine,
              onError,
            }),
          );
          udp.push(u);
          break;
        } catch (error) {
          await u.close();
          if (port !== 0 || attempt >= BIND_ATTEMPTS) throw error;
        }
      }
    }
  } catch (error) {
    await closeAll();
    throw error;
  }
  const addresses: DnsAddress[] = [
    ...udp.map((l) => ({
      transport: 'udp' as const,
      address: l.address().address,
      port: l.address().port,
    })),
    ...tcp.map((l) => ({
      transport: 'tcp' as const,
      address: l.address().address,
      port: l.address().port,
    })),
  ];
  return { engine: e, zoneSync, stats, addresses, close: closeAll };
}
