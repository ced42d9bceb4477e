// The bridge pod network on the fake Netlink (a maintained model of the
// kernel) and real address files in a temp dir: what ADD, DEL, CHECK and GC
// do, and that a failure anywhere in an ADD leaves nothing behind.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { CniError } from '../cni/errors.ts';
import { formatIp, parseCidr } from '../ipam/ipv4.ts';
import { createPodIpam, type PodIpam } from '../ipam/pod-ipam.ts';
import { createMemoryLogger } from '../logger.ts';
import { createFakeNetlink, type FakeNetlink } from '../netlink/fake.ts';
import type { NetworkStatus, PodNetwork } from '../pod-network.ts';
import { createBridgePodNetwork } from './bridge-pod-network.ts';
import { createDnsForPod } from './dns-block.ts';
import { hostVethName } from './names.ts';

const root = mkdtempSync(join(tmpdir(), 'pier-pod-network-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let runs = 0;

let netlink: FakeNetlink;
let ipam: PodIpam;
let network: PodNetwork;
let status: NetworkStatus;
const POD = '/var/run/netns/pod-a';

beforeEach(async () => {
  netlink = createFakeNetlink();
  await netlink.apply([
    { op: 'add-bridge', name: 'cni0', mtu: 1450 },
    { op: 'add-addr', dev: 'cni0', address: '10.244.1.1/24' },
    { op: 'set-link', name: 'cni0', up: true },
  ]);
  netlink.addNetns(POD);
  ipam = await createPodIpam({
    dir: join(root, `r${runs++}`),
    subnet: parseCidr('10.244.1.0/24')!,
  });
  status = { ready: true };
  network = createBridgePodNetwork({
    netlink,
    bridge: 'cni0',
    node: () => ({ ipam, mtu: 1450 }),
    status: () => status,
    dns: createDnsForPod({ nameservers: ['10.96.0.10'], domain: 'cluster.local' }),
    logger: createMemoryLogger(),
    netnsExists: async (path) => netlink.hasNetns(path),
  });
});

const attach = (containerId = 'ctr-a', netns = POD) =>
  network.attach({ containerId, ifname: 'eth0', netns, podNamespace: 'shop' });
const state = async () => ({
  host: (await netlink.links()).filter((l) => l.kind === 'veth').map((l) => l.name),
  pod: netlink.hasNetns(POD) ? (await netlink.links({ netns: POD })).map((l) => l.name) : [],
  addresses: ipam.list().map((r) => formatIp(r.ip)),
});
const codeOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 0;
  } catch (error) {
    if (error instanceof CniError) return error.code;
    throw error;
  }
};

describe('the bridge pod network', () => {
  it('ADD is two batches: the veth from the node, then the pod side in its namespace', async () => {
    const result = await attach();
    expect(result).toMatchObject({
      host: { name: hostVethName('ctr-a', 'eth0'), mac: '0e:58:0a:f4:01:02', mtu: 1450 },
      pod: { name: 'eth0', mac: '0a:58:0a:f4:01:02', mtu: 1450, sandbox: POD },
      address: '10.244.1.2/24',
      gateway: '10.244.1.1',
      routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
      dns: { search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'] },
    });
    expect(netlink.batches.slice(1).map((b) => [b.netns, b.ops.map((o) => o.op)])).toEqual([
      ['self', ['add-veth', 'set-hairpin']],
      [POD, ['set-link', 'add-addr', 'set-link', 'replace-route']],
    ]);
    expect((await netlink.links()).find((l) => l.name === result.host.name)).toMatchObject({
      master: 'cni0',
      up: true,
      hairpin: true,
    });
    expect(await netlink.addresses({ netns: POD, dev: 'eth0' })).toEqual([
      { dev: 'eth0', address: '10.244.1.2/24' },
    ]);
    expect((await netlink.links({ netns: POD })).every((l) => l.up)).toBe(true);
  });

  it.each([
    [
      'the hairpin setting',
      (op: { op: string }, ns: string) => ns === 'self' && op.op === 'set-hairpin',
    ],
    ['the pod address', (op: { op: string }) => op.op === 'add-addr'],
    ['the pod default route', (op: { op: string }) => op.op === 'replace-route'],
  ])(
    'rolls back an ADD that fails at %s: no veth, no address, no allocation',
    async (_case, match) => {
      const before = await state();
      netlink.failNext(match as never);
      expect(await codeOf(attach())).toBe(102);
      expect(await state()).toEqual(before);
    },
  );

  it('fails an ADD whose namespace vanishes midway with 3, leaving nothing', async () => {
    const before = await state();
    netlink.failNext((op) => op.op === 'set-link' && op.name === 'lo', 'no-netns');
    expect(await codeOf(attach())).toBe(3);
    expect(await state()).toEqual(before);
    expect(await codeOf(attach('ctr-a', '/var/run/netns/never'))).toBe(3);
  });

  it('fails an ADD of an existing attachment with 100, leaving the existing one as it was', async () => {
    await attach();
    const before = await state();
    const error = await attach().catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: 100,
      message: expect.stringContaining('already attached'),
    });
    expect(await state()).toEqual(before);
  });

  it('fails an ADD into a pod that has the interface already with 100, leaving nothing', async () => {
    await netlink.apply([{ op: 'add-veth', name: 'eth0', mtu: 1500, peer: 'other' }], {
      netns: POD,
    });
    const before = await state();
    const error = await attach().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 100, message: `interface eth0 already exists in ${POD}` });
    expect(await state()).toEqual(before);
  });

  it('says try again later (11) while the node has no subnet', async () => {
    status = { ready: false, code: 50, reason: 'no lease yet' };
    expect(await codeOf(attach())).toBe(11);
  });

  it('DEL answers at once and finishes in the background; the address stays taken until then', async () => {
    const { address } = await attach();
    await network.detach({ containerId: 'ctr-a', ifname: 'eth0', netns: POD });
    expect(ipam.list()).toEqual([expect.objectContaining({ releasing: true })]);
    await network.settle();
    expect(await state()).toEqual({ host: [], pod: ['lo'], addresses: [] });
    // Idempotent: again, without a namespace, and after the namespace is gone.
    await network.detach({ containerId: 'ctr-a', ifname: 'eth0', netns: POD });
    await network.detach({ containerId: 'ctr-a', ifname: 'eth0' });
    netlink.deleteNetns(POD);
    await network.detach({ containerId: 'ctr-a', ifname: 'eth0', netns: POD });
    await network.settle();
    expect(address).toBe('10.244.1.2/24');
  });

  it('an ADD right after a DEL of the same attachment waits for its teardown', async () => {
    await attach();
    await network.detach({ containerId: 'ctr-a', ifname: 'eth0', netns: POD });
    const again = await attach();
    expect(again.host.name).toBe(hostVethName('ctr-a', 'eth0'));
    await network.settle();
    expect((await state()).addresses).toEqual([again.address.split('/')[0]]);
  });

  it('finishes teardowns a previous agent recorded but did not do', async () => {
    await attach();
    await ipam.markReleasing('ctr-a', 'eth0'); // as a DEL does, and then the agent died
    await network.settle();
    expect(await state()).toEqual({ host: [], pod: ['lo'], addresses: [] });
  });

  it('CHECK finds what ADD left, and names what is missing', async () => {
    const { address } = await attach();
    const check = () =>
      network.check({ containerId: 'ctr-a', ifname: 'eth0', netns: POD, address });
    await check();
    await netlink.apply([{ op: 'del-addr', dev: 'eth0', address }], { netns: POD });
    await netlink.apply([{ op: 'set-hairpin', name: hostVethName('ctr-a', 'eth0'), on: false }]);
    const error = await check().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 101 });
    expect((error as CniError).details).toContain('does not hold 10.244.1.2/24');
    expect((error as CniError).details).toContain('hairpin off');
    await expect(
      network.check({
        containerId: 'ctr-a',
        ifname: 'eth0',
        netns: POD,
        address: '10.244.1.99/24',
      }),
    ).rejects.toMatchObject({
      details: expect.stringContaining('allocated address is 10.244.1.2'),
    });
  });

  it('GC frees addresses and host veths the runtime no longer has', async () => {
    netlink.addNetns('/var/run/netns/pod-b');
    await attach('keep');
    await attach('gone', '/var/run/netns/pod-b');
    await netlink.apply([{ op: 'add-veth', name: 'pierfffffffffff', mtu: 1500, peer: 'x' }]); // an orphan
    await network.gc([{ containerId: 'keep', ifname: 'eth0' }]);
    expect(ipam.list().map((r) => r.containerId)).toEqual(['keep']);
    expect((await netlink.links()).filter((l) => l.kind === 'veth').map((l) => l.name)).toEqual([
      hostVethName('keep', 'eth0'),
    ]);
  });
});
