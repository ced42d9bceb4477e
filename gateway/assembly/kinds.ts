// The kinds the gateway reads from the Store (its informer watches these).
// EndpointSlices only feed the upstreams; every other kind feeds translate().

import { type KindKey, Kinds } from '../../src/model/object.ts';

export const GATEWAY_KINDS: readonly KindKey[] = [
  Kinds.GatewayClass,
  Kinds.Gateway,
  Kinds.HTTPRoute,
  Kinds.GRPCRoute,
  Kinds.ReferenceGrant,
  Kinds.BackendTLSPolicy,
  Kinds.Ingress,
  Kinds.IngressClass,
  Kinds.Service,
  Kinds.EndpointSlice,
  Kinds.Secret,
  Kinds.ConfigMap,
  Kinds.Namespace,
];

/** What translate() reads: everything the gateway watches but EndpointSlices. */
export const CONFIG_KINDS: readonly KindKey[] = GATEWAY_KINDS.filter(
  (k) => k !== Kinds.EndpointSlice,
);
