// Names and hardware addresses the pod network derives rather than stores,
// so a restarted agent (or a DEL without any saved state) finds them again.

import { createHash } from 'node:crypto';
import { formatIp } from '../ipam/ipv4.ts';

/** The prefix of every host-side veth the agent makes: how GC tells its own apart. */
export const HOST_VETH_PREFIX = 'pier';

/**
 * The host end of an attachment's veth: `pier` + 11 hex digits of
 * sha256(container id, ifname). 15 characters, the kernel's limit.
 */
export function hostVethName(containerId: string, ifname: string): string {
  const digest = createHash('sha256').update(`${containerId}\0${ifname}`).digest('hex');
  return `${HOST_VETH_PREFIX}${digest.slice(0, 11)}`;
}

/**
 * A locally administered unicast MAC from an IPv4 address, with a two-byte
 * prefix: `0a:58:` + the address (Kubernetes networking's convention for a
 * pod's interface). Stable per address, so neighbours' ARP caches stay right
 * when an address is reused.
 */
export function macFromIp(prefix: readonly [number, number], ip: number): string {
  return [prefix[0], prefix[1], ...formatIp(ip).split('.').map(Number)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join(':');
}

/** A pod's own interface. */
export const POD_MAC_PREFIX = [0x0a, 0x58] as const;
/** The host end of a pod's veth. */
export const HOST_MAC_PREFIX = [0x0e, 0x58] as const;
/** The node bridge (its gateway address). */
export const BRIDGE_MAC_PREFIX = [0x0a, 0x58] as const;
/** A node's VXLAN device (its underlay address). */
export const VTEP_MAC_PREFIX = [0x0e, 0x56] as const;
