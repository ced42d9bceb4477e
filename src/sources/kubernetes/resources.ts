// The API resources the Kubernetes source reads: for each kind Pier uses,
// where the API server serves it. Fixed structure as data (convention 8).
//
// Versions are in the order the source tries them, newest first: a cluster
// with an older Gateway API release serves only some of them, and a 404 on
// one makes the source try the next (every version listed here is one the
// model accepts, src/model/registry.ts; a unit test checks).

import { type KindKey, Kinds } from '../../model/object.ts';
import { TLS_SECRET_TYPE } from '../../model.ts';

export interface ApiResource {
  kind: KindKey;
  /** As in manifests and watch events: `HTTPRoute`. */
  kindName: string;
  /** `` for the core group. */
  group: string;
  versions: readonly string[];
  /** The resource's path segment: `httproutes`. */
  plural: string;
  namespaced: boolean;
  /** Always part of the request: Pier reads only TLS Secrets. */
  fieldSelector?: string;
  /**
   * The only data keys kept (data and binaryData): Pier reads only CA
   * bundles from ConfigMaps, and a cluster's other ConfigMaps (dashboards,
   * app configs) would fill the Store for nothing.
   */
  dataKeys?: readonly string[];
}

function resource(
  kind: KindKey,
  versions: readonly string[],
  plural: string,
  namespaced: boolean,
  filters: { fieldSelector?: string; dataKeys?: readonly string[] } = {},
): ApiResource {
  const slash = kind.lastIndexOf('/');
  return {
    kind,
    kindName: slash === -1 ? kind : kind.slice(slash + 1),
    group: slash === -1 ? '' : kind.slice(0, slash),
    versions,
    plural,
    namespaced,
    ...filters,
  };
}

export const API_RESOURCES: readonly ApiResource[] = [
  resource(Kinds.Namespace, ['v1'], 'namespaces', false),
  resource(Kinds.Node, ['v1'], 'nodes', false),
  resource(Kinds.Service, ['v1'], 'services', true),
  resource(Kinds.EndpointSlice, ['v1'], 'endpointslices', true),
  resource(Kinds.Pod, ['v1'], 'pods', true),
  resource(Kinds.Secret, ['v1'], 'secrets', true, { fieldSelector: `type=${TLS_SECRET_TYPE}` }),
  resource(Kinds.ConfigMap, ['v1'], 'configmaps', true, { dataKeys: ['ca.crt'] }),
  resource(Kinds.GatewayClass, ['v1', 'v1beta1'], 'gatewayclasses', false),
  resource(Kinds.Gateway, ['v1', 'v1beta1'], 'gateways', true),
  resource(Kinds.HTTPRoute, ['v1', 'v1beta1'], 'httproutes', true),
  resource(Kinds.GRPCRoute, ['v1', 'v1alpha2'], 'grpcroutes', true),
  resource(Kinds.ReferenceGrant, ['v1', 'v1beta1', 'v1alpha2'], 'referencegrants', true),
  resource(Kinds.TCPRoute, ['v1', 'v1alpha2'], 'tcproutes', true),
  resource(Kinds.UDPRoute, ['v1', 'v1alpha2'], 'udproutes', true),
  resource(Kinds.TLSRoute, ['v1', 'v1alpha3', 'v1alpha2'], 'tlsroutes', true),
  resource(Kinds.BackendTLSPolicy, ['v1', 'v1alpha3'], 'backendtlspolicies', true),
  resource(Kinds.IngressClass, ['v1'], 'ingressclasses', false),
  resource(Kinds.Ingress, ['v1'], 'ingresses', true),
];

/** Every kind the source can read, in the order it starts them. */
export const SOURCE_KINDS: readonly KindKey[] = API_RESOURCES.map((r) => r.kind);

const BY_KIND: ReadonlyMap<KindKey, ApiResource> = new Map(API_RESOURCES.map((r) => [r.kind, r]));

export function apiResourceOf(kind: KindKey): ApiResource | undefined {
  return BY_KIND.get(kind);
}

/** `v1` for core, `gateway.networking.k8s.io/v1` otherwise. */
export function apiVersionOf(resource: ApiResource, version: string): string {
  return resource.group === '' ? version : `${resource.group}/${version}`;
}

/** The collection's path: `/api/v1/namespaces/default/services`, `/apis/<group>/<version>/httproutes`. */
export function collectionPath(resource: ApiResource, version: string, namespace?: string): string {
  const base = resource.group === '' ? `/api/${version}` : `/apis/${resource.group}/${version}`;
  const scope =
    resource.namespaced && namespace !== undefined
      ? `/namespaces/${encodeURIComponent(namespace)}`
      : '';
  return `${base}${scope}/${resource.plural}`;
}
