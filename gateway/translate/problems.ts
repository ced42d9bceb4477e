// Every way translation can find an object not as its author meant it, with
// a stable code (PIER_GW_TRANSLATE_<KEY>) and a message saying what to do
// (convention 9). Translation never throws on bad objects: these become
// condition messages and GatewayConfig.problems.

import { errorTable, type PierError } from '../../src/errors.ts';
import type { Problem } from './gateway-config.ts';

export const TranslateProblems = errorTable('GW_TRANSLATE', {
  OBJECT_MALFORMED: (what: string, reason: string) =>
    `${what} cannot be read (${reason}); it did not pass validation: apply it again through the API server or the manifests source`,
  LISTENER_UNSUPPORTED_PROTOCOL: (protocol: string) =>
    `protocol ${protocol} is not served by Pier's HTTP router; use HTTP or HTTPS`,
  LISTENER_PROTOCOL_CONFLICT: (port: number, others: string) =>
    `port ${port} is also used with another protocol by ${others}; give each protocol its own port`,
  LISTENER_HOSTNAME_CONFLICT: (port: number, hostname: string, others: string) =>
    `port ${port} with hostname ${hostname || '(none)'} is also claimed by ${others}; give each listener a distinct hostname or port`,
  LISTENER_TLS_MISSING: () =>
    'an HTTPS listener needs tls.certificateRefs naming a kubernetes.io/tls Secret',
  LISTENER_TLS_MODE: (mode: string) =>
    `tls.mode ${mode} is not supported on HTTPS listeners; use Terminate`,
  CERTIFICATE_INVALID_KIND: (group: string, kind: string) =>
    `certificateRef of kind ${group === '' ? kind : `${group}/${kind}`} is not supported; refer to a core Secret`,
  CERTIFICATE_NOT_PERMITTED: (ref: string, from: string) =>
    `certificateRef to Secret ${ref} from namespace ${from} is not allowed: add a ReferenceGrant in the Secret's namespace from Gateways in ${from} to Secrets`,
  CERTIFICATE_NOT_FOUND: (ref: string) =>
    `Secret ${ref} does not exist; create it (type kubernetes.io/tls) or fix the certificateRef`,
  CERTIFICATE_NOT_TLS: (ref: string, type: string) =>
    `Secret ${ref} has type ${type}; a certificate Secret must be of type kubernetes.io/tls with tls.crt and tls.key`,
  LISTENER_INVALID_ROUTE_KINDS: (kinds: string) =>
    `allowedRoutes.kinds names ${kinds}, which this listener cannot serve; use HTTPRoute or GRPCRoute (group gateway.networking.k8s.io)`,
  LISTENER_NO_ROUTE_KINDS: () =>
    'no route kind in allowedRoutes.kinds can attach to this listener; routes are not served',
  LISTENER_NO_VALID_CA: (why: string) =>
    `no caCertificateRef of the Gateway's spec.tls.frontend validation for this port can be used (${why}); the listener is not served`,
  LISTENER_NO_CERTIFICATE: () =>
    'no certificateRef of this HTTPS listener could be used; the listener is not served',
  GATEWAY_NO_LISTENERS: () =>
    "none of the Gateway's listeners can be served; see the listeners' conditions",
  ROUTE_NO_MATCHING_PARENT: (parent: string) =>
    `${parent} has no listener with this sectionName/port; fix the parentRef or the Gateway's listeners`,
  ROUTE_NOT_ALLOWED: (parent: string) =>
    `no listener of ${parent} allows this route (allowedRoutes namespaces or kinds); ask the Gateway's owner to allow it`,
  ROUTE_NO_MATCHING_HOSTNAME: (parent: string) =>
    `none of the route's hostnames intersects the hostname of a listener of ${parent}; fix spec.hostnames`,
  ROUTE_HOSTNAME_CONFLICT: (other: string, listener: string) =>
    `${other} was there first with intersecting hostnames on listener ${listener}; an HTTPRoute and a GRPCRoute may not share a hostname on one listener`,
  ROUTE_NO_VALID_RULES: (reasons: string) => `no rule of this route can be served: ${reasons}`,
  RULES_DROPPED: (reasons: string) => `Dropped Rule(s): ${reasons}`,
  RULE_UNSUPPORTED_VALUE: (rule: string, what: string) =>
    `rule ${rule}: ${what} is not supported by Pier`,
  RULE_INVALID: (rule: string, what: string) => `rule ${rule}: ${what}`,
  RULE_INCOMPATIBLE_FILTERS: (rule: string, what: string) => `rule ${rule}: ${what}`,
  FILTER_EXTENSION_UNKNOWN: (rule: string, ref: string) =>
    `rule ${rule}: ExtensionRef ${ref} is not a filter Pier knows; its requests get 500 until it is removed`,
  BACKEND_INVALID_KIND: (ref: string) =>
    `backendRef to ${ref}: only core Services are supported as backends`,
  BACKEND_NOT_PERMITTED: (ref: string, from: string) =>
    `backendRef to Service ${ref} from namespace ${from} is not allowed: add a ReferenceGrant in the Service's namespace from this route kind in ${from} to Services`,
  BACKEND_NOT_FOUND: (ref: string) => `backendRef to Service ${ref}: the Service does not exist`,
  BACKEND_PORT_MISSING: (ref: string) =>
    `backendRef to Service ${ref} has no port; set backendRef.port`,
  BACKEND_PORT_NOT_FOUND: (ref: string, port: string) =>
    `backendRef to Service ${ref}: the Service has no port ${port}`,
  INGRESS_RESOURCE_BACKEND: (where: string, ref: string) =>
    `${where}: resource backend ${ref} is not supported; use a Service backend (its requests get 500)`,
  INGRESS_TLS_SECRET_MISSING: (hosts: string) =>
    `spec.tls for ${hosts} names no secretName; those hosts are not served on the HTTPS port`,
  INGRESS_TLS_SECRET_INVALID: (secret: string, why: string) =>
    `spec.tls Secret ${secret}: ${why}; its hosts are not served on the HTTPS port`,
  INGRESS_HOST_CONFLICT: (host: string, port: number, listener: string) =>
    `host ${host || '(any)'} on port ${port} is already served by ${listener}; Gateway listeners take precedence over Ingresses`,
  INGRESS_PORT_CONFLICT: (port: number, listener: string) =>
    `port ${port} is served with another protocol by ${listener}; set the Ingress ports apart`,
  BACKEND_TLS_TARGET_KIND: (ref: string) =>
    `targetRef ${ref} is not a Service; BackendTLSPolicy applies to core Services only`,
  BACKEND_TLS_TARGET_NOT_FOUND: (ref: string) =>
    `targetRef ${ref} does not exist in the policy's namespace`,
  BACKEND_TLS_CONFLICTED: (target: string, winner: string) =>
    `${target} already has BackendTLSPolicy ${winner}, which is older (or first by name); this one is not applied`,
  CA_KIND: (ref: string) =>
    `caCertificateRef ${ref} is not a ConfigMap; only core ConfigMaps hold CA certificates here`,
  CA_NOT_PERMITTED: (ref: string, from: string) =>
    `caCertificateRef to ConfigMap ${ref} from namespace ${from} is not allowed: add a ReferenceGrant in the ConfigMap's namespace from Gateways in ${from} to ConfigMaps`,
  CA_NOT_FOUND: (ref: string) => `caCertificateRef ConfigMap ${ref} does not exist`,
  CA_NO_KEY: (ref: string) =>
    `caCertificateRef ConfigMap ${ref} has no key ca.crt; put the PEM CA bundle under data.ca.crt`,
  CA_INVALID: (ref: string, why: string) =>
    `caCertificateRef ConfigMap ${ref}: ca.crt is not a PEM certificate bundle (${why})`,
  CLIENT_CERTIFICATE_UNUSABLE: (ref: string, why: string) =>
    `spec.tls.backend.clientCertificateRef Secret ${ref} does not hold a usable certificate and key (${why}); backends get no client certificate from this Gateway`,
  BACKEND_TLS_NO_VALID_CA: (policy: string, why: string) =>
    `BackendTLSPolicy ${policy} has no valid CA certificate (${why}); requests to its Services get 500 until one is fixed`,
});

/** A problem line from a table entry: `problem('HTTPRoute a/b', 'RefNotPermitted', TranslateProblems.X(...))`. */
export function problem(object: string, reason: string, error: PierError): Problem {
  return { object, code: error.code, reason, message: error.message };
}
