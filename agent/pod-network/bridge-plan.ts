// The node bridge the pods' veths hang on: it holds the subnet's gateway
// address, with a fixed MAC (derived from that address) so the bridge's MAC
// does not change as veths come and go and pods' ARP caches stay right.
// Pure: the operations that turn what the kernel has into that.

import type { AddrInfo, LinkInfo, LinkOp } from '../netlink.ts';

export interface BridgeSpec {
  name: string;
  mtu: number;
  mac: string;
  /** `10.244.1.1/24`. */
  address: string;
}

export function planBridge(
  spec: BridgeSpec,
  links: readonly LinkInfo[],
  addresses: readonly AddrInfo[],
): LinkOp[] {
  const ops: LinkOp[] = [];
  const link = links.find((l) => l.name === spec.name);
  if (link !== undefined && link.kind !== 'bridge') {
    // Not ours to fix: a device of another kind has the name.
    throw new Error(`${spec.name} exists and is a ${link.kind ?? 'plain'} device, not a bridge`);
  }
  if (link === undefined) {
    ops.push({ op: 'add-bridge', name: spec.name, mtu: spec.mtu, mac: spec.mac });
  } else {
    if (link.mtu !== spec.mtu) ops.push({ op: 'set-link', name: spec.name, mtu: spec.mtu });
    if (link.mac !== spec.mac) ops.push({ op: 'set-link', name: spec.name, mac: spec.mac });
  }
  const own = link === undefined ? [] : addresses.filter((a) => a.dev === spec.name);
  for (const a of own) {
    if (a.address !== spec.address)
      ops.push({ op: 'del-addr', dev: spec.name, address: a.address });
  }
  if (!own.some((a) => a.address === spec.address)) {
    ops.push({ op: 'add-addr', dev: spec.name, address: spec.address });
  }
  if (link === undefined || !link.up) ops.push({ op: 'set-link', name: spec.name, up: true });
  return ops;
}
