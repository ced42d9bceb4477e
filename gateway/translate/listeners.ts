// Listeners of Pier's Gateways: which can be served, with which certificates,
// and which routes each lets attach.
//
// Conflicts are judged across every Pier Gateway, because they all share one
// data plane (the spec lets an implementation merge Gateways when their
// listeners are distinct): on one port, listeners of different protocols are
// all ProtocolConflict; listeners of one protocol sharing a hostname are all
// HostnameConflict. No conflicted listener wins: the spec says none may be
// picked as the winner.

import { type Gateway, type Listener, type Secret, tlsKeyPair } from '../../src/model.ts';
import type { ListenerIdentity } from '../router.ts';
import type { RefFailure } from './backends.ts';
import { resolveCaRefs } from './ca-bundles.ts';
import { ConditionType, condition, Reason, resolvedRefsCondition } from './conditions.ts';
import type { ClientValidation, Condition, RouteGroupKind, SecretRef } from './gateway-config.ts';
import { TranslateProblems } from './problems.ts';
import type { GrantIndex } from './reference-grants.ts';
import { selectorMatches } from './selector.ts';
import { keyOf, namespaceOf, type Snapshot } from './snapshot.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';
const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'] as const;
export type RouteKindName = (typeof ROUTE_KINDS)[number];

export interface ListenerState {
  gateway: Gateway;
  /** `namespace/name` of the Gateway. */
  gatewayKey: string;
  listener: Listener;
  identity: ListenerIdentity;
  /** HTTP or HTTPS (upper case); other protocols are reported, not served. */
  protocol: string;
  hostname: string | undefined;
  supported: boolean;
  supportedKinds: RouteGroupKind[];
  invalidKinds: string[];
  conflict: RefFailure | undefined;
  /** HTTPS without usable TLS settings. */
  tlsInvalid: RefFailure | undefined;
  certificates: SecretRef[];
  certFailures: RefFailure[];
  /** HTTPS with spec.tls.frontend validation: the CAs client certificates are checked against. */
  clientValidation: ClientValidation | undefined;
  /** Its CA references that could not be used. */
  caFailures: RefFailure[];
  /** Set when none could: the listener is not served (Accepted False, NoValidCACertificate). */
  noValidCA: RefFailure | undefined;
  allowsNamespace: (namespace: string) => boolean;
  /** Keys (`kind namespace/name`) of the routes accepted on this listener. */
  attached: Set<string>;
}

export function isServed(state: ListenerState): boolean {
  return (
    state.supported &&
    state.conflict === undefined &&
    state.tlsInvalid === undefined &&
    state.noValidCA === undefined &&
    (state.protocol !== 'HTTPS' || state.certificates.length > 0) &&
    state.supportedKinds.length > 0
  );
}

export function allowsKind(state: ListenerState, kind: string): boolean {
  return state.supportedKinds.some((k) => k.kind === kind);
}

function namespaceFilter(
  gateway: Gateway,
  listener: Listener,
  snapshot: Snapshot,
): (namespace: string) => boolean {
  const own = namespaceOf(gateway);
  const namespaces = listener.allowedRoutes?.namespaces;
  switch (namespaces?.from ?? 'Same') {
    case 'All':
      return () => true;
    case 'Selector': {
      const selector = namespaces?.selector;
      if (selector === undefined) return () => false;
      return (namespace) => {
        // Kubernetes labels every Namespace with its name; a Namespace not in the Store has only that.
        const labels = {
          ...snapshot.namespaces.get(namespace)?.metadata.labels,
          'kubernetes.io/metadata.name': namespace,
        };
        return selectorMatches(selector, labels);
      };
    }
    default:
      return (namespace) => namespace === own;
  }
}

function routeKinds(
  listener: Listener,
  supported: boolean,
): { supportedKinds: RouteGroupKind[]; invalidKinds: string[] } {
  if (!supported) return { supportedKinds: [], invalidKinds: [] };
  const kinds = listener.allowedRoutes?.kinds;
  if (kinds === undefined || kinds.length === 0) {
    return {
      supportedKinds: ROUTE_KINDS.map((kind) => ({ group: GATEWAY_GROUP, kind })),
      invalidKinds: [],
    };
  }
  const supportedKinds: RouteGroupKind[] = [];
  const invalidKinds: string[] = [];
  for (const k of kinds) {
    const group = k.group ?? GATEWAY_GROUP;
    if (group === GATEWAY_GROUP && (ROUTE_KINDS as readonly string[]).includes(k.kind)) {
      if (!supportedKinds.some((s) => s.kind === k.kind))
        supportedKinds.push({ group, kind: k.kind });
    } else {
      invalidKinds.push(group === '' ? k.kind : `${group}/${k.kind}`);
    }
  }
  return { supportedKinds, invalidKinds };
}

function resolveCertificates(
  gateway: Gateway,
  listener: Listener,
  snapshot: Snapshot,
  grants: GrantIndex,
): { certificates: SecretRef[]; certFailures: RefFailure[]; tlsInvalid: RefFailure | undefined } {
  const certificates: SecretRef[] = [];
  const certFailures: RefFailure[] = [];
  const tls = listener.tls;
  if (tls?.mode !== undefined && tls.mode !== 'Terminate') {
    return {
      certificates,
      certFailures,
      tlsInvalid: {
        reason: Reason.UnsupportedValue,
        error: TranslateProblems.LISTENER_TLS_MODE(tls.mode),
      },
    };
  }
  const refs = tls?.certificateRefs ?? [];
  if (refs.length === 0) {
    return {
      certificates,
      certFailures,
      tlsInvalid: {
        reason: Reason.InvalidCertificateRef,
        error: TranslateProblems.LISTENER_TLS_MISSING(),
      },
    };
  }
  for (const ref of refs) {
    const resolved = resolveSecretRef(ref, gateway, snapshot, grants, Reason.InvalidCertificateRef);
    if ('failure' in resolved) certFailures.push(resolved.failure);
    else certificates.push(resolved.ref);
  }
  return { certificates, certFailures, tlsInvalid: undefined };
}

/**
 * Client certificate validation for a Gateway's HTTPS listener on `port`:
 * spec.tls.frontend's perPort entry for the port, else its default. The
 * CAs come from ConfigMaps (ca-bundles.ts; across namespaces with a
 * ReferenceGrant); with none usable the listener is not served, as the
 * spec asks (Accepted False, NoValidCACertificate).
 */
function resolveClientValidation(
  gateway: Gateway,
  port: number,
  snapshot: Snapshot,
  grants: GrantIndex,
): Pick<ListenerState, 'clientValidation' | 'caFailures' | 'noValidCA'> {
  const frontend = gateway.spec.tls?.frontend;
  const validation = (frontend?.perPort?.find((p) => p.port === port)?.tls ?? frontend?.default)
    ?.validation;
  if (validation === undefined)
    return { clientValidation: undefined, caFailures: [], noValidCA: undefined };
  const { cas, failures } = resolveCaRefs(validation.caCertificateRefs, snapshot, {
    namespace: namespaceOf(gateway),
    kindReason: Reason.InvalidCACertificateKind,
    grants: { index: grants, from: { group: GATEWAY_GROUP, kind: 'Gateway' } },
  });
  if (cas.length === 0)
    return {
      clientValidation: undefined,
      caFailures: failures,
      noValidCA: {
        reason: Reason.NoValidCACertificate,
        error: TranslateProblems.LISTENER_NO_VALID_CA(
          failures.map((f) => f.error.message).join('; '),
        ),
      },
    };
  return {
    clientValidation: { ca: cas, mode: validation.mode ?? 'AllowValidOnly' },
    caFailures: failures,
    noValidCA: undefined,
  };
}

/**
 * A Gateway's reference to a kubernetes.io/tls Secret (a listener's
 * certificateRef, spec.tls.backend.clientCertificateRef): a core Secret,
 * in another namespace only with a ReferenceGrant, that exists and holds a
 * key pair. A failure carries `invalidReason` (InvalidCertificateRef,
 * InvalidClientCertificateRef) or RefNotPermitted.
 */
export function resolveSecretRef(
  ref: {
    group?: string | undefined;
    kind?: string | undefined;
    namespace?: string | undefined;
    name: string;
  },
  gateway: Gateway,
  snapshot: Snapshot,
  grants: GrantIndex,
  invalidReason: string,
): { ref: SecretRef; secret: Secret } | { failure: RefFailure } {
  const own = namespaceOf(gateway);
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const namespace = ref.namespace ?? own;
  const name = `${namespace}/${ref.name}`;
  if (group !== '' || kind !== 'Secret')
    return {
      failure: {
        reason: invalidReason,
        error: TranslateProblems.CERTIFICATE_INVALID_KIND(group, kind),
      },
    };
  const permitted = grants.permits(
    { group: GATEWAY_GROUP, kind: 'Gateway', namespace: own },
    { group: '', kind: 'Secret', namespace, name: ref.name },
  );
  if (!permitted)
    return {
      failure: {
        reason: Reason.RefNotPermitted,
        error: TranslateProblems.CERTIFICATE_NOT_PERMITTED(name, own),
      },
    };
  const secret = snapshot.secrets.get(name);
  if (secret === undefined)
    return {
      failure: { reason: invalidReason, error: TranslateProblems.CERTIFICATE_NOT_FOUND(name) },
    };
  if (tlsKeyPair(secret) === undefined)
    return {
      failure: {
        reason: invalidReason,
        error: TranslateProblems.CERTIFICATE_NOT_TLS(name, secret.type ?? 'Opaque'),
      },
    };
  return { ref: { namespace, name: ref.name }, secret };
}

function describe(state: ListenerState): string {
  return `Gateway ${state.gatewayKey} listener ${state.listener.name}`;
}

/** Marks conflicted listeners, across all Pier Gateways. */
function markConflicts(states: ListenerState[]): void {
  const byPort = new Map<number, ListenerState[]>();
  for (const state of states) {
    // UDP ports are a separate space from TCP ones.
    if (state.protocol === 'UDP') continue;
    const list = byPort.get(state.listener.port);
    if (list === undefined) byPort.set(state.listener.port, [state]);
    else list.push(state);
  }
  for (const [port, list] of byPort) {
    const protocols = new Set(list.map((s) => s.protocol));
    if (protocols.size > 1) {
      for (const state of list) {
        const others = list
          .filter((o) => o.protocol !== state.protocol)
          .map(describe)
          .join(', ');
        state.conflict = {
          reason: Reason.ProtocolConflict,
          error: TranslateProblems.LISTENER_PROTOCOL_CONFLICT(port, others),
        };
      }
      continue;
    }
    const byHostname = new Map<string, ListenerState[]>();
    for (const state of list) {
      const key = state.hostname ?? '';
      const group = byHostname.get(key);
      if (group === undefined) byHostname.set(key, [state]);
      else group.push(state);
    }
    for (const [hostname, group] of byHostname) {
      if (group.length < 2) continue;
      for (const state of group) {
        const others = group
          .filter((o) => o !== state)
          .map(describe)
          .join(', ');
        state.conflict = {
          reason: Reason.HostnameConflict,
          error: TranslateProblems.LISTENER_HOSTNAME_CONFLICT(port, hostname, others),
        };
      }
    }
  }
}

export function buildListeners(
  gateways: readonly Gateway[],
  snapshot: Snapshot,
  grants: GrantIndex,
): ListenerState[] {
  const states: ListenerState[] = [];
  for (const gateway of gateways) {
    for (const listener of gateway.spec?.listeners ?? []) {
      // Validated Gateways always have these; an unvalidated one must not stop the others.
      if (typeof listener !== 'object' || listener === null || typeof listener.port !== 'number') {
        continue;
      }
      const upper = String(listener.protocol ?? '').toUpperCase();
      const core = ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'].includes(upper);
      const protocol = core ? upper : listener.protocol;
      const supported = protocol === 'HTTP' || protocol === 'HTTPS';
      const kinds = routeKinds(listener, supported);
      const tls =
        protocol === 'HTTPS'
          ? resolveCertificates(gateway, listener, snapshot, grants)
          : { certificates: [], certFailures: [], tlsInvalid: undefined };
      const frontend =
        protocol === 'HTTPS'
          ? resolveClientValidation(gateway, listener.port, snapshot, grants)
          : { clientValidation: undefined, caFailures: [], noValidCA: undefined };
      states.push({
        gateway,
        gatewayKey: keyOf(gateway),
        listener,
        identity: {
          gateway: keyOf(gateway),
          name: listener.name,
          port: listener.port,
          protocol: protocol === 'HTTPS' ? 'HTTPS' : 'HTTP',
        },
        protocol,
        hostname: listener.hostname,
        supported,
        ...kinds,
        conflict: undefined,
        ...tls,
        ...frontend,
        allowsNamespace: namespaceFilter(gateway, listener, snapshot),
        attached: new Set(),
      });
    }
  }
  markConflicts(states);
  return states;
}

/** The listener's failures, for GatewayConfig.problems. */
export function listenerFailures(state: ListenerState): RefFailure[] {
  const failures: RefFailure[] = [];
  if (!state.supported) {
    failures.push({
      reason: Reason.UnsupportedProtocol,
      error: TranslateProblems.LISTENER_UNSUPPORTED_PROTOCOL(state.protocol),
    });
  }
  if (state.conflict !== undefined) failures.push(state.conflict);
  if (state.tlsInvalid !== undefined) failures.push(state.tlsInvalid);
  failures.push(...state.certFailures, ...state.caFailures);
  if (state.noValidCA !== undefined) failures.push(state.noValidCA);
  if (state.invalidKinds.length > 0) {
    failures.push({
      reason: Reason.InvalidRouteKinds,
      error: TranslateProblems.LISTENER_INVALID_ROUTE_KINDS(state.invalidKinds.join(', ')),
    });
  }
  if (
    state.supported &&
    state.protocol === 'HTTPS' &&
    state.tlsInvalid === undefined &&
    state.certificates.length === 0
  ) {
    failures.push({
      reason: Reason.InvalidCertificateRef,
      error: TranslateProblems.LISTENER_NO_CERTIFICATE(),
    });
  }
  if (state.supported && state.supportedKinds.length === 0) {
    failures.push({
      reason: Reason.InvalidRouteKinds,
      error: TranslateProblems.LISTENER_NO_ROUTE_KINDS(),
    });
  }
  return failures;
}

export function listenerConditions(state: ListenerState): Condition[] {
  const generation = state.gateway.metadata.generation;
  const conditions: Condition[] = [];
  if (!state.supported) {
    const error = TranslateProblems.LISTENER_UNSUPPORTED_PROTOCOL(state.protocol);
    conditions.push(
      condition(
        ConditionType.Accepted,
        false,
        Reason.UnsupportedProtocol,
        error.message,
        generation,
      ),
    );
  } else if (state.conflict !== undefined) {
    conditions.push(
      condition(
        ConditionType.Accepted,
        false,
        state.conflict.reason,
        state.conflict.error.message,
        generation,
      ),
    );
  } else if (state.noValidCA !== undefined) {
    conditions.push(
      condition(
        ConditionType.Accepted,
        false,
        state.noValidCA.reason,
        state.noValidCA.error.message,
        generation,
      ),
    );
  } else if (state.tlsInvalid?.reason === Reason.UnsupportedValue) {
    conditions.push(
      condition(
        ConditionType.Accepted,
        false,
        Reason.UnsupportedValue,
        state.tlsInvalid.error.message,
        generation,
      ),
    );
  } else {
    conditions.push(
      condition(ConditionType.Accepted, true, Reason.Accepted, 'Listener is valid', generation),
    );
  }
  conditions.push(
    state.conflict === undefined
      ? condition(ConditionType.Conflicted, false, Reason.NoConflicts, 'No conflicts', generation)
      : condition(
          ConditionType.Conflicted,
          true,
          state.conflict.reason,
          state.conflict.error.message,
          generation,
        ),
  );
  const refFailures: RefFailure[] = [];
  if (state.invalidKinds.length > 0) {
    refFailures.push({
      reason: Reason.InvalidRouteKinds,
      error: TranslateProblems.LISTENER_INVALID_ROUTE_KINDS(state.invalidKinds.join(', ')),
    });
  }
  if (state.tlsInvalid?.reason === Reason.InvalidCertificateRef) refFailures.push(state.tlsInvalid);
  refFailures.push(...state.certFailures, ...state.caFailures);
  conditions.push(resolvedRefsCondition(refFailures, generation));
  conditions.push(
    isServed(state)
      ? condition(
          ConditionType.Programmed,
          true,
          Reason.Programmed,
          'Listener is served',
          generation,
        )
      : condition(
          ConditionType.Programmed,
          false,
          Reason.Invalid,
          'Listener is not served; see its other conditions',
          generation,
        ),
  );
  return conditions;
}
