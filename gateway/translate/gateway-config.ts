// What translate() produces: the gateway's whole L7 configuration for one
// snapshot of the Store, and the status every object it read should carry.
//
// GatewayConfig.ports is what the listeners and the glue serve: per port its
// protocol, the listeners (hostname, certificates) and the compiled route
// table. GatewayConfig.status is what a status writer puts on GatewayClasses,
// Gateways, routes (conditions in the Gateway API's vocabulary) and what a log
// shows for Ingresses (which have no conditions). `problems` is the same,
// flattened: one line per thing that is not as its author meant it.

import type { ParentReference } from '../../src/model.ts';
import type { ListenerIdentity, RouteTable, RouteTableSpec } from '../router.ts';
import type { BackendTls } from './backend-tls.ts';
import type { ClientCertificate } from './client-certificates.ts';

export interface TranslateOptions {
  /** GatewayClasses with this spec.controllerName are Pier's; their Gateways are served. */
  controllerName: string;
  ingress: IngressOptions;
}

export interface IngressOptions {
  /** Translate networking.k8s.io/v1 Ingresses at all. */
  enabled: boolean;
  /** Ingress class names Pier serves (spec.ingressClassName or the legacy annotation). */
  classNames: readonly string[];
  /** IngressClasses with this spec.controller are Pier's too (and may be the default class). */
  controllerName: string;
  httpPort: number;
  /** Where Ingress TLS hosts are served. */
  httpsPort: number;
}

export const DEFAULT_TRANSLATE_OPTIONS: TranslateOptions = {
  controllerName: 'pier.dev/gateway',
  ingress: {
    enabled: true,
    classNames: ['pier'],
    controllerName: 'pier.dev/ingress',
    httpPort: 80,
    httpsPort: 443,
  },
};

// --- serving ------------------------------------------------------------------

export interface SecretRef {
  namespace: string;
  name: string;
}

/** Client certificate validation on an HTTPS listener (Gateway spec.tls.frontend). */
export interface ClientValidation {
  /** PEM CA bundles client certificates must chain to. */
  ca: string[];
  /** AllowValidOnly: a connection without a valid certificate is closed; AllowInsecureFallback: it is served. */
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
}

export interface ListenerConfig {
  identity: ListenerIdentity;
  source: 'Gateway' | 'Ingress';
  /** Absent: every host not claimed by another listener of the port. */
  hostname?: string;
  /** HTTPS: the certificates for this hostname, resolved and permitted (kubernetes.io/tls Secrets). */
  certificates: readonly SecretRef[];
  /** HTTPS: the client certificates it asks for and checks (Gateway spec.tls.frontend). */
  clientValidation?: ClientValidation;
}

export interface PortConfig {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  /** The listeners served on this port: accepted, not conflicted, certificates resolved. */
  listeners: readonly ListenerConfig[];
  /** Compiled from `spec`; lookup() is the hot path. */
  table: RouteTable;
  spec: RouteTableSpec;
}

export interface GatewayConfig {
  /** Sorted by port. */
  ports: readonly PortConfig[];
  /** TLS to backends (BackendTLSPolicy), per Service port: the upstreams read it (backendTlsOf). */
  backendTls: BackendTls;
  /** The client certificate each Gateway (`namespace/name`) presents to TLS backends, when it names a usable one. */
  backendClientCertificates: ReadonlyMap<string, ClientCertificate>;
  status: StatusReport;
  problems: readonly Problem[];
}

// --- status -------------------------------------------------------------------

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  /** metadata.generation of the object the condition describes. */
  observedGeneration?: number;
}

export interface GatewayClassStatus {
  name: string;
  conditions: Condition[];
}

export interface RouteGroupKind {
  group: string;
  kind: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  namespace: string;
  name: string;
  conditions: Condition[];
  listeners: ListenerStatus[];
}

export interface RouteParentStatus {
  parentRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface RouteStatus {
  kind: 'HTTPRoute' | 'GRPCRoute';
  namespace: string;
  name: string;
  parents: RouteParentStatus[];
}

export interface PolicyAncestorStatus {
  /** A Gateway of Pier's that routes to a Service the policy targets. */
  ancestorRef: ParentReference;
  controllerName: string;
  conditions: Condition[];
}

export interface BackendTLSPolicyStatus {
  namespace: string;
  name: string;
  ancestors: PolicyAncestorStatus[];
}

export interface IngressStatus {
  namespace: string;
  name: string;
  /** Served at all (its class is Pier's). */
  served: boolean;
  problems: Problem[];
}

export interface StatusReport {
  gatewayClasses: GatewayClassStatus[];
  gateways: GatewayStatus[];
  routes: RouteStatus[];
  ingresses: IngressStatus[];
  backendTLSPolicies: BackendTLSPolicyStatus[];
}

export interface Problem {
  /** `HTTPRoute default/web`, `Gateway infra/edge listener https`. */
  object: string;
  /** Stable: PIER_GW_TRANSLATE_<WHAT>. */
  code: string;
  /** The Gateway API reason it shows up under, when it has one (RefNotPermitted...). */
  reason: string;
  message: string;
}
