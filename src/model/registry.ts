// Which kinds Pier knows, at which apiVersions, namespaced or not, and the
// schema each is checked against: fixed structure as data (convention 8).
// To teach Pier a kind, add a row here and its schema beside the others.

import type { z } from 'zod';
import { configMapSchema } from './core/config-map.ts';
import { endpointSliceSchema } from './core/endpoint-slice.ts';
import { namespaceSchema } from './core/namespace.ts';
import { nodeSchema } from './core/node.ts';
import { podSchema } from './core/pod.ts';
import { secretSchema } from './core/secret.ts';
import { serviceSchema } from './core/service.ts';
import { backendTLSPolicySchema } from './gateway-api/backend-tls-policy.ts';
import { gatewaySchema } from './gateway-api/gateway.ts';
import { gatewayClassSchema } from './gateway-api/gateway-class.ts';
import { grpcRouteSchema } from './gateway-api/grpc-route.ts';
import { httpRouteSchema } from './gateway-api/http-route.ts';
import { tcpRouteSchema, tlsRouteSchema, udpRouteSchema } from './gateway-api/l4-routes.ts';
import { referenceGrantSchema } from './gateway-api/reference-grant.ts';
import { ingressSchema } from './networking/ingress.ts';
import { ingressClassSchema } from './networking/ingress-class.ts';
import { apiGroup, type KindKey, Kinds } from './object.ts';
import { LEASE_API_VERSION, leaseSchema } from './pier/lease.ts';

export interface KindInfo {
  key: KindKey;
  /** The kind as written in manifests: `HTTPRoute`. */
  kind: string;
  /** The API group, `` for core. */
  group: string;
  /** Every apiVersion served for the kind, preferred first. */
  versions: readonly string[];
  namespaced: boolean;
  schema: z.ZodType;
}

function kindInfo(
  key: KindKey,
  versions: readonly string[],
  namespaced: boolean,
  schema: z.ZodType,
): KindInfo {
  const slash = key.lastIndexOf('/');
  const kind = slash === -1 ? key : key.slice(slash + 1);
  const first = versions[0] ?? '';
  return { key, kind, group: apiGroup(first), versions, namespaced, schema };
}

const GW = 'gateway.networking.k8s.io';

export const KIND_TABLE: readonly KindInfo[] = [
  kindInfo(Kinds.Service, ['v1'], true, serviceSchema),
  kindInfo(Kinds.EndpointSlice, ['discovery.k8s.io/v1'], true, endpointSliceSchema),
  kindInfo(Kinds.Node, ['v1'], false, nodeSchema),
  kindInfo(Kinds.Pod, ['v1'], true, podSchema),
  kindInfo(Kinds.Namespace, ['v1'], false, namespaceSchema),
  kindInfo(Kinds.Secret, ['v1'], true, secretSchema),
  kindInfo(Kinds.ConfigMap, ['v1'], true, configMapSchema),
  kindInfo(Kinds.GatewayClass, [`${GW}/v1`, `${GW}/v1beta1`], false, gatewayClassSchema),
  kindInfo(Kinds.Gateway, [`${GW}/v1`, `${GW}/v1beta1`], true, gatewaySchema),
  kindInfo(Kinds.HTTPRoute, [`${GW}/v1`, `${GW}/v1beta1`], true, httpRouteSchema),
  kindInfo(Kinds.GRPCRoute, [`${GW}/v1`, `${GW}/v1alpha2`], true, grpcRouteSchema),
  kindInfo(
    Kinds.ReferenceGrant,
    [`${GW}/v1beta1`, `${GW}/v1alpha2`, `${GW}/v1`],
    true,
    referenceGrantSchema,
  ),
  kindInfo(Kinds.TCPRoute, [`${GW}/v1alpha2`, `${GW}/v1`], true, tcpRouteSchema),
  kindInfo(Kinds.UDPRoute, [`${GW}/v1alpha2`, `${GW}/v1`], true, udpRouteSchema),
  kindInfo(Kinds.TLSRoute, [`${GW}/v1alpha2`, `${GW}/v1alpha3`, `${GW}/v1`], true, tlsRouteSchema),
  kindInfo(Kinds.BackendTLSPolicy, [`${GW}/v1`, `${GW}/v1alpha3`], true, backendTLSPolicySchema),
  kindInfo(Kinds.Ingress, ['networking.k8s.io/v1'], true, ingressSchema),
  kindInfo(Kinds.IngressClass, ['networking.k8s.io/v1'], false, ingressClassSchema),
  kindInfo(Kinds.Lease, [LEASE_API_VERSION], false, leaseSchema),
];

const BY_KEY: ReadonlyMap<KindKey, KindInfo> = new Map(KIND_TABLE.map((k) => [k.key, k]));

export function kindInfoOf(key: KindKey): KindInfo | undefined {
  return BY_KEY.get(key);
}

/** Whether Pier has a schema for this kind (`Service`, `gateway.networking.k8s.io/HTTPRoute`). */
export function isKnownKind(key: KindKey): boolean {
  return BY_KEY.has(key);
}

/**
 * Whether objects of this kind live in a namespace. Cluster-scoped: Node,
 * Namespace, GatewayClass, IngressClass. Unknown kinds count as namespaced,
 * as most kinds are.
 */
export function isNamespaced(key: KindKey): boolean {
  return BY_KEY.get(key)?.namespaced ?? true;
}
