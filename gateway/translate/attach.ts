// Routes -> listeners, through each parentRef (name, namespace, sectionName,
// port), as the spec's ParentReference and HTTPRouteSpec.hostnames define:
//   - no listener with that sectionName/port: NoMatchingParent;
//   - none of those lets the route in (allowedRoutes kinds, namespaces):
//     NotAllowedByListeners;
//   - none of those shares a hostname with the route: NoMatchingListenerHostname.
// A route attaches to every listener that passes all three; on each, its
// hostnames are the intersections with the listener's hostname.
//
// Then, per listener, HTTPRoutes and GRPCRoutes whose hostnames intersect
// cannot both be accepted: the older route (then namespace/name) stays, the
// other is rejected on that listener (GRPCRouteSpec.hostnames).

import type { ParentReference } from '../../src/model.ts';
import { intersectHostnames } from '../router/hostname.ts';
import type { HostnameBinding } from '../router.ts';
import type { RefFailure } from './backends.ts';
import { Reason } from './conditions.ts';
import { allowsKind, type ListenerState } from './listeners.ts';
import { TranslateProblems } from './problems.ts';
import type { CompiledRoute } from './routes.ts';

const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface Attachment {
  route: CompiledRoute;
  listener: ListenerState;
  /** [] when the route has no hostnames (every host of the listener). */
  bindings: HostnameBinding[];
  /** Set when the listener rejected the route after attachment (HTTPRoute/GRPCRoute conflict). */
  rejected?: RefFailure;
}

export interface ParentResult {
  parentRef: ParentReference;
  /** `namespace/name` of the Gateway. */
  gateway: string;
  /** Why the route is not attached through this parentRef; undefined when it is. */
  failure: RefFailure | undefined;
  attachments: Attachment[];
}

function bindingsOn(
  listener: ListenerState,
  hostnames: readonly string[],
): HostnameBinding[] | undefined {
  if (hostnames.length === 0) return [];
  const bindings: HostnameBinding[] = [];
  for (const declared of hostnames) {
    const hostname = intersectHostnames(listener.hostname, declared);
    if (
      hostname !== undefined &&
      !bindings.some((b) => b.hostname === hostname && b.declared === declared)
    ) {
      bindings.push({ hostname, declared });
    }
  }
  return bindings.length === 0 ? undefined : bindings;
}

/**
 * Attaches a route through each of its parentRefs that names one of Pier's
 * Gateways (`listeners` by Gateway `namespace/name`); other parentRefs are
 * not Pier's to report on and are skipped.
 */
export function attachRoute(
  route: CompiledRoute,
  listeners: ReadonlyMap<string, readonly ListenerState[]>,
): ParentResult[] {
  const results: ParentResult[] = [];
  for (const parentRef of route.object.spec?.parentRefs ?? []) {
    if (typeof parentRef !== 'object' || parentRef === null || typeof parentRef.name !== 'string') {
      continue;
    }
    if (
      (parentRef.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP ||
      (parentRef.kind ?? 'Gateway') !== 'Gateway'
    )
      continue;
    const gateway = `${parentRef.namespace ?? route.namespace}/${parentRef.name}`;
    const all = listeners.get(gateway);
    if (all === undefined) continue;
    const parent = `Gateway ${gateway}`;
    const candidates = all.filter(
      (l) =>
        (parentRef.sectionName === undefined || l.listener.name === parentRef.sectionName) &&
        (parentRef.port === undefined || l.listener.port === parentRef.port),
    );
    const result: ParentResult = { parentRef, gateway, failure: undefined, attachments: [] };
    results.push(result);
    if (candidates.length === 0) {
      result.failure = {
        reason: Reason.NoMatchingParent,
        error: TranslateProblems.ROUTE_NO_MATCHING_PARENT(parent),
      };
      continue;
    }
    const allowed = candidates.filter(
      (l) => allowsKind(l, route.kind) && l.allowsNamespace(route.namespace),
    );
    if (allowed.length === 0) {
      result.failure = {
        reason: Reason.NotAllowedByListeners,
        error: TranslateProblems.ROUTE_NOT_ALLOWED(parent),
      };
      continue;
    }
    for (const listener of allowed) {
      const bindings = bindingsOn(listener, route.hostnames);
      if (bindings !== undefined) result.attachments.push({ route, listener, bindings });
    }
    if (result.attachments.length === 0) {
      result.failure = {
        reason: Reason.NoMatchingListenerHostname,
        error: TranslateProblems.ROUTE_NO_MATCHING_HOSTNAME(parent),
      };
    }
  }
  return results;
}

function effective(attachment: Attachment): string[] {
  return attachment.bindings.length === 0
    ? [attachment.listener.hostname ?? '']
    : attachment.bindings.map((b) => b.hostname);
}

function intersects(a: Attachment, b: Attachment): boolean {
  for (const x of effective(a)) {
    for (const y of effective(b)) {
      if (intersectHostnames(x === '' ? undefined : x, y) !== undefined) return true;
    }
  }
  return false;
}

/**
 * Rejects, per listener, the HTTPRoute/GRPCRoute attachments whose hostnames
 * intersect one of the other kind that was accepted first. `attachments`
 * must come oldest route first.
 */
export function rejectKindConflicts(attachments: readonly Attachment[]): void {
  const byListener = new Map<ListenerState, Attachment[]>();
  for (const attachment of attachments) {
    const list = byListener.get(attachment.listener);
    if (list === undefined) byListener.set(attachment.listener, [attachment]);
    else list.push(attachment);
  }
  for (const [listener, list] of byListener) {
    const kept: Attachment[] = [];
    for (const attachment of list) {
      const winner = kept.find(
        (k) => k.route.kind !== attachment.route.kind && intersects(k, attachment),
      );
      if (winner === undefined) {
        kept.push(attachment);
        continue;
      }
      attachment.rejected = {
        reason: Reason.HostnameConflict,
        error: TranslateProblems.ROUTE_HOSTNAME_CONFLICT(
          `${winner.route.kind} ${winner.route.key}`,
          `${listener.gatewayKey}/${listener.listener.name}`,
        ),
      };
    }
  }
}
