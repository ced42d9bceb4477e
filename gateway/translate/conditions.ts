// The Gateway API's condition vocabulary, as data, and small builders so a
// condition is always complete (type, status, reason, message, generation).

import type { Condition } from './gateway-config.ts';

export const ConditionType = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
  PartiallyInvalid: 'PartiallyInvalid',
  SupportedVersion: 'SupportedVersion',
} as const;

export const Reason = {
  // shared
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Invalid: 'Invalid',
  UnsupportedValue: 'UnsupportedValue',
  RefNotPermitted: 'RefNotPermitted',
  // Gateway
  ListenersNotValid: 'ListenersNotValid',
  ListenersNotResolved: 'ListenersNotResolved',
  // Listener
  UnsupportedProtocol: 'UnsupportedProtocol',
  PortUnavailable: 'PortUnavailable',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidRouteKinds: 'InvalidRouteKinds',
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  NoConflicts: 'NoConflicts',
  // Route
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  IncompatibleFilters: 'IncompatibleFilters',
  InvalidKind: 'InvalidKind',
  BackendNotFound: 'BackendNotFound',
  // Policy (BackendTLSPolicy)
  Conflicted: 'Conflicted',
  TargetNotFound: 'TargetNotFound',
  NoValidCACertificate: 'NoValidCACertificate',
  InvalidCACertificateRef: 'InvalidCACertificateRef',
  // Gateway spec.tls.backend
  InvalidClientCertificateRef: 'InvalidClientCertificateRef',
  // Gateway spec.tls.frontend
  InvalidCACertificateKind: 'InvalidCACertificateKind',
} as const;

/**
 * ResolvedRefs from the references that failed: True when none did, else
 * False with the first one's reason and every distinct message.
 */
export function resolvedRefsCondition(
  failures: readonly { reason: string; error: { message: string } }[],
  observedGeneration: number | undefined,
): Condition {
  if (failures.length === 0)
    return condition(
      ConditionType.ResolvedRefs,
      true,
      Reason.ResolvedRefs,
      'All references resolved',
      observedGeneration,
    );
  const messages = [...new Set(failures.map((f) => f.error.message))].join('; ');
  return condition(
    ConditionType.ResolvedRefs,
    false,
    failures[0]!.reason,
    messages,
    observedGeneration,
  );
}

export function condition(
  type: string,
  status: boolean,
  reason: string,
  message: string,
  observedGeneration: number | undefined,
): Condition {
  const c: Condition = { type, status: status ? 'True' : 'False', reason, message };
  if (observedGeneration !== undefined) c.observedGeneration = observedGeneration;
  return c;
}
