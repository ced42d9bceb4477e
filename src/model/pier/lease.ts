// pier.dev/Lease (v1, cluster-scoped): who holds a named role among Pier
// processes sharing one Store, and until when (src/sources/kubernetes/leader.ts).
// Shaped after coordination.k8s.io Lease, with the duration in milliseconds
// so that tests can use short leases. An empty holderIdentity is a released
// lease: anyone may take it at once.

import { z } from 'zod';
import { kubeObject } from '../meta.ts';

export const LEASE_API_VERSION = 'pier.dev/v1';

const timestamp = z.iso.datetime({ offset: true });

export const leaseSchema = kubeObject('Lease', 'dns1123-subdomain', {
  spec: z.looseObject({
    /** The holder's identity; `` when released. */
    holderIdentity: z.string().default(''),
    /** How long, from its last renewal, the holder may be taken to hold it. */
    leaseDurationMs: z.number().int().positive(),
    /** When the current holder took it (wall clock, for people; elections use their own clock). */
    acquireTime: timestamp.optional(),
    renewTime: timestamp.optional(),
    /** How many times the holder changed. */
    leaseTransitions: z.number().int().min(0).default(0),
  }),
});

export type Lease = z.output<typeof leaseSchema>;
