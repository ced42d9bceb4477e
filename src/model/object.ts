// The shape every Kubernetes object shares, and how Pier names one.
//
// Objects are stored as the API server serves them (apiVersion, kind,
// metadata, spec, status), so a manifest from a Kubernetes project loads as
// it is. Pier keys a kind by API group and kind, not by version: TCPRoute
// v1alpha2 and a later v1 of it are the same objects to the Store.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Set by the Store on every write: the Store revision of that write, as a decimal string. */
  resourceVersion?: string;
  uid?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  ownerReferences?: OwnerReference[];
}

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
}

/** `group/Kind`, or plain `Kind` for the core group: `Service`, `discovery.k8s.io/EndpointSlice`. */
export type KindKey = string;

export interface ObjectRef {
  kind: KindKey;
  namespace?: string;
  name: string;
}

/** The API group of an apiVersion: `gateway.networking.k8s.io/v1` -> `gateway.networking.k8s.io`, `v1` -> ``. */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

export function kindKey(apiVersion: string, kind: string): KindKey {
  const group = apiGroup(apiVersion);
  return group === '' ? kind : `${group}/${kind}`;
}

export function kindKeyOf(object: KubeObject): KindKey {
  return kindKey(object.apiVersion, object.kind);
}

export function refOf(object: KubeObject): ObjectRef {
  const { name, namespace } = object.metadata;
  return namespace === undefined
    ? { kind: kindKeyOf(object), name }
    : { kind: kindKeyOf(object), namespace, name };
}

/** `kind namespace/name` (or `kind name` when cluster-scoped): how logs and errors name an object. */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace === undefined
    ? `${ref.kind} ${ref.name}`
    : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** The object's revision from metadata.resourceVersion, or undefined when it was never stored. */
export function revisionOf(object: KubeObject): number | undefined {
  const rv = object.metadata.resourceVersion;
  if (rv === undefined || rv === '') return undefined;
  const n = Number(rv);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** Well-known kinds, so code never spells a group twice. */
export const Kinds = {
  Service: 'Service',
  Node: 'Node',
  Secret: 'Secret',
  ConfigMap: 'ConfigMap',
  Namespace: 'Namespace',
  Pod: 'Pod',
  EndpointSlice: 'discovery.k8s.io/EndpointSlice',
  Ingress: 'networking.k8s.io/Ingress',
  IngressClass: 'networking.k8s.io/IngressClass',
  GatewayClass: 'gateway.networking.k8s.io/GatewayClass',
  Gateway: 'gateway.networking.k8s.io/Gateway',
  HTTPRoute: 'gateway.networking.k8s.io/HTTPRoute',
  GRPCRoute: 'gateway.networking.k8s.io/GRPCRoute',
  ReferenceGrant: 'gateway.networking.k8s.io/ReferenceGrant',
  TCPRoute: 'gateway.networking.k8s.io/TCPRoute',
  UDPRoute: 'gateway.networking.k8s.io/UDPRoute',
  TLSRoute: 'gateway.networking.k8s.io/TLSRoute',
  BackendTLSPolicy: 'gateway.networking.k8s.io/BackendTLSPolicy',
  /** Pier's own: a node's pod-subnet lease (agent IPAM). */
  SubnetLease: 'pier.dev/SubnetLease',
  /** Pier's own: who holds a role among processes sharing a Store (leader election). */
  Lease: 'pier.dev/Lease',
} as const satisfies Record<string, KindKey>;
