// Both backends, planned against the fake kernel: what each writes for its
// peers, that a second plan over the result is empty (a restarted agent
// changes nothing), and that a peer leaving takes exactly its entries along.

import { beforeEach, describe, expect, it } from 'vitest';
import type { BackendSelf, NetworkBackend, NodeEndpoint } from '../backend.ts';
import { parseCidr, parseIp } from '../ipam/ipv4.ts';
import { createFakeNetlink, type FakeNetlink } from '../netlink/fake.ts';
import { renderOp } from '../netlink/ip-commands.ts';
import { createHostGwBackend } from './host-gw-backend.ts';
import { createVxlanBackend } from './vxlan-backend.ts';

const self: BackendSelf = {
  subnet: parseCidr('10.244.1.0/24')!,
  publicIp: parseIp('192.168.77.1')!,
  iface: 'eth0',
  ifaceMtu: 1500,
};
const vxlan = createVxlanBackend({ vni: 1, port: 8472 });
const hostGw = createHostGwBackend();

function peer(n: number, backend: NetworkBackend): NodeEndpoint {
  const publicIp = parseIp(`192.168.77.${n}`)!;
  return {
    node: `node-${n}`,
    subnet: parseCidr(`10.244.${n}.0/24`)!,
    publicIp,
    backend: backend.leaseData(publicIp),
  };
}

let netlink: FakeNetlink;
beforeEach(async () => {
  netlink = createFakeNetlink();
  await netlink.apply([
    { op: 'add-bridge', name: 'eth0', mtu: 1500 }, // the fake's stand-in for a NIC
    { op: 'add-addr', dev: 'eth0', address: '192.168.77.1/24' },
    { op: 'set-link', name: 'eth0', up: true },
  ]);
});

async function sync(backend: NetworkBackend, peers: NodeEndpoint[]): Promise<string[]> {
  const ops = backend.plan(self, peers, await backend.observe(netlink, self));
  await netlink.apply(ops);
  return ops.map((op) => {
    const { tool, line } = renderOp(op);
    return tool === 'ip' ? line : `${tool} ${line}`;
  });
}

describe('host-gw', () => {
  it('routes each peer subnet via the peer, and nothing twice', async () => {
    expect(await sync(hostGw, [peer(2, hostGw), peer(3, hostGw)])).toEqual([
      'route replace 10.244.2.0/24 via 192.168.77.2 dev eth0 proto 91',
      'route replace 10.244.3.0/24 via 192.168.77.3 dev eth0 proto 91',
    ]);
    expect(await sync(hostGw, [peer(2, hostGw), peer(3, hostGw)])).toEqual([]);
    expect(await sync(hostGw, [peer(3, hostGw)])).toEqual(['route del 10.244.2.0/24 proto 91']);
    expect((await netlink.routes({ proto: 91 })).map((r) => `${r.dst} via ${r.via}`)).toEqual([
      '10.244.3.0/24 via 192.168.77.3',
    ]);
  });

  it('publishes no backend data, and has no overhead', () => {
    expect(hostGw.leaseData(1)).toEqual({ type: 'host-gw' });
    expect(hostGw.overhead).toBe(0);
  });
});

describe('vxlan', () => {
  it('makes its device, then a forwarding entry, a neighbour and a route per peer', async () => {
    expect(await sync(vxlan, [peer(2, vxlan)])).toEqual([
      'link add pier.1 address 0e:56:c0:a8:4d:01 mtu 1450 type vxlan id 1 local 192.168.77.1 dev eth0 dstport 8472 nolearning',
      'addr add 10.244.1.0/32 dev pier.1',
      'link set dev pier.1 up',
      'bridge fdb replace 0e:56:c0:a8:4d:02 dev pier.1 dst 192.168.77.2 self permanent',
      'neigh replace 10.244.2.0 lladdr 0e:56:c0:a8:4d:02 dev pier.1 nud permanent',
      'route replace 10.244.2.0/24 via 10.244.2.0 dev pier.1 onlink proto 91',
    ]);
    expect(await sync(vxlan, [peer(2, vxlan)])).toEqual([]);
  });

  it('takes a leaving peer’s route, neighbour and forwarding entry along, and only those', async () => {
    await sync(vxlan, [peer(2, vxlan), peer(3, vxlan)]);
    expect(await sync(vxlan, [peer(3, vxlan)])).toEqual([
      'route del 10.244.2.0/24 proto 91',
      'neigh del 10.244.2.0 dev pier.1',
      'bridge fdb del 0e:56:c0:a8:4d:02 dev pier.1 dst 192.168.77.2 self',
    ]);
    expect(await netlink.neighbours('pier.1')).toEqual([
      { address: '10.244.3.0', lladdr: '0e:56:c0:a8:4d:03', dev: 'pier.1' },
    ]);
  });

  it('follows a peer whose underlay address changed', async () => {
    await sync(vxlan, [peer(2, vxlan)]);
    const moved = { ...peer(2, vxlan), publicIp: parseIp('192.168.77.20')! };
    const ops = await sync(vxlan, [moved]);
    expect(ops).toContain(
      'bridge fdb replace 0e:56:c0:a8:4d:02 dev pier.1 dst 192.168.77.20 self permanent',
    );
    expect((await netlink.fdb('pier.1')).map((f) => f.dst)).toEqual(['192.168.77.20']);
  });

  it('has 50 bytes of overhead and publishes its VNI and a MAC derived from the node address', () => {
    expect(vxlan.overhead).toBe(50);
    expect(vxlan.leaseData(parseIp('192.168.77.1')!)).toEqual({
      type: 'vxlan',
      vni: 1,
      vtepMAC: '0e:56:c0:a8:4d:01',
    });
  });
});

describe('switching backends', () => {
  it('host-gw removes what vxlan left: its routes and its device', async () => {
    await sync(vxlan, [peer(2, vxlan)]);
    expect(await sync(hostGw, [peer(2, hostGw)])).toEqual([
      'link del dev pier.1',
      'route replace 10.244.2.0/24 via 192.168.77.2 dev eth0 proto 91',
    ]);
    expect((await netlink.links()).map((l) => l.name)).not.toContain('pier.1');
  });
});
