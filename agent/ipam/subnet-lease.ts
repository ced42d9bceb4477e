// pier.dev/SubnetLease: a node's claim on one pod subnet, kept in the Store
// that all agents share (flannel's subnet lease, as a Kubernetes-shaped
// object). Named after the subnet (`10.244.1.0-24`, flannel's key), so two
// agents wanting one subnet write the same object and the Store's
// optimistic concurrency lets exactly one of them win.
//
// The lease also carries what other nodes need to route to this one: its
// underlay address and, for VXLAN, the MAC of its overlay device.

import { z } from 'zod';
import type { KubeObject } from '../../src/model/object.ts';
import { AgentErrors } from '../errors.ts';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIp } from './ipv4.ts';

export const SUBNET_LEASE_API_VERSION = 'pier.dev/v1';
export const SUBNET_LEASE_KIND = 'SubnetLease';

const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

const ipv4 = z.string().refine((s) => parseIp(s) !== undefined, 'must be an IPv4 address');
const cidr = z.string().refine((s) => parseCidr(s) !== undefined, 'must be an IPv4 network');
const timestamp = z.iso.datetime({ offset: true });

export const subnetLeaseSpecSchema = z.object({
  subnet: cidr,
  /** The node (its name) that holds the lease. */
  node: z.string().min(1),
  /** The node's underlay address: host-gw's next hop, VXLAN's tunnel endpoint. */
  publicIP: ipv4,
  backend: z.discriminatedUnion('type', [
    z.object({ type: z.literal('host-gw') }),
    z.object({
      type: z.literal('vxlan'),
      vni: z.number().int().min(0).max(16_777_215),
      vtepMAC: z.string().regex(MAC, 'must be a lower-case MAC like 0e:00:00:00:00:01'),
    }),
  ]),
  renewTime: timestamp,
  expireTime: timestamp,
});

export type SubnetLeaseSpec = z.output<typeof subnetLeaseSpecSchema>;

export interface SubnetLeaseObject extends KubeObject {
  spec: SubnetLeaseSpec;
}

/** A checked lease, with its subnet parsed: what the agent reasons about. */
export interface Lease {
  readonly name: string;
  readonly subnet: Cidr;
  readonly node: string;
  readonly publicIp: number;
  readonly backend: SubnetLeaseSpec['backend'];
  readonly expireTime: number;
  /** The Store revision of the lease object: compare-and-swap on renewal. */
  readonly revision: number;
}

/** `10.244.1.0/24` -> `10.244.1.0-24`, flannel's lease key. */
export function leaseName(subnet: Cidr): string {
  return `${formatIp(subnet.base)}-${subnet.prefix}`;
}

export function leaseObject(spec: SubnetLeaseSpec): SubnetLeaseObject {
  const subnet = parseCidr(spec.subnet);
  if (subnet === undefined) throw AgentErrors.BAD_LEASE(spec.subnet, 'subnet is not a network');
  return {
    apiVersion: SUBNET_LEASE_API_VERSION,
    kind: SUBNET_LEASE_KIND,
    metadata: { name: leaseName(subnet), labels: { 'pier.dev/node': labelValue(spec.node) } },
    spec,
  };
}

/** Checks a stored object; BAD_LEASE when it is not a well-formed lease. */
export function parseLease(object: KubeObject): Lease {
  const name = object.metadata.name;
  const parsed = subnetLeaseSpecSchema.safeParse((object as { spec?: unknown }).spec);
  if (!parsed.success) {
    throw AgentErrors.BAD_LEASE(
      name,
      parsed.error.issues.map((i) => `spec.${i.path.join('.')}: ${i.message}`).join('; '),
    );
  }
  const spec = parsed.data;
  const subnet = parseCidr(spec.subnet);
  const publicIp = parseIp(spec.publicIP);
  if (subnet === undefined || publicIp === undefined)
    throw AgentErrors.BAD_LEASE(name, 'unparsable');
  if (leaseName(subnet) !== name) {
    throw AgentErrors.BAD_LEASE(name, `its name must be ${leaseName(subnet)}, after spec.subnet`);
  }
  return {
    name,
    subnet,
    node: spec.node,
    publicIp,
    backend: spec.backend,
    expireTime: Date.parse(spec.expireTime),
    revision: Number(object.metadata.resourceVersion ?? '0'),
  };
}

export function isExpired(lease: Lease, now: number): boolean {
  return lease.expireTime <= now;
}

export function describeLease(lease: Lease): string {
  return `${formatCidr(lease.subnet)} (node ${lease.node}, ${formatIp(lease.publicIp)})`;
}

// Label values are at most 63 characters of [A-Za-z0-9._-]; node names are
// DNS subdomains of up to 253, so long ones are cut (the spec keeps the full name).
function labelValue(node: string): string {
  return node
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 63)
    .replace(/[^A-Za-z0-9]+$/, '');
}
