// The service proxy on the real kernel, in network namespaces made here (the
// host's own firewall is never touched): the proxier runs in this process
// with the real nft, nft reader and conntrack ports, pointed at a "node"
// namespace; traffic flows between namespaces only.
//
//   ns ul: bridge br0 (the underlay)
//     node  eth0 192.168.77.1   cni0 10.244.1.1/24 -- pods pa .5, pb .6
//           route 10.244.2.0/24 via 192.168.77.2
//     n2    eth0 192.168.77.2   "pods" 10.244.2.3-.5 (addresses on lo)
//     out   eth0 192.168.77.254 (a host outside the cluster; the node's default route)
//
// Also: a random walk of changes applied incrementally to nft in one
// namespace and in full in another must list the same table.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../agent/logger.ts';
import { createNftables } from '../agent/nftables/nft.ts';
import { createNftReader } from '../agent/nftables/read.ts';
import { createConntrack } from '../agent/service-proxy/conntrack.ts';
import { buildRuleset, emptyRuleset } from '../agent/service-proxy/nftables/build.ts';
import type { LayoutOptions, Ruleset } from '../agent/service-proxy/nftables/model.ts';
import { plan } from '../agent/service-proxy/nftables/plan.ts';
import { createNftablesProxier } from '../agent/service-proxy/nftables-proxier.ts';
import { servicePortsOf } from '../agent/service-proxy/service-ports.ts';
import { service, slice } from '../agent/service-proxy/testing/objects.ts';
import {
  type Probe,
  type ProbeResult,
  startProbe,
} from '../agent/service-proxy/testing/probe-client.ts';
import { random, randomService } from '../agent/service-proxy/testing/random-services.ts';
import type { ServiceProxy } from '../agent/service-proxy.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store.ts';
import { createNetnsScope, type NetnsScope, netnsRequirementsMissing } from './support/netns.ts';

const missing = netnsRequirementsMissing({ tools: ['conntrack', 'sysctl'] });
if (missing !== undefined && process.env.CI !== 'true') {
  console.warn(`service proxy namespace tests skipped: ${missing}`);
}
const TABLE = 'pier_services';

const seen = (r: ProbeResult) =>
  'seenBy' in r ? `${r.seenBy.local}:${r.seenBy.localPort}` : r.error;
const remote = (r: ProbeResult) => ('seenBy' in r ? r.seenBy.remote : r.error);

async function until<T>(
  what: string,
  fn: () => Promise<T> | T,
  ok: (v: T) => boolean,
  ms = 10_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(missing !== undefined && process.env.CI !== 'true')(
  'the service proxy in a network namespace',
  () => {
    let scope: NetnsScope;
    let store: Store;
    let proxy: ServiceProxy;
    const logger = createMemoryLogger();
    const probes = new Map<string, Probe>();
    const probe = (ns: string) => probes.get(ns) as Probe;

    const startProxy = async () => {
      const p = createNftablesProxier(
        {
          nodeName: 'node-1',
          table: TABLE,
          clusterCidr: '10.244.0.0/16',
          masqueradeBit: 14,
          minSyncIntervalMs: 20,
          syncPeriodMs: 60_000,
          fullSyncPeriodMs: 3_600_000,
          netns: scope.path('node'),
        },
        {
          store,
          nftables: createNftables(),
          reader: createNftReader(),
          conntrack: createConntrack(),
          logger,
        },
      );
      await p.start();
      return p;
    };

    /** Applies objects and waits until the proxy has synced them. */
    const change = async (fn: () => Promise<unknown>) => {
      const before = proxy.info().syncs;
      await fn();
      await until(
        'a sync',
        () => proxy.info().syncs,
        (n) => n > before,
      );
    };

    beforeAll(async () => {
      if (missing !== undefined) throw new Error(`service proxy namespace tests need ${missing}`);
      scope = createNetnsScope('sp');
      for (const ns of ['ul', 'node', 'n2', 'out', 'pa', 'pb']) await scope.create(ns);
      await scope.ip('ul', ['link add br0 type bridge', 'link set dev br0 up']);
      const underlay = { node: '192.168.77.1', n2: '192.168.77.2', out: '192.168.77.254' };
      for (const [ns, ip] of Object.entries(underlay)) {
        await scope.ip('ul', [
          `link add u-${ns} type veth peer name eth0 netns ${scope.path(ns)}`,
          `link set dev u-${ns} master br0 up`,
        ]);
        await scope.ip(ns, [`addr add ${ip}/24 dev eth0`, 'link set dev eth0 up']);
      }
      await scope.ip('node', [
        'link add cni0 type bridge',
        'addr add 10.244.1.1/24 dev cni0',
        'link set dev cni0 up',
        'route add 10.244.2.0/24 via 192.168.77.2',
        'route add default via 192.168.77.254',
      ]);
      await scope.run('node', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      await scope.run('node', ['sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=1']);
      for (const [pod, ip] of [
        ['pa', '10.244.1.5'],
        ['pb', '10.244.1.6'],
      ] as const) {
        await scope.ip('node', [
          `link add v-${pod} type veth peer name eth0 netns ${scope.path(pod)}`,
          `link set dev v-${pod} master cni0 up`,
          // As the pod network sets it: with br_netfilter, a pod DNATed to itself is bridged back out its own port.
          `link set dev v-${pod} type bridge_slave hairpin on`,
        ]);
        await scope.ip(pod, [
          `addr add ${ip}/24 dev eth0`,
          'link set dev eth0 up',
          'route add default via 10.244.1.1',
        ]);
      }
      await scope.ip('n2', [
        'addr add 10.244.2.3/32 dev lo',
        'addr add 10.244.2.4/32 dev lo',
        'addr add 10.244.2.5/32 dev lo',
        'route add 10.244.1.0/24 via 192.168.77.1',
      ]);
      for (const ns of ['node', 'n2', 'out', 'pa', 'pb'])
        probes.set(ns, await startProbe((argv) => scope.spawn(ns, argv), ns));
      for (const ns of ['pa', 'pb']) {
        await probe(ns).listen('tcp', 8080);
        await probe(ns).listen('udp', 5353);
      }
      await probe('n2').listen('tcp', 8080);
      // UDP answers from the address it was sent to only when bound to it (n2 has several).
      for (const ip of ['10.244.2.3', '10.244.2.4', '10.244.2.5'])
        await probe('n2').listen('udp', 5353, ip);

      store = createMemoryStore();
      await store.apply(
        service('web', {
          type: 'NodePort',
          clusterIP: '10.96.0.10',
          ports: [{ port: 80, targetPort: 8080, nodePort: 30080 }],
        }),
      );
      await store.apply(slice('web', ['10.244.2.3 node-2', '10.244.2.4 node-2'], [{ port: 8080 }]));
      await store.apply(
        service('empty', {
          clusterIP: '10.96.0.11',
          ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }].map((p, i) =>
            i === 0 ? { ...p, name: 'http' } : p,
          ),
        }),
      );
      await store.apply(
        service('local', {
          type: 'NodePort',
          clusterIP: '10.96.0.12',
          externalTrafficPolicy: 'Local',
          ports: [{ port: 80, targetPort: 8080, nodePort: 30081 }],
        }),
      );
      await store.apply(
        slice('local', ['10.244.1.6 node-1', '10.244.2.5 node-2'], [{ port: 8080 }]),
      );
      await store.apply(
        service('self', { clusterIP: '10.96.0.13', ports: [{ port: 80, targetPort: 8080 }] }),
      );
      await store.apply(slice('self', ['10.244.1.5 node-1'], [{ port: 8080 }]));
      proxy = await startProxy();
    }, 60_000);

    afterAll(async () => {
      await proxy?.stop();
      for (const p of probes.values()) p.stop();
      await store?.close();
      await scope?.cleanup();
    }, 30_000);

    it('spreads a pod’s connections over the endpoints, and the backend sees the pod’s own address', async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, () => probe('pa').tcp('10.96.0.10', 80)),
      );
      expect(new Set(results.map(seen))).toEqual(new Set(['10.244.2.3:8080', '10.244.2.4:8080']));
      expect(new Set(results.map(remote))).toEqual(new Set(['10.244.1.5']));
    });

    it('lets the node’s own processes reach a ClusterIP (masqueraded)', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, () => probe('node').tcp('10.96.0.10', 80)),
      );
      for (const r of results) expect(remote(r)).toBe('192.168.77.1');
      expect(results.map(seen).every((s) => s.endsWith(':8080'))).toBe(true);
    });

    it('answers a NodePort from the underlay: Cluster policy masquerades, Local keeps the client', async () => {
      const cluster = await probe('out').tcp('192.168.77.1', 30080);
      expect(seen(cluster)).toMatch(/^10\.244\.2\.[34]:8080$/);
      expect(remote(cluster)).toBe('192.168.77.1');
      const local = await Promise.all(
        Array.from({ length: 10 }, () => probe('out').tcp('192.168.77.1', 30081)),
      );
      for (const r of local) {
        expect(seen(r)).toBe('10.244.1.6:8080');
        expect(remote(r)).toBe('192.168.77.254');
      }
    });

    it('masquerades a pod that reaches itself through its Service (hairpin)', async () => {
      const r = await probe('pa').tcp('10.96.0.13', 80);
      expect(seen(r)).toBe('10.244.1.5:8080');
      expect(remote(r)).toBe('10.244.1.1');
    });

    it('rejects a Service without endpoints at once: TCP reset, ICMP unreachable for UDP', async () => {
      const tcp = await probe('pa').tcp('10.96.0.11', 80);
      expect(tcp).toMatchObject({ error: 'ECONNREFUSED' });
      expect(tcp.ms).toBeLessThan(500);
      expect(await probe('pa').udp('10.96.0.11', 53)).toMatchObject({ error: 'ECONNREFUSED' });
      // A port the ClusterIP does not serve.
      expect(await probe('pa').tcp('10.96.0.10', 81)).toMatchObject({ error: 'ECONNREFUSED' });
      expect(await probe('node').tcp('10.96.0.11', 80)).toMatchObject({ error: 'ECONNREFUSED' });
    });

    it('sends no new connection to an endpoint that was removed', async () => {
      await change(() => store.apply(slice('web', ['10.244.2.4 node-2'], [{ port: 8080 }])));
      const results = await Promise.all(
        Array.from({ length: 20 }, () => probe('pa').tcp('10.96.0.10', 80)),
      );
      expect(new Set(results.map(seen))).toEqual(new Set(['10.244.2.4:8080']));
      await change(() =>
        store.apply(slice('web', ['10.244.2.3 node-2', '10.244.2.4 node-2'], [{ port: 8080 }])),
      );
    });

    it('moves a long-lived UDP client off an endpoint that left (conntrack entries deleted)', async () => {
      await change(async () => {
        await store.apply(
          service('dns', {
            clusterIP: '10.96.0.53',
            ports: [{ port: 53, protocol: 'UDP', targetPort: 5353 }],
          }),
        );
        await store.apply(slice('dns', ['10.244.2.3 node-2'], [{ port: 5353, protocol: 'UDP' }]));
      });
      const ask = () => probe('pa').udp('10.96.0.53', 53, { fromPort: 40053 });
      expect(seen(await ask())).toBe('10.244.2.3:5353');
      expect(seen(await ask())).toBe('10.244.2.3:5353');
      // The old endpoint still answers: only the deleted conntrack entry moves the client.
      await change(() =>
        store.apply(slice('dns', ['10.244.2.4 node-2'], [{ port: 5353, protocol: 'UDP' }])),
      );
      expect(seen(await ask())).toBe('10.244.2.4:5353');
    });

    it('keeps a client on its endpoint with sessionAffinity ClientIP', async () => {
      await change(async () => {
        await store.apply(
          service('sticky', {
            clusterIP: '10.96.0.14',
            sessionAffinity: 'ClientIP',
            sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } },
            ports: [{ port: 80, targetPort: 8080 }],
          }),
        );
        await store.apply(
          slice(
            'sticky',
            ['10.244.2.3 node-2', '10.244.2.4 node-2', '10.244.2.5 node-2'],
            [{ port: 8080 }],
          ),
        );
      });
      const first = seen(await probe('pa').tcp('10.96.0.14', 80));
      const rest = [];
      for (let i = 0; i < 10; i++) rest.push(seen(await probe('pa').tcp('10.96.0.14', 80)));
      expect(new Set(rest)).toEqual(new Set([first]));
    });

    it('writes the table again in full when someone flushes it', async () => {
      await scope.run('node', ['nft', 'flush', 'table', 'ip', TABLE]);
      expect(await probe('pa').tcp('10.96.0.10', 80, 500)).toHaveProperty('error');
      await proxy.sync();
      expect(proxy.info().lastSync).toMatchObject({ full: true, reason: 'table changed' });
      expect(seen(await probe('pa').tcp('10.96.0.10', 80))).toMatch(/^10\.244\.2\.[34]:8080$/);
      await scope.run('node', ['nft', 'delete', 'table', 'ip', TABLE]);
      await proxy.sync();
      expect(seen(await probe('pa').tcp('10.96.0.10', 80))).toMatch(/^10\.244\.2\.[34]:8080$/);
    });

    it('keeps traffic flowing while the proxy restarts, until the new one replaces the table', async () => {
      let stop = false;
      const failures: string[] = [];
      let count = 0;
      const traffic = (async () => {
        while (!stop) {
          const r = await probe('pa').tcp('10.96.0.10', 80, 1000);
          count++;
          if (!('seenBy' in r)) failures.push(r.error);
        }
      })();
      await new Promise((r) => setTimeout(r, 100));
      await proxy.stop();
      await new Promise((r) => setTimeout(r, 300));
      proxy = await startProxy();
      expect(proxy.info()).toMatchObject({ fullSyncs: 1, generation: 1 });
      await new Promise((r) => setTimeout(r, 300));
      stop = true;
      await traffic;
      expect(count).toBeGreaterThan(10);
      expect(failures).toEqual([]);
    });
  },
);

describe.skipIf(missing !== undefined && process.env.CI !== 'true')(
  'incremental plans on the real nft',
  () => {
    let scope: NetnsScope;
    beforeAll(async () => {
      if (missing !== undefined) throw new Error(`needs ${missing}`);
      scope = createNetnsScope('sw');
      await scope.create('inc');
      await scope.create('full');
    });
    afterAll(async () => {
      await scope?.cleanup();
    });

    /** `nft list table`, with its lines sorted and the marker and handles left out. */
    const listing = async (ns: string) => {
      const text = await scope.run(ns, ['nft', 'list', 'table', 'ip', TABLE]);
      return text
        .replace(
          /\n\t*elements = \{([^}]*)\}/g,
          (_m, body: string) =>
            `\n${body
              .split(/,\s*/)
              .map((e) => `element ${e.trim()}`)
              .sort()
              .join('\n')}`,
        )
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l !== '' && !l.includes('pier service proxy generation'))
        .sort();
    };

    it('leaves the table as a full plan of the same ruleset would (a random walk)', async () => {
      const options: LayoutOptions = {
        table: TABLE,
        clusterCidr: '10.244.0.0/16',
        masqueradeBit: 14,
        shards: 8,
      };
      const nft = createNftables();
      const rand = random(42);
      let current: Ruleset | undefined;
      let ruleset = emptyRuleset(options);
      for (let step = 0; step < 25; step++) {
        const changes = new Map<string, ReturnType<typeof servicePortsOf> | undefined>();
        for (let t = 0; t < 1 + Math.floor(rand() * 3); t++) {
          const i = Math.floor(rand() * 12);
          if (rand() < 0.2) changes.set(`default/s${i}`, undefined);
          else {
            const [svc, sl] = randomService(rand, i);
            changes.set(`default/s${i}`, servicePortsOf(svc, [sl], { nodeName: 'node-1' }));
          }
        }
        ruleset = buildRuleset(ruleset, changes);
        await nft.apply(plan(ruleset, current).script, { netns: scope.path('inc') });
        current = ruleset;
        await nft.apply(plan(ruleset, undefined).script, { netns: scope.path('full') });
        expect(await listing('inc'), `step ${step}`).toEqual(await listing('full'));
      }
    }, 60_000);
  },
);
