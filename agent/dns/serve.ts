// Cluster DNS inside a Pier process (`pier dns`, `pier start`, the agent):
// an informer over the Store for the zone's kinds, the server, its metrics
// on the process registry, a readiness check, and shutdown in order.

import type { Runtime } from '../../src/cli/runtime.ts';
import { createInformer } from '../../src/store/informer.ts';
import type { DnsServer, DnsSettings } from '../dns.ts';
import { registerDnsMetrics } from './metrics.ts';
import { createDnsServer } from './server.ts';
import { ZONE_KINDS } from './zone-sync.ts';

/** The server's settings from the process config: `dns.*`, and the domain from `cluster.domain`. */
export function dnsSettingsFrom(config: Runtime['config']): DnsSettings {
  return { ...config.dns, domain: config.cluster.domain };
}

export async function serveClusterDns(
  runtime: Pick<Runtime, 'config' | 'store' | 'logger' | 'lifecycle' | 'metrics' | 'readiness'>,
): Promise<DnsServer> {
  const logger = runtime.logger.child({ component: 'dns' });
  const informer = createInformer(runtime.store, { kinds: ZONE_KINDS, logger });
  informer.start();
  runtime.lifecycle.onShutdown('dns informer', () => informer.stop());
  await informer.waitForSync();
  const server = createDnsServer({
    settings: dnsSettingsFrom(runtime.config),
    objects: informer,
    logger,
  });
  await server.start();
  runtime.lifecycle.onShutdown('dns', () => server.close());
  registerDnsMetrics(runtime.metrics.registry, () => server.stats());
  runtime.readiness.set('dns', () => informer.hasSynced());
  return server;
}
