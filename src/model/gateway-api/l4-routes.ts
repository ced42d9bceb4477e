// gateway.networking.k8s.io TCPRoute, UDPRoute and TLSRoute: routes with
// backendRefs and no L7 matching (TLSRoute matches on SNI via hostnames).
// Served as v1alpha2 (TLSRoute also v1alpha3 and v1, TCPRoute/UDPRoute also v1).

import { z } from 'zod';
import { list } from '../fields.ts';
import { kubeObject } from '../meta.ts';
import {
  backendRefWithoutFilters,
  checkRuleNames,
  hostnames,
  parentRefs,
  routeStatusSchema,
  sectionName,
} from './shared.ts';

const l4Rule = z.looseObject({
  name: sectionName().optional(),
  backendRefs: list(backendRefWithoutFilters, 1, 16),
});

const l4Spec = z
  .looseObject({
    parentRefs: parentRefs().optional(),
    rules: list(l4Rule, 1, 16),
  })
  .superRefine((spec, ctx) => checkRuleNames(spec.rules, ctx));

const tlsSpec = z
  .looseObject({
    parentRefs: parentRefs().optional(),
    hostnames: hostnames().optional(),
    rules: list(l4Rule, 1, 16),
  })
  .superRefine((spec, ctx) => checkRuleNames(spec.rules, ctx));

export const tcpRouteSchema = kubeObject('TCPRoute', 'dns1123-subdomain', {
  spec: l4Spec,
  status: routeStatusSchema.optional(),
});
export const udpRouteSchema = kubeObject('UDPRoute', 'dns1123-subdomain', {
  spec: l4Spec,
  status: routeStatusSchema.optional(),
});
export const tlsRouteSchema = kubeObject('TLSRoute', 'dns1123-subdomain', {
  spec: tlsSpec,
  status: routeStatusSchema.optional(),
});

export type TCPRoute = z.output<typeof tcpRouteSchema>;
export type UDPRoute = z.output<typeof udpRouteSchema>;
export type TLSRoute = z.output<typeof tlsRouteSchema>;
export type L4RouteRule = z.output<typeof l4Rule>;
