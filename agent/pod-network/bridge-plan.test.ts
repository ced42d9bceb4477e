import { describe, expect, it } from 'vitest';
import { createFakeNetlink } from '../netlink/fake.ts';
import { renderOp } from '../netlink/ip-commands.ts';
import { planBridge } from './bridge-plan.ts';

const spec = { name: 'cni0', mtu: 1450, mac: '0a:58:0a:f4:01:01', address: '10.244.1.1/24' };

describe('the node bridge', () => {
  it('is made once, with its MAC, MTU and gateway address, and then left alone', async () => {
    const netlink = createFakeNetlink();
    const plan = async () => planBridge(spec, await netlink.links(), await netlink.addresses());
    const first = await plan();
    expect(first.map((op) => renderOp(op).line)).toEqual([
      'link add cni0 address 0a:58:0a:f4:01:01 mtu 1450 type bridge',
      'addr add 10.244.1.1/24 dev cni0',
      'link set dev cni0 up',
    ]);
    await netlink.apply(first);
    expect(await plan()).toEqual([]);
  });

  it('moves to a new subnet and MTU without being remade', async () => {
    const netlink = createFakeNetlink();
    await netlink.apply(planBridge(spec, [], []));
    const moved = planBridge(
      { ...spec, mtu: 1500, address: '10.244.7.1/24' },
      await netlink.links(),
      await netlink.addresses(),
    );
    expect(moved.map((op) => renderOp(op).line)).toEqual([
      'link set dev cni0 mtu 1500',
      'addr del 10.244.1.1/24 dev cni0',
      'addr add 10.244.7.1/24 dev cni0',
    ]);
  });

  it('refuses to take over a device of another kind with the name', async () => {
    const netlink = createFakeNetlink();
    await netlink.apply([
      {
        op: 'add-vxlan',
        name: 'cni0',
        vni: 1,
        local: '10.0.0.1',
        dev: 'lo',
        port: 8472,
        mtu: 1450,
        mac: '0e:00:00:00:00:01',
      },
    ]);
    expect(() => planBridge(spec, [] as never, [])).not.toThrow();
    const links = await netlink.links();
    expect(() => planBridge(spec, links, [])).toThrow('not a bridge');
  });
});
