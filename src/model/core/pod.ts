// core/v1 Pod, minimally: what DNS (hostname, subdomain) and the agent (node,
// IPs, phase) read. Containers and everything else pass through unchecked.
//
// Default applied: status.podIPs from status.podIP.

import { z } from 'zod';
import { dns1123Label, dns1123Subdomain, ipAddress, list, oneOf } from '../fields.ts';
import { kubeObject } from '../meta.ts';

export const POD_PHASES = ['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown'] as const;

const podStatus = z
  .looseObject({
    phase: oneOf(POD_PHASES).optional(),
    podIP: ipAddress().optional(),
    podIPs: list(z.looseObject({ ip: ipAddress() }), 0, 2).optional(),
    hostIP: ipAddress().optional(),
    hostIPs: z.array(z.looseObject({ ip: ipAddress() })).optional(),
  })
  .superRefine((status, ctx) => {
    const first = status.podIPs?.[0]?.ip;
    if (status.podIP !== undefined && first !== undefined && first !== status.podIP) {
      ctx.addIssue({ code: 'custom', path: ['podIPs', 0, 'ip'], message: 'must match podIP' });
    }
  })
  .transform((status) => {
    if (status.podIPs !== undefined || status.podIP === undefined) return status;
    return { ...status, podIPs: [{ ip: status.podIP }] };
  });

export const podSchema = kubeObject('Pod', 'dns1123-subdomain', {
  spec: z
    .looseObject({
      hostname: dns1123Label().optional(),
      subdomain: dns1123Label().optional(),
      nodeName: dns1123Subdomain().optional(),
      hostNetwork: z.boolean().optional(),
      containers: z.array(z.looseObject({ name: z.string() })).optional(),
    })
    .prefault({}),
  status: podStatus.optional(),
});

export type Pod = z.output<typeof podSchema>;
export type PodPhase = (typeof POD_PHASES)[number];

/** The pod's IPs, primary first; empty until the pod has one. */
export function podIPs(pod: Pod): string[] {
  return pod.status?.podIPs?.map((p) => p.ip) ?? [];
}
