import { beforeEach, describe, expect, it } from 'vitest';
import { createFakeNetlink, type FakeNetlink } from './fake.ts';
import { netlinkCases } from './netlink.case.ts';

let fake: FakeNetlink;
let pods = 0;
beforeEach(() => {
  fake = createFakeNetlink();
});

netlinkCases('fake', () => ({
  netlink: fake,
  async newNetns() {
    const path = `/var/run/netns/fake-pod-${pods++}`;
    fake.addNetns(path);
    return path;
  },
  missingNetns: '/var/run/netns/fake-none',
}));

describe('the fake beyond the shared cases', () => {
  it('records batches and fails an operation on request, applying the ones before it', async () => {
    fake.failNext((op) => op.op === 'set-link', 'other');
    await expect(
      fake.apply([
        { op: 'add-bridge', name: 'br0', mtu: 1500 },
        { op: 'set-link', name: 'br0', up: true },
      ]),
    ).rejects.toMatchObject({ failure: 'other', opIndex: 1 });
    expect((await fake.links()).find((l) => l.name === 'br0')?.up).toBe(false);
    expect(fake.batches).toHaveLength(1);
  });

  it('removes veth pairs with their namespace, as the kernel does', async () => {
    fake.addNetns('/run/netns/p');
    await fake.apply([
      { op: 'add-veth', name: 'vh', mtu: 1500, peer: 'eth0', peerNetns: '/run/netns/p' },
    ]);
    fake.deleteNetns('/run/netns/p');
    expect((await fake.links()).map((l) => l.name)).toEqual(['lo']);
    expect(fake.hasNetns('/run/netns/p')).toBe(false);
  });

  it('checks values the way the real one does before they reach a command line', async () => {
    await expect(
      fake.apply([{ op: 'add-bridge', name: 'br0\nlink del eth0', mtu: 1500 }]),
    ).rejects.toThrow('not a valid interface name');
  });
});
