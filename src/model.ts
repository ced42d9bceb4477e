// The Kubernetes object model: the kinds Pier reads, as zod schemas with the
// API server's (and the CRDs') validation and defaults, and the TypeScript
// types inferred from them, so types and checks cannot drift.
//
// Everything that takes objects in (the manifests source, the Kubernetes
// source, the Store's writers) runs them through validateObject; everything
// downstream (gateway, agent) can then rely on the types and on defaults
// being filled in (a Service port's targetPort, an HTTPRoute rule's matches).
//
// Implementations live in src/model/: fields.ts (formats), meta.ts
// (metadata), core/, gateway-api/, networking/, registry.ts (kind table),
// validate.ts, errors.ts, duration.ts, target-port.ts.

import type { ConfigMap } from './model/core/config-map.ts';
import type { EndpointSlice } from './model/core/endpoint-slice.ts';
import type { Namespace } from './model/core/namespace.ts';
import type { Node } from './model/core/node.ts';
import type { Pod } from './model/core/pod.ts';
import type { Secret } from './model/core/secret.ts';
import type { Service } from './model/core/service.ts';
import type { BackendTLSPolicy } from './model/gateway-api/backend-tls-policy.ts';
import type { Gateway } from './model/gateway-api/gateway.ts';
import type { GatewayClass } from './model/gateway-api/gateway-class.ts';
import type { GRPCRoute } from './model/gateway-api/grpc-route.ts';
import type { HTTPRoute } from './model/gateway-api/http-route.ts';
import type { TCPRoute, TLSRoute, UDPRoute } from './model/gateway-api/l4-routes.ts';
import type { ReferenceGrant } from './model/gateway-api/reference-grant.ts';
import type { Ingress } from './model/networking/ingress.ts';
import type { IngressClass } from './model/networking/ingress-class.ts';
import { type KindKey, Kinds, type KubeObject, kindKeyOf } from './model/object.ts';

export type { ConfigMap } from './model/core/config-map.ts';
export {
  type AddressType,
  type Endpoint,
  type EndpointPort,
  type EndpointSlice,
  isEndpointReady,
  isEndpointServing,
  isEndpointTerminating,
  MANAGED_BY_LABEL,
  SERVICE_NAME_LABEL,
  serviceNameOfSlice,
} from './model/core/endpoint-slice.ts';
export type { Namespace } from './model/core/namespace.ts';
export { type Node, type NodeAddressType, nodeAddress } from './model/core/node.ts';
export { type Pod, type PodPhase, podIPs } from './model/core/pod.ts';
export { type Secret, secretValue, TLS_SECRET_TYPE, tlsKeyPair } from './model/core/secret.ts';
export {
  DEFAULT_CLIENT_IP_TIMEOUT_SECONDS,
  isHeadless,
  type Protocol,
  type Service,
  type ServicePort,
  type ServiceSpec,
  type ServiceType,
  serviceClusterIPs,
  serviceIPFamilyPolicy,
} from './model/core/service.ts';
export { formatDuration, isDuration, parseDuration } from './model/duration.ts';
export {
  ModelError,
  type ModelErrorCode,
  type ModelErrorSubject,
  ModelErrors,
  type ModelIssue,
} from './model/errors.ts';
export {
  isCIDR,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIP,
  isIPv4,
  isIPv6,
} from './model/fields.ts';
export type {
  BackendTLSPolicy,
  BackendTLSPolicyTargetRef,
  SubjectAltName,
} from './model/gateway-api/backend-tls-policy.ts';
export {
  type AllowedRoutes,
  CORE_PROTOCOLS,
  type CoreProtocol,
  type Gateway,
  type GatewayAddress,
  type GatewaySpec,
  type Listener,
  type ListenerTLSConfig,
  type ProtocolType,
} from './model/gateway-api/gateway.ts';
export type { GatewayClass } from './model/gateway-api/gateway-class.ts';
export type {
  GRPCBackendRef,
  GRPCHeaderMatch,
  GRPCMethodMatch,
  GRPCRoute,
  GRPCRouteMatch,
  GRPCRouteRule,
} from './model/gateway-api/grpc-route.ts';
export type {
  GRPCRouteFilter,
  HTTPCORSFilter,
  HTTPHeaderFilter,
  HTTPPathModifier,
  HTTPRequestMirrorFilter,
  HTTPRequestRedirectFilter,
  HTTPRouteFilter,
  HTTPRouteFilterType,
  HTTPURLRewriteFilter,
} from './model/gateway-api/http-filters.ts';
export {
  HTTP_METHODS,
  type HTTPBackendRef,
  type HTTPHeaderMatch,
  type HTTPMethod,
  type HTTPPathMatch,
  type HTTPQueryParamMatch,
  type HTTPRoute,
  type HTTPRouteMatch,
  type HTTPRouteRetry,
  type HTTPRouteRule,
  type HTTPRouteSpec,
  type HTTPRouteTimeouts,
} from './model/gateway-api/http-route.ts';
export type { L4RouteRule, TCPRoute, TLSRoute, UDPRoute } from './model/gateway-api/l4-routes.ts';
export type {
  ReferenceGrant,
  ReferenceGrantFrom,
  ReferenceGrantTo,
} from './model/gateway-api/reference-grant.ts';
export {
  type BackendObjectReference,
  type BackendRef,
  GATEWAY_GROUP,
  type LocalObjectReference,
  type ParentReference,
  type SecretObjectReference,
  type SessionPersistence,
} from './model/gateway-api/shared.ts';
export {
  type Ingress,
  type IngressBackend,
  type IngressPath,
  type IngressPathType,
  type IngressRule,
  ingressClassOf,
} from './model/networking/ingress.ts';
export { type IngressClass, isDefaultIngressClass } from './model/networking/ingress-class.ts';
export * from './model/object.ts';
export {
  isKnownKind,
  isNamespaced,
  KIND_TABLE,
  type KindInfo,
  kindInfoOf,
} from './model/registry.ts';
export { resolveTargetPort } from './model/target-port.ts';
export {
  DEFAULT_NAMESPACE,
  formatPath,
  parseObject,
  type ValidationResult,
  validateObject,
} from './model/validate.ts';

/** The type of each known kind, by KindKey: `ObjectOfKind<typeof Kinds.Service>` is Service. */
export interface KindTypes {
  [Kinds.Service]: Service;
  [Kinds.EndpointSlice]: EndpointSlice;
  [Kinds.Node]: Node;
  [Kinds.Pod]: Pod;
  [Kinds.Namespace]: Namespace;
  [Kinds.Secret]: Secret;
  [Kinds.ConfigMap]: ConfigMap;
  [Kinds.GatewayClass]: GatewayClass;
  [Kinds.Gateway]: Gateway;
  [Kinds.HTTPRoute]: HTTPRoute;
  [Kinds.GRPCRoute]: GRPCRoute;
  [Kinds.ReferenceGrant]: ReferenceGrant;
  [Kinds.TCPRoute]: TCPRoute;
  [Kinds.UDPRoute]: UDPRoute;
  [Kinds.TLSRoute]: TLSRoute;
  [Kinds.BackendTLSPolicy]: BackendTLSPolicy;
  [Kinds.Ingress]: Ingress;
  [Kinds.IngressClass]: IngressClass;
}

export type KnownKindKey = keyof KindTypes;
export type ObjectOfKind<K extends KindKey> = K extends KnownKindKey ? KindTypes[K] : KubeObject;

/**
 * Whether a (validated) object is of a kind: `isKind(o, Kinds.HTTPRoute)`
 * narrows o to HTTPRoute. It reads apiVersion and kind only; the shape is
 * validateObject's guarantee.
 */
export function isKind<K extends KnownKindKey>(
  object: KubeObject,
  key: K,
): object is KubeObject & KindTypes[K] {
  return kindKeyOf(object) === key;
}

export const isService = (o: KubeObject): o is Service => isKind(o, Kinds.Service);
export const isEndpointSlice = (o: KubeObject): o is EndpointSlice =>
  isKind(o, Kinds.EndpointSlice);
export const isNode = (o: KubeObject): o is Node => isKind(o, Kinds.Node);
export const isPod = (o: KubeObject): o is Pod => isKind(o, Kinds.Pod);
export const isNamespace = (o: KubeObject): o is Namespace => isKind(o, Kinds.Namespace);
export const isSecret = (o: KubeObject): o is Secret => isKind(o, Kinds.Secret);
export const isConfigMap = (o: KubeObject): o is ConfigMap => isKind(o, Kinds.ConfigMap);
export const isGatewayClass = (o: KubeObject): o is GatewayClass => isKind(o, Kinds.GatewayClass);
export const isGateway = (o: KubeObject): o is Gateway => isKind(o, Kinds.Gateway);
export const isHTTPRoute = (o: KubeObject): o is HTTPRoute => isKind(o, Kinds.HTTPRoute);
export const isGRPCRoute = (o: KubeObject): o is GRPCRoute => isKind(o, Kinds.GRPCRoute);
export const isReferenceGrant = (o: KubeObject): o is ReferenceGrant =>
  isKind(o, Kinds.ReferenceGrant);
export const isTCPRoute = (o: KubeObject): o is TCPRoute => isKind(o, Kinds.TCPRoute);
export const isUDPRoute = (o: KubeObject): o is UDPRoute => isKind(o, Kinds.UDPRoute);
export const isTLSRoute = (o: KubeObject): o is TLSRoute => isKind(o, Kinds.TLSRoute);
export const isBackendTLSPolicy = (o: KubeObject): o is BackendTLSPolicy =>
  isKind(o, Kinds.BackendTLSPolicy);
export const isIngress = (o: KubeObject): o is Ingress => isKind(o, Kinds.Ingress);
export const isIngressClass = (o: KubeObject): o is IngressClass => isKind(o, Kinds.IngressClass);
