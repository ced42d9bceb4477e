// The Netlink port's shared suite (convention 6): the fake (fake.test.ts)
// and iproute2 in real namespaces (test/cni-ports.test.ts) pass the same
// cases, so the unit tests that trust the fake trust something true.

import { describe, expect, it } from 'vitest';
import { isNetlinkError, type Netlink } from '../netlink.ts';

export interface NetlinkFixture {
  /** Operates on a namespace of the test's own as "the agent's". */
  netlink: Netlink;
  /** A fresh empty namespace (lo down); its path. */
  newNetns(): Promise<string>;
  /** A path where no namespace exists. */
  missingNetns: string;
}

export function netlinkCases(name: string, fixture: () => NetlinkFixture) {
  describe(`Netlink port: ${name}`, () => {
    it('makes a bridge with MTU, MAC and address, and reads them back', async () => {
      const { netlink } = fixture();
      await netlink.apply([
        { op: 'add-bridge', name: 'br-a', mtu: 1400, mac: '0a:58:0a:f4:01:01' },
        { op: 'add-addr', dev: 'br-a', address: '10.244.1.1/24' },
        { op: 'set-link', name: 'br-a', up: true },
      ]);
      const link = (await netlink.links()).find((l) => l.name === 'br-a');
      expect(link).toMatchObject({ kind: 'bridge', mtu: 1400, mac: '0a:58:0a:f4:01:01', up: true });
      expect(await netlink.addresses({ dev: 'br-a' })).toEqual([
        { dev: 'br-a', address: '10.244.1.1/24' },
      ]);
    });

    it('makes a veth pair with its peer in another namespace, on a bridge, hairpin on', async () => {
      const { netlink, newNetns } = fixture();
      const pod = await newNetns();
      await netlink.apply([{ op: 'add-bridge', name: 'br-b', mtu: 1500 }]);
      await netlink.apply([
        {
          op: 'add-veth',
          name: 'vh-b',
          mac: '0e:58:0a:f4:01:05',
          mtu: 1450,
          master: 'br-b',
          up: true,
          peer: 'eth0',
          peerMac: '0a:58:0a:f4:01:05',
          peerNetns: pod,
        },
        { op: 'set-hairpin', name: 'vh-b', on: true },
      ]);
      expect((await netlink.links()).find((l) => l.name === 'vh-b')).toMatchObject({
        kind: 'veth',
        mtu: 1450,
        master: 'br-b',
        up: true,
        hairpin: true,
        mac: '0e:58:0a:f4:01:05',
      });
      await netlink.apply(
        [
          { op: 'set-link', name: 'lo', up: true },
          { op: 'add-addr', dev: 'eth0', address: '10.244.1.5/24' },
          { op: 'set-link', name: 'eth0', up: true },
          { op: 'replace-route', dst: 'default', via: '10.244.1.1', dev: 'eth0' },
        ],
        { netns: pod },
      );
      const podLinks = await netlink.links({ netns: pod });
      expect(podLinks.find((l) => l.name === 'eth0')).toMatchObject({
        mtu: 1450,
        up: true,
        mac: '0a:58:0a:f4:01:05',
      });
      expect(podLinks.find((l) => l.name === 'lo')?.up).toBe(true);
      expect(await netlink.addresses({ netns: pod, dev: 'eth0' })).toEqual([
        { dev: 'eth0', address: '10.244.1.5/24' },
      ]);
      expect((await netlink.routes({ netns: pod })).find((r) => r.dst === 'default')).toMatchObject(
        {
          via: '10.244.1.1',
          dev: 'eth0',
        },
      );
      // Deleting the host end takes the pod end with it.
      await netlink.apply([{ op: 'del-link', name: 'vh-b' }]);
      expect((await netlink.links({ netns: pod })).map((l) => l.name)).toEqual(['lo']);
    });

    it('stops a batch at its first failure and says which and how', async () => {
      const { netlink } = fixture();
      const error = await netlink
        .apply([
          { op: 'add-bridge', name: 'br-c', mtu: 1500 },
          { op: 'add-bridge', name: 'br-c', mtu: 1500 },
          { op: 'add-bridge', name: 'br-c2', mtu: 1500 },
        ])
        .catch((e: unknown) => e);
      expect(isNetlinkError(error, 'exists')).toBe(true);
      expect(error).toMatchObject({ opIndex: 1, op: { op: 'add-bridge', name: 'br-c' } });
      const names = (await netlink.links()).map((l) => l.name);
      expect(names).toContain('br-c');
      expect(names).not.toContain('br-c2');
      await expect(netlink.apply([{ op: 'del-link', name: 'no-such-dev' }])).rejects.toSatisfy(
        (e: unknown) => isNetlinkError(e, 'missing'),
      );
    });

    it('keeps routes of its protocol apart, replaces them idempotently, and removes them', async () => {
      const { netlink } = fixture();
      await netlink.apply([
        { op: 'add-bridge', name: 'br-d', mtu: 1500 },
        { op: 'add-addr', dev: 'br-d', address: '192.168.50.1/24' },
        { op: 'set-link', name: 'br-d', up: true },
      ]);
      const route = {
        op: 'replace-route' as const,
        dst: '10.244.9.0/24',
        via: '192.168.50.9',
        dev: 'br-d',
        proto: 91,
      };
      await netlink.apply([route]);
      await netlink.apply([route]);
      await netlink.apply([{ ...route, dst: '10.244.8.0/24', via: '10.99.0.1', onlink: true }]);
      expect(await netlink.routes({ proto: 91 })).toEqual([
        { dst: '10.244.8.0/24', via: '10.99.0.1', dev: 'br-d', onlink: true },
        { dst: '10.244.9.0/24', via: '192.168.50.9', dev: 'br-d', onlink: false },
      ]);
      // A gateway that is not on a connected subnet needs onlink.
      await expect(
        netlink.apply([{ ...route, dst: '10.244.7.0/24', via: '10.98.0.1' }]),
      ).rejects.toSatisfy((e: unknown) => isNetlinkError(e));
      await netlink.apply([{ op: 'del-route', dst: '10.244.9.0/24', proto: 91 }]);
      expect((await netlink.routes({ proto: 91 })).map((r) => r.dst)).toEqual(['10.244.8.0/24']);
      await expect(
        netlink.apply([{ op: 'del-route', dst: '10.244.9.0/24', proto: 91 }]),
      ).rejects.toSatisfy((e: unknown) => isNetlinkError(e, 'missing'));
    });

    it('keeps a VXLAN device with permanent neighbours and forwarding entries', async () => {
      const { netlink } = fixture();
      await netlink.apply([
        { op: 'add-bridge', name: 'br-e', mtu: 1500 },
        { op: 'add-addr', dev: 'br-e', address: '192.168.51.1/24' },
        { op: 'set-link', name: 'br-e', up: true },
        {
          op: 'add-vxlan',
          name: 'vx-e',
          vni: 7,
          local: '192.168.51.1',
          dev: 'br-e',
          port: 8472,
          mtu: 1450,
          mac: '0e:56:c0:a8:33:01',
        },
        { op: 'add-addr', dev: 'vx-e', address: '10.244.1.0/32' },
        { op: 'set-link', name: 'vx-e', up: true },
        { op: 'replace-fdb', lladdr: '0e:56:c0:a8:33:02', dev: 'vx-e', dst: '192.168.51.2' },
        { op: 'replace-neigh', address: '10.244.2.0', lladdr: '0e:56:c0:a8:33:02', dev: 'vx-e' },
        {
          op: 'replace-route',
          dst: '10.244.2.0/24',
          via: '10.244.2.0',
          dev: 'vx-e',
          onlink: true,
          proto: 91,
        },
      ]);
      expect((await netlink.links()).find((l) => l.name === 'vx-e')).toMatchObject({
        kind: 'vxlan',
        mtu: 1450,
        mac: '0e:56:c0:a8:33:01',
        vxlan: { vni: 7, local: '192.168.51.1', port: 8472 },
      });
      expect(await netlink.neighbours('vx-e')).toEqual([
        { address: '10.244.2.0', lladdr: '0e:56:c0:a8:33:02', dev: 'vx-e' },
      ]);
      expect(await netlink.fdb('vx-e')).toEqual([
        { lladdr: '0e:56:c0:a8:33:02', dev: 'vx-e', dst: '192.168.51.2' },
      ]);
      await netlink.apply([
        { op: 'del-route', dst: '10.244.2.0/24', proto: 91 },
        { op: 'del-neigh', address: '10.244.2.0', lladdr: '0e:56:c0:a8:33:02', dev: 'vx-e' },
        { op: 'del-fdb', lladdr: '0e:56:c0:a8:33:02', dev: 'vx-e', dst: '192.168.51.2' },
      ]);
      expect(await netlink.neighbours('vx-e')).toEqual([]);
      expect(await netlink.fdb('vx-e')).toEqual([]);
    });

    it('fails with no-netns for a namespace that does not exist', async () => {
      const { netlink, missingNetns } = fixture();
      await expect(
        netlink.apply([{ op: 'set-link', name: 'lo', up: true }], { netns: missingNetns }),
      ).rejects.toSatisfy((e: unknown) => isNetlinkError(e, 'no-netns'));
    });
  });
}
