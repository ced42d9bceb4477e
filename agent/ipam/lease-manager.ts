// Takes and keeps this node's subnet lease in the shared Store.
//
// Every claim is a conditional write: create-only for a free subnet,
// compare-and-swap on the revision for a renewal or for taking over an
// expired lease. Two agents racing for one subnet therefore cannot both win:
// the loser's write fails with PIER_STORE_CONFLICT, it lists again, and
// chooseSubnet() sends it elsewhere.

import { isPierError } from '../../src/errors.ts';
import { Kinds } from '../../src/model/object.ts';
import type { Store } from '../../src/store.ts';
import { AgentErrors } from '../errors.ts';
import type { AgentLogger } from '../logger.ts';
import { type Cidr, formatCidr, formatIp } from './ipv4.ts';
import type { NetConf } from './net-conf.ts';
import { chooseSubnet } from './subnet-choice.ts';
import { type Lease, leaseObject, parseLease, type SubnetLeaseSpec } from './subnet-lease.ts';

export interface LeaseManagerOptions {
  store: Store;
  conf: NetConf;
  node: string;
  publicIp: number;
  /** What the backend publishes for this node (VXLAN: its VNI and VTEP MAC). */
  backend: SubnetLeaseSpec['backend'];
  ttlMs: number;
  /** The subnet in this node's subnet.env from an earlier run. */
  previous?: Cidr | undefined;
  logger: AgentLogger;
  now?: () => number;
}

export interface LeaseManager {
  /** Leases a subnet (keeping this node's own when it still has one). */
  acquire(): Promise<Lease>;
  /** Extends the held lease; LEASE_LOST when another node has taken it. */
  renew(): Promise<Lease>;
  /** Deletes the held lease, so another node may take the subnet now rather than after expiry. */
  release(): Promise<void>;
  current(): Lease | undefined;
}

const CONFLICT = 'PIER_STORE_CONFLICT';
const MAX_ATTEMPTS = 32;

export function createLeaseManager(options: LeaseManagerOptions): LeaseManager {
  const { store, conf, node, logger } = options;
  const now = options.now ?? Date.now;
  let held: Lease | undefined;

  const specFor = (subnet: Cidr): SubnetLeaseSpec => {
    const t = now();
    return {
      subnet: formatCidr(subnet),
      node,
      publicIP: formatIp(options.publicIp),
      backend: options.backend,
      renewTime: new Date(t).toISOString(),
      expireTime: new Date(t + options.ttlMs).toISOString(),
    };
  };

  const listLeases = async (): Promise<Lease[]> => {
    const { items } = await store.list(Kinds.SubnetLease);
    const leases: Lease[] = [];
    for (const item of items) {
      try {
        leases.push(parseLease(item));
      } catch (error) {
        // A malformed lease still occupies its name: treat its subnet as taken by nobody we
        // can route to, and say so, rather than failing every agent.
        logger.warn({ err: error, lease: item.metadata.name }, 'ignoring a malformed SubnetLease');
      }
    }
    return leases;
  };

  const write = async (subnet: Cidr, expectedRevision: number): Promise<Lease> => {
    const stored = await store.apply(leaseObject(specFor(subnet)), { expectedRevision });
    return parseLease(stored);
  };

  const acquire = async (): Promise<Lease> => {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const leases = await listLeases();
      const choice = chooseSubnet({
        conf,
        leases,
        node,
        now: now(),
        previous: held?.subnet ?? options.previous,
      });
      try {
        switch (choice.kind) {
          case 'none': {
            const step = 2 ** (32 - conf.subnetLen);
            throw AgentErrors.NO_FREE_SUBNET(
              formatCidr(conf.network),
              formatIp(conf.subnetMin),
              formatIp(conf.subnetMax + step - 1),
              leases.length,
            );
          }
          case 'renew':
            held = await write(choice.lease.subnet, choice.lease.revision);
            break;
          case 'create':
            held = await write(choice.subnet, 0);
            break;
          case 'take-expired':
            logger.info(
              { subnet: formatCidr(choice.lease.subnet), previousNode: choice.lease.node },
              'taking over an expired subnet lease',
            );
            held = await write(choice.lease.subnet, choice.lease.revision);
            break;
        }
      } catch (error) {
        if (isPierError(error, CONFLICT)) continue;
        throw error;
      }
      if (held !== undefined) {
        await dropExtraLeases(leases, held);
        return held;
      }
    }
    throw AgentErrors.LEASE_CONTENDED(formatCidr(conf.network), MAX_ATTEMPTS);
  };

  // A node holds one subnet; leases it left behind (a changed SubnetLen) go,
  // but only if they are still what we listed (compare-and-swap delete).
  const dropExtraLeases = async (leases: readonly Lease[], keep: Lease) => {
    for (const lease of leases) {
      if (lease.node !== node || lease.name === keep.name) continue;
      try {
        await store.delete(
          { kind: Kinds.SubnetLease, name: lease.name },
          { expectedRevision: lease.revision },
        );
      } catch (error) {
        if (!isPierError(error, CONFLICT)) throw error;
      }
    }
  };

  const renew = async (): Promise<Lease> => {
    if (held === undefined) return acquire();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      try {
        held = await write(held.subnet, held.revision);
        return held;
      } catch (error) {
        if (!isPierError(error, CONFLICT)) throw error;
      }
      // Someone wrote the lease since we did: still ours (an earlier write
      // that timed out but landed), deleted, or taken over?
      const stored = await store.get({ kind: Kinds.SubnetLease, name: held.name });
      if (stored === undefined) {
        try {
          held = await write(held.subnet, 0);
          return held;
        } catch (error) {
          if (!isPierError(error, CONFLICT)) throw error;
          continue;
        }
      }
      const current = parseLease(stored);
      if (current.node !== node) {
        const lost = held;
        held = undefined;
        throw AgentErrors.LEASE_LOST(formatCidr(lost.subnet), current.node);
      }
      held = current;
    }
    throw AgentErrors.LEASE_CONTENDED(held.name, MAX_ATTEMPTS);
  };

  const release = async (): Promise<void> => {
    if (held === undefined) return;
    const lease = held;
    held = undefined;
    try {
      await store.delete(
        { kind: Kinds.SubnetLease, name: lease.name },
        { expectedRevision: lease.revision },
      );
    } catch (error) {
      if (!isPierError(error, CONFLICT)) throw error;
    }
  };

  return { acquire, renew, release, current: () => held };
}
