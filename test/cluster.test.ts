// The pod network on a simulated 3-node cluster (test/support/netns-cluster.ts),
// for both backends: real agents against one real Redis, pods started through
// the real pier-cni as a runtime would, traffic only inside the namespaces.
//
// The three rules, shown rather than assumed: every pod reaches every other
// pod and the server sees the client pod's own IP (no NAT); nodes reach pods
// and pods reach nodes, each seeing the other's own address; the IP on a
// pod's eth0 is the one the CNI result gave and the one others use. Then what
// keeps it so: routes follow nodes leaving and joining, a SIGKILLed agent
// leaves its pods connected and restarts without changing anything, and pods
// start while Redis is down.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createNetnsScope,
  eventually,
  type NetnsScope,
  netnsRequirementsMissing,
} from './support/netns.ts';
import { type Cluster, createCluster, type Pod } from './support/netns-cluster.ts';
import { type Probe, startProbe } from './support/netns-probe-client.ts';

const missing = netnsRequirementsMissing({ tools: ['redis-server', 'redis-cli'] });
const PORT = 9000;

if (missing !== undefined && process.env.CI !== 'true') {
  console.warn(`cluster tests skipped: ${missing}`);
}

describe
  .skipIf(missing !== undefined && process.env.CI !== 'true')
  .each(['host-gw', 'vxlan'] as const)('a 3-node cluster with the %s backend', (backend) => {
  let scope: NetnsScope;
  let cluster: Cluster;
  const pods: Pod[] = [];
  const probes = new Map<string, Probe>();

  beforeAll(async () => {
    if (missing !== undefined) throw new Error(`cluster tests need ${missing}`);
    scope = createNetnsScope(backend === 'vxlan' ? 'v' : 'h');
    cluster = await createCluster({ scope, nodes: 3, backend, storeCluster: backend });
    // Three agents start at once: they race for subnets in one Redis.
    await Promise.all(cluster.nodes.map((node) => node.start()));
    for (const node of cluster.nodes) {
      for (const letter of ['a', 'b'])
        pods.push(await node.addPod(`${node.short}${letter}`, 'team'));
    }
    const all = [...pods.map((p) => p.ns), ...cluster.nodes.map((n) => n.short), cluster.underlay];
    await Promise.all(
      all.map(async (ns) => {
        const probe = await startProbe(scope, ns);
        await probe.listen(PORT);
        probes.set(ns, probe);
      }),
    );
  }, 90_000);

  afterAll(async () => {
    for (const probe of probes.values()) probe.stop();
    await cluster?.stop();
    await scope?.cleanup();
  }, 60_000);

  const probe = (ns: string) => probes.get(ns) as Probe;

  it('gives the racing nodes three different subnets, each in its subnet.env', () => {
    const subnets = cluster.nodes.map((n) => n.subnet());
    expect(new Set(subnets).size).toBe(3);
    for (const subnet of subnets) expect(subnet).toMatch(/^10\.244\.\d+\.0\/24$/);
  });

  it('gives each pod an address in its node subnet, on eth0, with MTU for the backend', async () => {
    const mtu = backend === 'vxlan' ? 1450 : 1500;
    for (const pod of pods) {
      const [net] = pod.node.subnet().split('/');
      expect(pod.ip.split('.').slice(0, 3)).toEqual((net as string).split('.').slice(0, 3));
      const addresses = await probe(pod.ns).addresses();
      expect(addresses.eth0).toEqual([`${pod.ip}/24`]);
      const interfaces = pod.result.interfaces as { name: string; mtu: number; sandbox?: string }[];
      expect(interfaces[1]).toMatchObject({ name: 'eth0', mtu, sandbox: scope.path(pod.ns) });
      const link = JSON.parse(await scope.run(pod.ns, ['ip', '-j', 'link', 'show', 'eth0'])) as {
        mtu: number;
      }[];
      expect(link[0]?.mtu).toBe(mtu);
    }
  });

  it('lets every pod reach every other pod without NAT', async () => {
    const failures: string[] = [];
    for (const from of pods) {
      for (const to of pods) {
        if (from === to) continue;
        const result = await probe(from.ns).connect(to.ip, PORT);
        if ('error' in result) failures.push(`${from.ns} -> ${to.ns}: ${result.error}`);
        else {
          // The server sees the client pod's own IP, and is reached at its own.
          if (result.seenBy.remote !== from.ip)
            failures.push(`${from.ns} -> ${to.ns}: seen as ${result.seenBy.remote}`);
          if (result.seenBy.local !== to.ip)
            failures.push(`${from.ns} -> ${to.ns}: answered from ${result.seenBy.local}`);
          if (result.local !== from.ip) failures.push(`${from.ns} left from ${result.local}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('lets nodes reach pods and pods reach nodes without NAT', async () => {
    const failures: string[] = [];
    for (const node of cluster.nodes) {
      for (const pod of pods) {
        const toPod = await probe(node.short).connect(pod.ip, PORT);
        if ('error' in toPod) failures.push(`${node.short} -> ${pod.ns}: ${toPod.error}`);
        // The pod sees the address the node sent from (one of the node's own), not a translated one.
        else if (toPod.seenBy.remote !== toPod.local) {
          failures.push(
            `${node.short} -> ${pod.ns}: left from ${toPod.local}, seen as ${toPod.seenBy.remote}`,
          );
        }
        const toNode = await probe(pod.ns).connect(node.ip, PORT);
        if ('error' in toNode) failures.push(`${pod.ns} -> ${node.short}: ${toNode.error}`);
        else if (toNode.seenBy.remote !== pod.ip) {
          failures.push(`${pod.ns} -> ${node.short}: seen as ${toNode.seenBy.remote}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it('masquerades only traffic that leaves the cluster network', async () => {
    for (const pod of pods) {
      const out = await probe(pod.ns).connect(cluster.externalIp, PORT);
      if ('error' in out) throw new Error(`${pod.ns} -> outside: ${out.error}`);
      expect(out.seenBy.remote).toBe(pod.node.ip);
    }
  });

  it('lets two processes of one pod talk over localhost', async () => {
    const [pod] = pods as [Pod];
    const second = await startProbe(scope, pod.ns);
    try {
      await second.listen(PORT + 1, '127.0.0.1');
      const result = await probe(pod.ns).connect('127.0.0.1', PORT + 1);
      expect(result).toMatchObject({ seenBy: { remote: '127.0.0.1', local: '127.0.0.1' } });
    } finally {
      second.stop();
    }
  });

  it('lists the other nodes’ pod subnets in `ip route` on each node', async () => {
    for (const node of cluster.nodes) {
      const routes = await scope.run(node.short, ['ip', 'route']);
      for (const other of cluster.nodes) {
        if (other === node) continue;
        const line = routes.split('\n').find((l) => l.startsWith(`${other.subnet()} `));
        expect(line, `${node.short}: ${routes}`).toBeDefined();
        if (backend === 'host-gw') expect(line).toContain(`via ${other.ip} dev eth0`);
        else expect(line).toMatch(/via 10\.244\.\d+\.0 dev pier\.1 .*onlink/);
      }
      expect(routes).toContain(`${node.subnet()} dev cni0`);
    }
  });

  it('keeps pods connected while an agent is SIGKILLed, and the restart changes nothing', async () => {
    const node = cluster.nodes[1]!;
    const before = await snapshot(scope, node.short, node.dir);
    await node.kill('SIGKILL');
    const local = pods.filter((p) => p.node === node);
    const remote = pods.filter((p) => p.node !== node);
    for (const from of local) {
      for (const to of remote) {
        const result = await probe(from.ns).connect(to.ip, PORT);
        expect(result, `${from.ns} -> ${to.ns} with the agent down`).toMatchObject({
          seenBy: { remote: from.ip },
        });
      }
    }
    await node.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(await snapshot(scope, node.short, node.dir)).toEqual(before);
    // A new pod after the restart gets an address no other pod has.
    const fresh = await node.addPod(`${node.short}c`, 'team');
    pods.push(fresh);
    const probeC = await startProbe(scope, fresh.ns);
    probes.set(fresh.ns, probeC);
    await probeC.listen(PORT);
    expect(pods.filter((p) => p.ip === fresh.ip)).toHaveLength(1);
    const back = await probe(remote[0]!.ns).connect(fresh.ip, PORT);
    expect(back).toMatchObject({ seenBy: { remote: remote[0]!.ip } });
  });

  it('starts and stops pods while Redis is down', async () => {
    const node = cluster.nodes[0]!;
    await cluster.redis.stop();
    try {
      const pod = await node.addPod(`${node.short}r`, 'team');
      const result = await probe(pods.find((p) => p.node !== node)!.ns)
        .connect(pod.ip, PORT)
        .catch(() => undefined);
      // No server in the new pod: the connection is refused, which proves it is routed there.
      expect(result).toMatchObject({ error: expect.stringContaining('ECONNREFUSED') });
      const del = await node.delPod(pod);
      expect(del.ok, JSON.stringify(del.output)).toBe(true);
    } finally {
      await cluster.redis.start();
    }
  });

  it('drops a leaving node’s routes on the others, and restores them when it rejoins', async () => {
    const leaving = cluster.nodes[2]!;
    const subnet = leaving.subnet();
    await leaving.kill('SIGKILL');
    await leaving.start(['--release-on-exit']);
    await leaving.kill('SIGTERM');
    for (const node of cluster.nodes.slice(0, 2)) {
      await eventually(async () => {
        const routes = await scope.run(node.short, ['ip', 'route']);
        expect(routes).not.toContain(`${subnet} `);
      });
    }
    await leaving.start();
    expect(leaving.subnet()).toBe(subnet);
    for (const node of cluster.nodes.slice(0, 2)) {
      await eventually(async () => {
        const routes = await scope.run(node.short, ['ip', 'route']);
        expect(routes).toContain(`${subnet} `);
      });
    }
    const from = pods.find((p) => p.node === cluster.nodes[0])!;
    const to = pods.find((p) => p.node === leaving)!;
    expect(await probe(from.ns).connect(to.ip, PORT)).toMatchObject({
      seenBy: { remote: from.ip },
    });
  });
});

/** What a restart must not change: links, addresses, routes, neighbours, the nft table, address records. */
async function snapshot(scope: NetnsScope, ns: string, dir: string) {
  const run = (argv: string[]) => scope.run(ns, argv);
  const links = (
    JSON.parse(await run(['ip', '-j', 'link', 'show'])) as {
      ifindex: number;
      ifname: string;
      mtu: number;
      master?: string;
      flags: string[];
    }[]
  ).map((l) => `${l.ifindex} ${l.ifname} ${l.mtu} ${l.master ?? ''} ${l.flags.includes('UP')}`);
  return {
    links,
    addresses: await run(['ip', '-4', '-o', 'addr', 'show']),
    routes: await run(['ip', '-4', 'route', 'show', 'table', 'all']),
    neighbours: await run(['ip', 'neigh', 'show', 'nud', 'permanent']),
    // The pod network's own table (the Service proxy, in the same process, keeps its own).
    nft: await run(['nft', 'list', 'table', 'ip', 'pier_pod_network']),
    records: (await import('node:fs')).readdirSync(`${dir}/data/ipam`, { recursive: true }).sort(),
  };
}
