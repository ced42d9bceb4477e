// core/v1 Node: what the agent needs to route to a node's pods (its pod CIDRs)
// and to reach the node itself (its addresses).
//
// Default applied (as the API server does): podCIDRs from podCIDR.

import { z } from 'zod';
import { cidr, list, oneOf } from '../fields.ts';
import { kubeObject } from '../meta.ts';

export const NODE_ADDRESS_TYPES = [
  'Hostname',
  'InternalIP',
  'ExternalIP',
  'InternalDNS',
  'ExternalDNS',
] as const;

const nodeSpec = z
  .looseObject({
    podCIDR: cidr().optional(),
    podCIDRs: list(cidr(), 0, 2).optional(),
    providerID: z.string().optional(),
    unschedulable: z.boolean().optional(),
    taints: z
      .array(
        z.looseObject({
          key: z.string(),
          value: z.string().optional(),
          effect: oneOf(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
        }),
      )
      .optional(),
  })
  .superRefine((spec, ctx) => {
    const first = spec.podCIDRs?.[0];
    if (spec.podCIDR !== undefined && first !== undefined && first !== spec.podCIDR) {
      ctx.addIssue({ code: 'custom', path: ['podCIDRs', 0], message: 'must match podCIDR' });
    }
  })
  .transform((spec) => {
    const podCIDRs = spec.podCIDRs ?? (spec.podCIDR === undefined ? undefined : [spec.podCIDR]);
    const podCIDR = spec.podCIDR ?? podCIDRs?.[0];
    const out = { ...spec };
    if (podCIDRs !== undefined) out.podCIDRs = podCIDRs;
    if (podCIDR !== undefined) out.podCIDR = podCIDR;
    return out;
  });

export const nodeSchema = kubeObject('Node', 'dns1123-subdomain', {
  spec: nodeSpec.prefault({}),
  status: z
    .looseObject({
      addresses: z
        .array(z.looseObject({ type: oneOf(NODE_ADDRESS_TYPES), address: z.string() }))
        .optional(),
      conditions: z.array(z.looseObject({ type: z.string(), status: z.string() })).optional(),
    })
    .optional(),
});

export type Node = z.output<typeof nodeSchema>;
export type NodeAddressType = (typeof NODE_ADDRESS_TYPES)[number];

/** The node's first address of a type (`InternalIP` by default), or undefined. */
export function nodeAddress(node: Node, type: NodeAddressType = 'InternalIP'): string | undefined {
  return node.status?.addresses?.find((a) => a.type === type)?.address;
}
