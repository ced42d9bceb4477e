// Starts the Service proxy inside `pier agent`: the real ports (nft, nft -j,
// conntrack), metrics, readiness and an orderly stop. The agent command calls
// this once; everything the proxy needs comes in as arguments.

import type { PierConfig } from '../../src/config/schema.ts';
import type { Lifecycle } from '../../src/observe/lifecycle.ts';
import type { Metrics } from '../../src/observe/metrics.ts';
import type { Readiness } from '../../src/observe/readiness.ts';
import type { Store } from '../../src/store.ts';
import { type Cidr, formatCidr } from '../ipam/ipv4.ts';
import type { AgentLogger } from '../logger.ts';
import { createNftables } from '../nftables/nft.ts';
import { createNftReader } from '../nftables/read.ts';
import type { ServiceProxy } from '../service-proxy.ts';
import { createConntrack } from './conntrack.ts';
import { createNftablesProxier } from './nftables-proxier.ts';

export interface StartServiceProxy {
  settings: PierConfig['serviceProxy'];
  nodeName: string;
  /** The pod network (the net-conf's Network). */
  podNetwork: Cidr;
  store: Store;
  logger: AgentLogger;
  metrics: Metrics;
  readiness: Readiness;
  lifecycle: Lifecycle;
}

/** The running proxy, or undefined when serviceProxy.enabled is false. */
export function startServiceProxy(deps: StartServiceProxy): ServiceProxy | undefined {
  const { settings, logger } = deps;
  if (!settings.enabled) {
    logger.info({}, 'service proxy off (serviceProxy.enabled=false)');
    return undefined;
  }
  const seconds = deps.metrics.histogram(
    'agent_service_proxy_sync_seconds',
    'Service proxy syncs: build, plan, nft transaction and conntrack cleanup',
    ['kind', 'outcome'],
  );
  const changes = deps.metrics.counter(
    'agent_service_proxy_changes_total',
    'nftables chains and map elements the Service proxy wrote',
    ['what'],
  );
  const proxy = createNftablesProxier(
    {
      nodeName: deps.nodeName,
      table: settings.table,
      clusterCidr: formatCidr(deps.podNetwork),
      masqueradeBit: settings.masqueradeBit,
      minSyncIntervalMs: settings.minSyncIntervalMs,
      syncPeriodMs: settings.syncPeriodSeconds * 1000,
      fullSyncPeriodMs: settings.fullSyncPeriodSeconds * 1000,
    },
    {
      store: deps.store,
      nftables: createNftables(),
      reader: createNftReader(),
      conntrack: createConntrack(),
      logger,
      observeSync(report) {
        seconds.observe(
          { kind: report.full ? 'full' : 'partial', outcome: report.ok ? 'ok' : 'error' },
          report.seconds,
        );
        changes.inc(
          { what: 'chains' },
          report.chainsAdded + report.chainsChanged + report.chainsRemoved,
        );
        changes.inc({ what: 'elements' }, report.elementsAdded + report.elementsRemoved);
      },
    },
  );
  deps.readiness.set('service-proxy', () => proxy.ready());
  deps.lifecycle.onShutdown('service-proxy', () => proxy.stop());
  proxy.start().then(
    () => logger.info({ ...proxy.info() }, 'service proxy ready'),
    (error: unknown) => logger.error({ err: error }, 'the service proxy could not start'),
  );
  return proxy;
}
