// Which node subnet an agent should lease: a pure decision over the leases
// the Store holds. The Store's compare-and-swap turns the decision into a
// claim; when another agent wins the race, the caller lists again and asks
// again (the loser sees the winner's lease and moves on).
//
// Order of preference (flannel's, plus "keep what is yours"):
// 1. a lease this node already holds, expired or not: a returning node keeps
//    its subnet while nobody else has taken it;
// 2. the subnet this node used last (from its subnet.env), if it is free or
//    its lease has expired;
// 3. the lowest subnet nobody has leased;
// 4. the subnet whose lease expired longest ago.

import { type Cidr, containsCidr, sameCidr } from './ipv4.ts';
import type { NetConf } from './net-conf.ts';
import { isExpired, type Lease } from './subnet-lease.ts';

export type SubnetChoice =
  /** Renew the lease this node holds (compare-and-swap on its revision). */
  | { kind: 'renew'; lease: Lease }
  /** Create a lease on a subnet nobody holds (create-only). */
  | { kind: 'create'; subnet: Cidr }
  /** Replace another node's expired lease (compare-and-swap on its revision). */
  | { kind: 'take-expired'; lease: Lease }
  | { kind: 'none' };

export interface SubnetChoiceInput {
  conf: NetConf;
  leases: readonly Lease[];
  node: string;
  now: number;
  /** The subnet in this node's subnet.env, if any. */
  previous?: Cidr | undefined;
}

/** Whether a subnet may be leased under this net-conf (inside the range, of the right size). */
export function inRange(conf: NetConf, subnet: Cidr): boolean {
  return (
    subnet.prefix === conf.subnetLen &&
    containsCidr(conf.network, subnet) &&
    subnet.base >= conf.subnetMin &&
    subnet.base <= conf.subnetMax
  );
}

export function chooseSubnet(input: SubnetChoiceInput): SubnetChoice {
  const { conf, node, now, previous } = input;
  const leases = input.leases.filter((lease) => inRange(conf, lease.subnet));
  const mine = leases
    .filter((lease) => lease.node === node)
    .sort(
      (a, b) =>
        Number(previous !== undefined && sameCidr(b.subnet, previous)) -
          Number(previous !== undefined && sameCidr(a.subnet, previous)) ||
        a.subnet.base - b.subnet.base,
    );
  const own = mine[0];
  if (own !== undefined) return { kind: 'renew', lease: own };

  const byBase = new Map<number, Lease>();
  for (const lease of leases) byBase.set(lease.subnet.base, lease);

  if (previous !== undefined && inRange(conf, previous)) {
    const holder = byBase.get(previous.base);
    if (holder === undefined) return { kind: 'create', subnet: previous };
    if (isExpired(holder, now)) return { kind: 'take-expired', lease: holder };
  }

  const step = 2 ** (32 - conf.subnetLen);
  for (let base = conf.subnetMin; base <= conf.subnetMax; base += step) {
    if (!byBase.has(base)) return { kind: 'create', subnet: { base, prefix: conf.subnetLen } };
  }

  const expired = leases
    .filter((lease) => isExpired(lease, now))
    .sort((a, b) => a.expireTime - b.expireTime);
  const oldest = expired[0];
  return oldest === undefined ? { kind: 'none' } : { kind: 'take-expired', lease: oldest };
}
