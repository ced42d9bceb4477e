// networking.k8s.io/v1 IngressClass (cluster-scoped): which controller serves
// Ingresses of the class.
//
// Default applied (as the API server does): parameters.scope Cluster.

import { z } from 'zod';
import { oneOf, text } from '../fields.ts';
import { kubeObject } from '../meta.ts';

/** Marks the class used for Ingresses that name none. */
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

export const ingressClassSchema = kubeObject('IngressClass', 'dns1123-subdomain', {
  spec: z
    .looseObject({
      controller: text(0, 250).optional(),
      parameters: z
        .looseObject({
          apiGroup: z.string().optional(),
          kind: z.string(),
          name: z.string(),
          namespace: z.string().optional(),
          scope: oneOf(['Cluster', 'Namespace']).default('Cluster'),
        })
        .superRefine((p, ctx) => {
          if (p.scope === 'Namespace' && (p.namespace === undefined || p.namespace === '')) {
            ctx.addIssue({
              code: 'custom',
              path: ['namespace'],
              message: 'Required value: when scope is Namespace',
            });
          }
          if (p.scope === 'Cluster' && p.namespace !== undefined && p.namespace !== '') {
            ctx.addIssue({
              code: 'custom',
              path: ['namespace'],
              message: 'must not be set when scope is Cluster',
            });
          }
        })
        .optional(),
    })
    .prefault({}),
});

export type IngressClass = z.output<typeof ingressClassSchema>;

export function isDefaultIngressClass(ingressClass: IngressClass): boolean {
  return ingressClass.metadata.annotations?.[DEFAULT_INGRESS_CLASS_ANNOTATION] === 'true';
}
