// LinkOps in iproute2's own notation: what the agent asks `ip -batch` for.

import { describe, expect, it } from 'vitest';
import type { LinkOp } from '../netlink.ts';
import { renderOp, toBatches } from './ip-commands.ts';

describe('ip -batch lines', () => {
  it.each<[LinkOp, string]>([
    [
      { op: 'add-bridge', name: 'cni0', mtu: 1450, mac: '0a:58:0a:f4:01:01' },
      'ip: link add cni0 address 0a:58:0a:f4:01:01 mtu 1450 type bridge',
    ],
    [
      {
        op: 'add-veth',
        name: 'pier0123456789a',
        mac: '0e:58:0a:f4:01:05',
        mtu: 1450,
        master: 'cni0',
        up: true,
        peer: 'eth0',
        peerMac: '0a:58:0a:f4:01:05',
        peerNetns: '/var/run/netns/p1',
      },
      'ip: link add pier0123456789a address 0e:58:0a:f4:01:05 mtu 1450 master cni0 up type veth peer name eth0 address 0a:58:0a:f4:01:05 mtu 1450 netns /var/run/netns/p1',
    ],
    [
      {
        op: 'add-vxlan',
        name: 'pier.1',
        vni: 1,
        local: '192.168.77.1',
        dev: 'eth0',
        port: 8472,
        mtu: 1450,
        mac: '0e:56:c0:a8:4d:01',
      },
      'ip: link add pier.1 address 0e:56:c0:a8:4d:01 mtu 1450 type vxlan id 1 local 192.168.77.1 dev eth0 dstport 8472 nolearning',
    ],
    [{ op: 'set-link', name: 'cni0', mtu: 1400, up: true }, 'ip: link set dev cni0 mtu 1400 up'],
    [
      { op: 'set-hairpin', name: 'pier0123456789a', on: true },
      'ip: link set dev pier0123456789a type bridge_slave hairpin on',
    ],
    [{ op: 'del-link', name: 'pier0123456789a' }, 'ip: link del dev pier0123456789a'],
    [
      { op: 'add-addr', dev: 'eth0', address: '10.244.1.5/24' },
      'ip: addr add 10.244.1.5/24 dev eth0',
    ],
    [
      { op: 'replace-route', dst: 'default', via: '10.244.1.1', dev: 'eth0' },
      'ip: route replace default via 10.244.1.1 dev eth0',
    ],
    [
      {
        op: 'replace-route',
        dst: '10.244.2.0/24',
        via: '10.244.2.0',
        dev: 'pier.1',
        onlink: true,
        proto: 91,
      },
      'ip: route replace 10.244.2.0/24 via 10.244.2.0 dev pier.1 onlink proto 91',
    ],
    [{ op: 'del-route', dst: '10.244.2.0/24', proto: 91 }, 'ip: route del 10.244.2.0/24 proto 91'],
    [
      { op: 'replace-neigh', address: '10.244.2.0', lladdr: '0e:56:c0:a8:4d:02', dev: 'pier.1' },
      'ip: neigh replace 10.244.2.0 lladdr 0e:56:c0:a8:4d:02 dev pier.1 nud permanent',
    ],
    [
      { op: 'replace-fdb', lladdr: '0e:56:c0:a8:4d:02', dev: 'pier.1', dst: '192.168.77.2' },
      'bridge: fdb replace 0e:56:c0:a8:4d:02 dev pier.1 dst 192.168.77.2 self permanent',
    ],
    [
      { op: 'del-fdb', lladdr: '0e:56:c0:a8:4d:02', dev: 'pier.1', dst: '192.168.77.2' },
      'bridge: fdb del 0e:56:c0:a8:4d:02 dev pier.1 dst 192.168.77.2 self',
    ],
  ])('%j', (op, expected) => {
    const { tool, line } = renderOp(op);
    expect(`${tool}: ${line}`).toBe(expected);
  });

  it.each<LinkOp>([
    { op: 'del-link', name: 'eth0\nlink del eth1' },
    { op: 'del-link', name: 'a-name-longer-than-15' },
    { op: 'add-addr', dev: 'eth0', address: '10.0.0.1/24 dev lo' },
    { op: 'replace-neigh', address: '10.0.0.1', lladdr: 'zz:zz:zz:zz:zz:zz', dev: 'eth0' },
    { op: 'add-veth', name: 'v', mtu: 1500, peer: 'eth0', peerNetns: '/run/netns/x y' },
    { op: 'set-link', name: 'eth0', mtu: -1 },
  ])('refuses a value that could smuggle in a command: %j', (op) => {
    expect(() => renderOp(op)).toThrow(RangeError);
  });

  it('groups consecutive lines per tool, in order', () => {
    const batches = toBatches([
      { op: 'add-addr', dev: 'a', address: '10.0.0.1/32' },
      { op: 'replace-fdb', lladdr: '0e:00:00:00:00:01', dev: 'a', dst: '10.0.0.2' },
      { op: 'replace-fdb', lladdr: '0e:00:00:00:00:02', dev: 'a', dst: '10.0.0.3' },
      { op: 'del-link', name: 'a' },
    ]);
    expect(batches.map((b) => [b.tool, b.first, b.lines.length])).toEqual([
      ['ip', 0, 1],
      ['bridge', 1, 2],
      ['ip', 3, 1],
    ]);
  });
});
