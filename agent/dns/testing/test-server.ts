// A DNS server as the integration tests and the benchmark run it: a memory
// Store holding the given objects, an informer, and createDnsServer on
// loopback with a free port. Everything it starts, close() stops.

import type { KubeObject } from '../../../src/model/object.ts';
import { createInformer } from '../../../src/store/informer.ts';
import { createMemoryStore } from '../../../src/store/memory.ts';
import type { Store } from '../../../src/store.ts';
import { type DnsServer, type DnsSettings, defaultDnsSettings } from '../../dns.ts';
import { createDnsServer } from '../server.ts';
import { ZONE_KINDS } from '../zone-sync.ts';

export interface TestDns {
  store: Store;
  server: DnsServer;
  address: string;
  port: number;
  close(): Promise<void>;
}

export type SettingsOverride = Partial<Omit<DnsSettings, 'forward' | 'cache' | 'rateLimit'>> & {
  forward?: Partial<DnsSettings['forward']>;
  cache?: Partial<DnsSettings['cache']>;
  rateLimit?: Partial<DnsSettings['rateLimit']>;
};

export function testSettings(override: SettingsOverride = {}): DnsSettings {
  return {
    ...defaultDnsSettings,
    listen: ['127.0.0.1:0'],
    ...override,
    forward: { ...defaultDnsSettings.forward, enabled: false, ...override.forward },
    cache: { ...defaultDnsSettings.cache, ...override.cache },
    rateLimit: { ...defaultDnsSettings.rateLimit, ...override.rateLimit },
  };
}

const quiet = { info() {}, warn() {}, error() {} };

export async function startTestDns(
  objects: readonly KubeObject[],
  override: SettingsOverride = {},
): Promise<TestDns> {
  const store = createMemoryStore();
  for (const o of objects) await store.apply(o);
  const informer = createInformer(store, { kinds: ZONE_KINDS });
  informer.start();
  await informer.waitForSync();
  const server = createDnsServer({
    settings: testSettings(override),
    objects: informer,
    logger: quiet,
  });
  try {
    await server.start();
  } catch (error) {
    await informer.stop();
    await store.close();
    throw error;
  }
  const udp = server.addresses().find((a) => a.transport === 'udp')!;
  return {
    store,
    server,
    address: udp.address,
    port: udp.port,
    async close() {
      await server.close();
      await informer.stop();
      await store.close();
    },
  };
}
