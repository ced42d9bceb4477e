// gateway.networking.k8s.io ReferenceGrant (v1beta1, also v1alpha2 and v1):
// lets objects in other namespaces refer to objects in this one.

import { z } from 'zod';
import { list } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import { group, kind, namespaceName, objectName } from './shared.ts';

export const referenceGrantSchema = kubeObject('ReferenceGrant', 'dns1123-subdomain', {
  spec: z.looseObject({
    from: list(z.looseObject({ group: group(), kind: kind(), namespace: namespaceName() }), 1, 16),
    to: list(z.looseObject({ group: group(), kind: kind(), name: objectName().optional() }), 1, 16),
  }),
});

export type ReferenceGrant = z.output<typeof referenceGrantSchema>;
export type ReferenceGrantFrom = ReferenceGrant['spec']['from'][number];
export type ReferenceGrantTo = ReferenceGrant['spec']['to'][number];
