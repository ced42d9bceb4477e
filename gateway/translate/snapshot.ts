// The objects translation reads, sorted by kind and indexed by name. Objects
// are expected to have passed validateObject (src/model.ts), so defaults are
// filled in; objects of other kinds are ignored.

import {
  type BackendTLSPolicy,
  type ConfigMap,
  type Gateway,
  type GatewayClass,
  type GRPCRoute,
  type HTTPRoute,
  type Ingress,
  type IngressClass,
  isBackendTLSPolicy,
  isConfigMap,
  isGateway,
  isGatewayClass,
  isGRPCRoute,
  isHTTPRoute,
  isIngress,
  isIngressClass,
  isNamespace,
  isReferenceGrant,
  isSecret,
  isService,
  type KubeObject,
  type Namespace,
  type ReferenceGrant,
  type Secret,
  type Service,
} from '../../src/model.ts';

export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  httpRoutes: HTTPRoute[];
  grpcRoutes: GRPCRoute[];
  referenceGrants: ReferenceGrant[];
  backendTLSPolicies: BackendTLSPolicy[];
  ingresses: Ingress[];
  ingressClasses: IngressClass[];
  /** By `namespace/name`. */
  services: Map<string, Service>;
  secrets: Map<string, Secret>;
  /** By `namespace/name`. */
  configMaps: Map<string, ConfigMap>;
  /** By name. */
  namespaces: Map<string, Namespace>;
}

export function namespaceOf(object: KubeObject): string {
  return object.metadata.namespace ?? 'default';
}

export function keyOf(object: KubeObject): string {
  return `${namespaceOf(object)}/${object.metadata.name}`;
}

/** creationTimestamp in ms, or undefined when absent or unreadable. */
export function createdAtOf(object: KubeObject): number | undefined {
  const ts = object.metadata.creationTimestamp;
  if (ts === undefined) return undefined;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Oldest first (unknown age last), then `namespace/name`: the spec's tie-break between routes. */
export function compareAge(a: KubeObject, b: KubeObject): number {
  const ta = createdAtOf(a) ?? Number.POSITIVE_INFINITY;
  const tb = createdAtOf(b) ?? Number.POSITIVE_INFINITY;
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka === kb ? 0 : ka < kb ? -1 : 1;
}

export function createSnapshot(objects: Iterable<KubeObject>): Snapshot {
  const snapshot: Snapshot = {
    gatewayClasses: [],
    gateways: [],
    httpRoutes: [],
    grpcRoutes: [],
    referenceGrants: [],
    backendTLSPolicies: [],
    ingresses: [],
    ingressClasses: [],
    services: new Map(),
    secrets: new Map(),
    configMaps: new Map(),
    namespaces: new Map(),
  };
  for (const object of objects) {
    // Objects come validated; anything without even a name is not one.
    if (typeof object !== 'object' || object === null || typeof object.metadata?.name !== 'string')
      continue;
    if (isGatewayClass(object)) snapshot.gatewayClasses.push(object);
    else if (isGateway(object)) snapshot.gateways.push(object);
    else if (isHTTPRoute(object)) snapshot.httpRoutes.push(object);
    else if (isGRPCRoute(object)) snapshot.grpcRoutes.push(object);
    else if (isReferenceGrant(object)) snapshot.referenceGrants.push(object);
    else if (isBackendTLSPolicy(object)) snapshot.backendTLSPolicies.push(object);
    else if (isIngress(object)) snapshot.ingresses.push(object);
    else if (isIngressClass(object)) snapshot.ingressClasses.push(object);
    else if (isService(object)) snapshot.services.set(keyOf(object), object);
    else if (isSecret(object)) snapshot.secrets.set(keyOf(object), object);
    else if (isConfigMap(object)) snapshot.configMaps.set(keyOf(object), object);
    else if (isNamespace(object)) snapshot.namespaces.set(object.metadata.name, object);
  }
  // Deterministic output whatever order the Store listed objects in.
  for (const list of [
    snapshot.gateways,
    snapshot.httpRoutes,
    snapshot.grpcRoutes,
    snapshot.ingresses,
    snapshot.backendTLSPolicies,
  ]) {
    (list as KubeObject[]).sort(compareAge);
  }
  snapshot.gatewayClasses.sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  return snapshot;
}
