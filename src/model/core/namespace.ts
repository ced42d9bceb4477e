// core/v1 Namespace: cluster-scoped; its name is a DNS label (it becomes part
// of every DNS name under it: web.<namespace>.svc.cluster.local).

import { z } from 'zod';
import { oneOf } from '../fields.ts';
import { kubeObject } from '../meta.ts';

export const namespaceSchema = kubeObject('Namespace', 'dns1123-label', {
  spec: z.looseObject({ finalizers: z.array(z.string()).optional() }).optional(),
  status: z.looseObject({ phase: oneOf(['Active', 'Terminating']).optional() }).optional(),
});

export type Namespace = z.output<typeof namespaceSchema>;
