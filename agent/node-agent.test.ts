// The node agent on its ports' fakes: a memory Store shared by "nodes",
// one fake kernel per node, real CNI sockets and address files in a temp
// dir. The same paths run for real in test/cluster.test.ts; here they run in
// milliseconds and can be driven where the real ones cannot (a Store that
// does not answer, a lease taken away).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { StoreErrors } from '../src/store/errors.ts';
import { createMemoryStore } from '../src/store/memory.ts';
import type { Store } from '../src/store.ts';
import { runClient } from './cni/client.ts';
import { parseAgentSettings } from './config.ts';
import { parseNetConf } from './ipam/net-conf.ts';
import { leaseObject } from './ipam/subnet-lease.ts';
import { createMemoryLogger } from './logger.ts';
import { createFakeNetlink, type FakeNetlink } from './netlink/fake.ts';
import { createFakeNftables, type FakeNftables } from './nftables/fake.ts';
import { createNodeAgent, type NodeAgent } from './node-agent.ts';

const root = mkdtempSync(join(tmpdir(), 'pier-node-agent-'));
const agents: NodeAgent[] = [];
afterEach(async () => {
  while (agents.length > 0) await agents.pop()?.stop();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const netConf = parseNetConf('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}');

interface Node {
  n: number;
  netlink: FakeNetlink;
  nftables: FakeNftables;
  sysctls: string[];
  dir: string;
}

async function makeNode(n: number): Promise<Node> {
  const netlink = createFakeNetlink();
  await netlink.apply([
    { op: 'add-bridge', name: 'eth0', mtu: 1500 }, // the fake's stand-in for the node's NIC
    { op: 'add-addr', dev: 'eth0', address: `192.168.77.${n}/24` },
    { op: 'set-link', name: 'eth0', up: true },
  ]);
  return {
    n,
    netlink,
    nftables: createFakeNftables(),
    sysctls: [],
    dir: mkdtempSync(join(root, `n${n}-`)),
  };
}

function startAgent(node: Node, store: Store, extra: Record<string, unknown> = {}): NodeAgent {
  const settings = parseAgentSettings({
    nodeName: `node-${node.n}`,
    iface: 'eth0',
    dataDir: join(node.dir, 'data'),
    subnetEnv: join(node.dir, 'subnet.env'),
    socket: join(node.dir, 'cni.sock'),
    clusterDns: ['10.96.0.10'],
    leaseTtlSeconds: 3600,
    renewMarginSeconds: 600,
    resyncSeconds: 3600,
    storeWaitSeconds: 0.2,
    ...extra,
  });
  const agent = createNodeAgent(settings, netConf, {
    store,
    netlink: node.netlink,
    nftables: node.nftables,
    logger: createMemoryLogger(),
    writeSysctl: async (key, value) => {
      node.sysctls.push(`${key}=${value}`);
    },
    netnsExists: async (path) => node.netlink.hasNetns(path),
  });
  agents.push(agent);
  return agent;
}

const routes = async (node: Node) =>
  (await node.netlink.routes({ proto: 91 })).map((r) => `${r.dst} via ${r.via}`);

describe('the node agent', () => {
  it('leases each node a subnet, routes to the others, and sets the node up', async () => {
    const store = createMemoryStore();
    const [one, two] = [await makeNode(1), await makeNode(2)];
    const a = startAgent(one, store);
    const b = startAgent(two, store);
    await Promise.all([a.start(), b.start()]);
    await a.sync();
    const [subnetA, subnetB] = [a.info().subnet, b.info().subnet];
    expect(subnetA).not.toBe(subnetB);
    expect(await routes(one)).toEqual([`${subnetB} via 192.168.77.2`]);
    expect(await routes(two)).toEqual([`${subnetA} via 192.168.77.1`]);
    expect(one.sysctls).toContain('net.ipv4.ip_forward=1');
    const gateway = subnetA?.replace(/\.0\/24$/, '.1/24');
    expect(await one.netlink.addresses({ dev: 'cni0' })).toEqual([
      { dev: 'cni0', address: gateway },
    ]);
    expect(readFileSync(join(one.dir, 'subnet.env'), 'utf8')).toContain(
      `FLANNEL_SUBNET=${gateway}`,
    );
    expect(await one.nftables.listTable('ip', 'pier_pod_network')).toContain(
      'elements = { 192.168.77.1, 192.168.77.2 }',
    );
    expect(a.status()).toEqual({ ready: true });
  });

  it('serves pier-cni on its socket', async () => {
    const store = createMemoryStore();
    const one = await makeNode(1);
    await startAgent(one, store).start();
    one.netlink.addNetns('/var/run/netns/p1');
    const config = JSON.stringify({
      cniVersion: '1.0.0',
      name: 'pier',
      type: 'pier-cni',
      agentSocket: join(one.dir, 'cni.sock'),
    });
    const env = {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'c1',
      CNI_NETNS: '/var/run/netns/p1',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/opt/cni/bin',
    };
    const add = await runClient({ env, stdin: config });
    expect(add.exitCode).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({
      cniVersion: '1.0.0',
      ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1' }],
    });
    const del = await runClient({ env: { ...env, CNI_COMMAND: 'DEL' }, stdin: config });
    expect(del).toEqual({ exitCode: 0, stdout: '' });
  });

  it('restarts without changing anything in the kernel', async () => {
    const store = createMemoryStore();
    const [one, two] = [await makeNode(1), await makeNode(2)];
    const a = startAgent(one, store);
    await Promise.all([a.start(), startAgent(two, store).start()]);
    await a.sync();
    one.netlink.addNetns('/var/run/netns/p1');
    await a.podNetwork.attach({ containerId: 'c1', ifname: 'eth0', netns: '/var/run/netns/p1' });
    await a.stop();
    agents.splice(agents.indexOf(a), 1);
    const batches = one.netlink.batches.length;
    const scripts = one.nftables.scripts.length;
    const again = startAgent(one, store);
    await again.start();
    await again.sync();
    expect(one.netlink.batches.slice(batches)).toEqual([]);
    expect(one.nftables.scripts.length).toBe(scripts);
    expect(again.info().subnet).toBe(a.info().subnet);
  });

  it('drops a leaving node’s route when its lease goes', async () => {
    const store = createMemoryStore();
    const [one, two] = [await makeNode(1), await makeNode(2)];
    const a = startAgent(one, store);
    const b = startAgent(two, store, { releaseOnExit: true });
    await Promise.all([a.start(), b.start()]);
    await a.sync();
    expect(await routes(one)).toHaveLength(1);
    await b.stop();
    agents.splice(agents.indexOf(b), 1);
    await new Promise((r) => setTimeout(r, 100)); // the informer records, the sync follows
    await a.sync();
    expect(await routes(one)).toEqual([]);
    expect(await one.nftables.listTable('ip', 'pier_pod_network')).toContain(
      'elements = { 192.168.77.1 }',
    );
  });

  it('runs on the subnet in subnet.env while the Store does not answer, then confirms it', async () => {
    const memory = createMemoryStore();
    const one = await makeNode(1);
    const first = startAgent(one, memory);
    await first.start();
    const subnet = first.info().subnet;
    await first.stop();
    agents.splice(agents.indexOf(first), 1);

    let down = true;
    const flaky = new Proxy(memory, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function' || key === 'close' || key === 'name') return value;
        return (...args: unknown[]) => {
          if (down) {
            if (key === 'watch') {
              return (async function* () {
                yield* [];
                throw StoreErrors.UNAVAILABLE('redis', 'connection refused');
              })();
            }
            return Promise.reject(StoreErrors.UNAVAILABLE('redis', 'connection refused'));
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    }) as Store;
    const again = startAgent(one, flaky);
    await again.start();
    expect(again.info()).toMatchObject({ subnet, provisional: true });
    expect(again.status()).toEqual({ ready: true });
    down = false;
    for (let i = 0; i < 100 && again.info().provisional; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(again.info()).toMatchObject({ subnet, provisional: false });
  });

  it('says STATUS 51 when another node has taken its subnet', async () => {
    const store = createMemoryStore();
    const one = await makeNode(1);
    const a = startAgent(one, store);
    await a.start();
    const subnet = a.info().subnet as string;
    await store.apply(
      leaseObject({
        subnet,
        node: 'node-9',
        publicIP: '192.168.77.9',
        backend: { type: 'host-gw' },
        renewTime: new Date().toISOString(),
        expireTime: new Date(Date.now() + 3_600_000).toISOString(),
      }),
    );
    await new Promise((r) => setTimeout(r, 100));
    await a.sync();
    expect(a.status()).toMatchObject({ ready: false, code: 51 });
  });
});
