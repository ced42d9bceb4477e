// networking.k8s.io/v1 Ingress, validated as the API server does: every path
// has a pathType, Exact/Prefix paths are clean absolute paths, a backend names
// a Service (with a port number or name) or a resource, never both.

import { z } from 'zod';
import {
  dns1035Label,
  dns1123Subdomain,
  formatted,
  ipAddress,
  isDns1123Subdomain,
  isIanaSvcName,
  list,
  oneOf,
  portNumber,
} from '../fields.ts';
import { kubeObject } from '../meta.ts';

export const PATH_TYPES = ['Exact', 'Prefix', 'ImplementationSpecific'] as const;

export const ingressBackendSchema = z
  .looseObject({
    service: z
      .looseObject({
        name: dns1035Label(),
        port: z
          .looseObject({
            name: formatted(isIanaSvcName, 'must be a port name (an IANA service name)').optional(),
            number: portNumber().optional(),
          })
          .superRefine((p, ctx) => {
            if ((p.name === undefined || p.name === '') === (p.number === undefined)) {
              ctx.addIssue({
                code: 'custom',
                message: 'exactly one of name or number must be specified',
              });
            }
          }),
      })
      .optional(),
    resource: z
      .looseObject({ apiGroup: z.string().optional(), kind: z.string(), name: z.string() })
      .optional(),
  })
  .superRefine((b, ctx) => {
    if ((b.service === undefined) === (b.resource === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'exactly one of service or resource must be specified',
      });
    }
  });

const BAD_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const BAD_SUFFIXES = ['/..', '/.'];

const ingressPath = z
  .looseObject({
    path: z.string().optional(),
    pathType: oneOf(PATH_TYPES),
    backend: ingressBackendSchema,
  })
  .superRefine((p, ctx) => {
    const issue = (message: string) => ctx.addIssue({ code: 'custom', path: ['path'], message });
    const path = p.path ?? '';
    if (p.pathType === 'ImplementationSpecific') {
      if (path !== '' && !path.startsWith('/')) issue('must be an absolute path');
      return;
    }
    if (!path.startsWith('/')) return issue(`must be an absolute path for pathType ${p.pathType}`);
    const bad =
      BAD_SEQUENCES.find((s) => path.includes(s)) ?? BAD_SUFFIXES.find((s) => path.endsWith(s));
    if (bad !== undefined) issue(`must not contain '${bad}' for pathType ${p.pathType}`);
  });

const ingressHost = z
  .string()
  .refine((h) => isDns1123Subdomain(h.startsWith('*.') ? h.slice(2) : h), {
    error: 'must be a DNS name, optionally with a leading "*." wildcard label; not an IP',
  });

export const ingressRuleSchema = z.looseObject({
  host: ingressHost.optional(),
  http: z.looseObject({ paths: list(ingressPath, 1) }).optional(),
});

export const ingressSchema = kubeObject('Ingress', 'dns1123-subdomain', {
  spec: z
    .looseObject({
      ingressClassName: dns1123Subdomain().optional(),
      defaultBackend: ingressBackendSchema.optional(),
      rules: z.array(ingressRuleSchema).optional(),
      tls: z
        .array(
          z.looseObject({
            hosts: z.array(ingressHost).optional(),
            secretName: z.string().optional(),
          }),
        )
        .optional(),
    })
    .superRefine((spec, ctx) => {
      if (spec.defaultBackend === undefined && (spec.rules?.length ?? 0) === 0) {
        ctx.addIssue({
          code: 'custom',
          message: 'either `defaultBackend` or `rules` must be specified',
        });
      }
    }),
  status: z
    .looseObject({
      loadBalancer: z
        .looseObject({
          ingress: z
            .array(z.looseObject({ ip: ipAddress().optional(), hostname: z.string().optional() }))
            .optional(),
        })
        .optional(),
    })
    .optional(),
});

export type Ingress = z.output<typeof ingressSchema>;
export type IngressRule = z.output<typeof ingressRuleSchema>;
export type IngressBackend = z.output<typeof ingressBackendSchema>;
export type IngressPath = NonNullable<IngressRule['http']>['paths'][number];
export type IngressPathType = (typeof PATH_TYPES)[number];

/** The annotation older manifests use instead of spec.ingressClassName. */
export const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

/** The Ingress's class: spec.ingressClassName, else the legacy annotation. */
export function ingressClassOf(ingress: Ingress): string | undefined {
  return ingress.spec.ingressClassName ?? ingress.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
}
