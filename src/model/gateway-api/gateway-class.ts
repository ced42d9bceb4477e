// gateway.networking.k8s.io GatewayClass (cluster-scoped; v1, also v1beta1):
// which controller implements Gateways of this class.

import { z } from 'zod';
import { text } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import { group, kind, namespaceName, objectName } from './shared.ts';

const CONTROLLER_NAME =
  /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/;

export const controllerName = () =>
  text(1, 253).refine((v) => CONTROLLER_NAME.test(v), {
    error: 'must be a domain-prefixed path, e.g. pier.dev/gateway-controller',
  });

export const gatewayClassSchema = kubeObject('GatewayClass', 'dns1123-subdomain', {
  spec: z.looseObject({
    controllerName: controllerName(),
    parametersRef: z
      .looseObject({
        group: group(),
        kind: kind(),
        name: objectName(),
        namespace: namespaceName().optional(),
      })
      .optional(),
    description: text(0, 64).optional(),
  }),
  status: z.looseObject({}).optional(),
});

export type GatewayClass = z.output<typeof gatewayClassSchema>;
