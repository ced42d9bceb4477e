// gateway.networking.k8s.io BackendTLSPolicy (v1; v1alpha3 as well, the
// same shape): TLS from the gateway to the endpoints of a Service, with the
// name to send as SNI and check the certificate against, and the CAs to
// trust. A Direct policy: it targets Services (optionally one port, by
// sectionName) in its own namespace.
//
// The CRD's own rules, checked here as the API server would: one of
// caCertificateRefs and wellKnownCACertificates, not both; each SAN carries
// exactly the field its type names; targetRefs distinct.

import { z } from 'zod';
import { list, oneOf, text } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import {
  group,
  kind,
  localObjectReferenceSchema,
  objectName,
  preciseHostname,
  sectionName,
} from './shared.ts';

const subjectAltNameSchema = z
  .looseObject({
    type: oneOf(['Hostname', 'URI']),
    hostname: text(0, 253).optional(),
    uri: text(0, 253).optional(),
  })
  .superRefine((san, ctx) => {
    const hasHostname = san.hostname !== undefined && san.hostname !== '';
    const hasUri = san.uri !== undefined && san.uri !== '';
    if (san.type === 'Hostname' && !hasHostname)
      ctx.addIssue({
        code: 'custom',
        path: ['hostname'],
        message: 'required when type is Hostname',
      });
    if (san.type !== 'Hostname' && hasHostname)
      ctx.addIssue({
        code: 'custom',
        path: ['hostname'],
        message: 'only allowed when type is Hostname',
      });
    if (san.type === 'URI' && !hasUri)
      ctx.addIssue({ code: 'custom', path: ['uri'], message: 'required when type is URI' });
    if (san.type !== 'URI' && hasUri)
      ctx.addIssue({ code: 'custom', path: ['uri'], message: 'only allowed when type is URI' });
    if (hasUri && !/^[a-zA-Z][-a-zA-Z0-9+.]*:\S+$/.test(san.uri ?? ''))
      ctx.addIssue({
        code: 'custom',
        path: ['uri'],
        message: 'must be an absolute URI with a scheme, e.g. spiffe://cluster.local/ns/a/sa/b',
      });
  });

const targetRefSchema = z.looseObject({
  group: group(),
  kind: kind(),
  name: objectName(),
  sectionName: sectionName().optional(),
});

export const backendTLSPolicySchema = kubeObject('BackendTLSPolicy', 'dns1123-subdomain', {
  spec: z.looseObject({
    targetRefs: list(targetRefSchema, 1, 16).superRefine((refs, ctx) => {
      const seen = new Set<string>();
      refs.forEach((ref, i) => {
        const key = `${ref.group}/${ref.kind}/${ref.name}#${ref.sectionName ?? ''}`;
        if (seen.has(key))
          ctx.addIssue({
            code: 'custom',
            path: [i],
            message:
              'sectionName must be unique when targetRefs includes 2 or more references to the same target',
          });
        seen.add(key);
      });
    }),
    validation: z
      .looseObject({
        caCertificateRefs: list(localObjectReferenceSchema, 0, 8).optional(),
        wellKnownCACertificates: oneOf(['System']).optional(),
        hostname: preciseHostname(),
        subjectAltNames: list(subjectAltNameSchema, 0, 5).optional(),
      })
      .superRefine((validation, ctx) => {
        const refs = (validation.caCertificateRefs ?? []).length > 0;
        const wellKnown = validation.wellKnownCACertificates !== undefined;
        if (refs && wellKnown)
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: 'must not contain both CACertificateRefs and WellKnownCACertificates',
          });
        if (!refs && !wellKnown)
          ctx.addIssue({
            code: 'custom',
            path: [],
            message: 'must specify either CACertificateRefs or WellKnownCACertificates',
          });
      }),
    options: z.record(z.string(), z.string()).optional(),
  }),
});

export type BackendTLSPolicy = z.output<typeof backendTLSPolicySchema>;
export type BackendTLSPolicyTargetRef = BackendTLSPolicy['spec']['targetRefs'][number];
export type SubjectAltName = NonNullable<
  BackendTLSPolicy['spec']['validation']['subjectAltNames']
>[number];
