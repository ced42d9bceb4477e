// The pod network's own nftables table: accept the pod network in FORWARD,
// and masquerade only what leaves the cluster network. Fixed structure as
// data (convention 8): the chains and rules below, filled with the cluster
// network and the nodes' underlay addresses.
//
//   postrouting (srcnat):
//     pod -> pod (any node)            return      no NAT: the server sees the pod's own IP
//     pod -> a node's underlay address return      no NAT: nodes see pods as they are
//     pod -> anything else but multicast  masquerade  (the node's address, as flannel's ipMasq)
//   node -> pod is never touched: its source is not in the cluster network.
//
// The whole table is replaced in one transaction (`nft -f`), and only when
// what it would hold changed: its comment carries a digest of the body, so a
// restarted agent that finds the same digest changes nothing.

import { createHash } from 'node:crypto';
import { type Cidr, formatCidr, formatIp } from '../ipam/ipv4.ts';

export const FIREWALL_FAMILY = 'ip';
export const FIREWALL_TABLE = 'pier_pod_network';

export interface FirewallInput {
  network: Cidr;
  /** Every node's underlay address (this node's too). */
  nodeIps: readonly number[];
}

export interface FirewallTable {
  /** The nft script that replaces the table. */
  script: string;
  /** What the table's comment holds once the script ran. */
  comment: string;
}

export function renderFirewallTable(input: FirewallInput): FirewallTable {
  const net = formatCidr(input.network);
  const nodes = [...new Set(input.nodeIps)].sort((a, b) => a - b).map(formatIp);
  const body = [
    `set nodes {`,
    `type ipv4_addr`,
    ...(nodes.length === 0 ? [] : [`elements = { ${nodes.join(', ')} }`]),
    `}`,
    `chain forward {`,
    `type filter hook forward priority filter; policy accept;`,
    `ip saddr ${net} accept`,
    `ip daddr ${net} accept`,
    `}`,
    `chain postrouting {`,
    `type nat hook postrouting priority srcnat; policy accept;`,
    `ip saddr ${net} ip daddr ${net} return`,
    `ip saddr ${net} ip daddr @nodes return`,
    `ip saddr ${net} ip daddr != 224.0.0.0/4 masquerade fully-random`,
    `}`,
  ];
  const digest = createHash('sha256').update(body.join('\n')).digest('hex').slice(0, 16);
  const comment = `pier-agent ${digest}`;
  const table = `${FIREWALL_FAMILY} ${FIREWALL_TABLE}`;
  const script = [
    `table ${table} {}`,
    `delete table ${table}`,
    `table ${table} {`,
    `comment "${comment}"`,
    ...body,
    `}`,
    '',
  ].join('\n');
  return { script, comment };
}
