// Resolving a route's backendRef (or a mirror's) to a Service port: the kind
// must be a core Service, a reference into another namespace needs a
// ReferenceGrant there, the Service must exist and have the port. A failure
// carries the spec's ResolvedRefs reason.

import type { PierError } from '../../src/errors.ts';
import type { ServiceBackend } from '../router.ts';
import { Reason } from './conditions.ts';
import { TranslateProblems } from './problems.ts';
import type { GrantIndex } from './reference-grants.ts';
import type { Snapshot } from './snapshot.ts';

export interface BackendRefLike {
  group?: string | undefined;
  kind?: string | undefined;
  name: string;
  namespace?: string | undefined;
  port?: number | undefined;
}

export interface RefFailure {
  reason: string;
  error: PierError;
}

export type BackendResolution =
  | { ok: true; backend: ServiceBackend }
  | { ok: false; failure: RefFailure };

export interface BackendScope {
  snapshot: Snapshot;
  grants: GrantIndex;
  /** The referring route: its kind (HTTPRoute, GRPCRoute) and namespace. */
  routeKind: string;
  namespace: string;
}

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export function resolveBackendRef(ref: BackendRefLike, scope: BackendScope): BackendResolution {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Service';
  const namespace = ref.namespace ?? scope.namespace;
  const name = `${namespace}/${ref.name}`;
  if (group !== '' || kind !== 'Service') {
    const what = `${group === '' ? '' : `${group}/`}${kind} ${name}`;
    return {
      ok: false,
      failure: { reason: Reason.InvalidKind, error: TranslateProblems.BACKEND_INVALID_KIND(what) },
    };
  }
  const permitted = scope.grants.permits(
    { group: GATEWAY_GROUP, kind: scope.routeKind, namespace: scope.namespace },
    { group: '', kind: 'Service', namespace, name: ref.name },
  );
  if (!permitted) {
    return {
      ok: false,
      failure: {
        reason: Reason.RefNotPermitted,
        error: TranslateProblems.BACKEND_NOT_PERMITTED(name, scope.namespace),
      },
    };
  }
  const service = scope.snapshot.services.get(name);
  if (service === undefined) {
    return {
      ok: false,
      failure: { reason: Reason.BackendNotFound, error: TranslateProblems.BACKEND_NOT_FOUND(name) },
    };
  }
  if (ref.port === undefined) {
    return {
      ok: false,
      failure: {
        reason: Reason.UnsupportedValue,
        error: TranslateProblems.BACKEND_PORT_MISSING(name),
      },
    };
  }
  const ports = service.spec?.ports ?? [];
  // A Service without ports (ExternalName) is taken at its word.
  if (ports.length > 0 && !ports.some((p) => p.port === ref.port)) {
    return {
      ok: false,
      failure: {
        reason: Reason.BackendNotFound,
        error: TranslateProblems.BACKEND_PORT_NOT_FOUND(name, String(ref.port)),
      },
    };
  }
  return { ok: true, backend: { namespace, name: ref.name, port: ref.port } };
}
