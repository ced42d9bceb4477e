// metadata as the API server validates it, and the envelope every kind shares.
//
// Name rules differ by kind (a Service name must work as a DNS label, most
// names are DNS subdomains), so the metadata schema is built per kind. The
// namespace is checked here as a DNS label; whether a kind may or must carry
// one is the registry's business (src/model/registry.ts).

import { z } from 'zod';
import { annotations, dns1035Label, dns1123Label, dns1123Subdomain, labels } from './fields.ts';

/** How a kind's metadata.name is checked. */
export type NameRule = 'dns1123-subdomain' | 'dns1123-label' | 'dns1035-label';

function nameSchema(rule: NameRule) {
  switch (rule) {
    case 'dns1123-label':
      return dns1123Label();
    case 'dns1035-label':
      return dns1035Label();
    case 'dns1123-subdomain':
      return dns1123Subdomain();
  }
}

const ownerReference = z.looseObject({
  apiVersion: z.string(),
  kind: z.string(),
  name: z.string(),
  uid: z.string(),
  controller: z.boolean().optional(),
  blockOwnerDeletion: z.boolean().optional(),
});

export function objectMeta(rule: NameRule) {
  return z.looseObject({
    name: nameSchema(rule),
    namespace: dns1123Label().optional(),
    labels: labels().optional(),
    annotations: annotations().optional(),
    resourceVersion: z.string().optional(),
    uid: z.string().optional(),
    generation: z.number().int().optional(),
    creationTimestamp: z.string().optional(),
    deletionTimestamp: z.string().optional(),
    ownerReferences: z.array(ownerReference).optional(),
    finalizers: z.array(z.string()).optional(),
  });
}

export type ObjectMetaOutput = z.output<ReturnType<typeof objectMeta>>;

/**
 * The envelope of a kind: apiVersion, kind, metadata, plus its own fields
 * (spec, status, data...). The registry checks apiVersion against the versions
 * it serves before this schema runs.
 */
export function kubeObject<const K extends string, S extends z.ZodRawShape>(
  kind: K,
  rule: NameRule,
  shape: S,
) {
  return z.looseObject({
    apiVersion: z.string(),
    kind: z.literal(kind),
    metadata: objectMeta(rule),
    ...shape,
  });
}
