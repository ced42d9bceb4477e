// Desired Gateway API status (translate()'s StatusReport) against the status
// an object carries -> the merge patch of `status` to send, or nothing.
// Pure; the tables in status-diff.test.ts are the rules:
//
// - Conditions carry the spec's fields (type, status, reason, message,
//   observedGeneration = metadata.generation, lastTransitionTime). The
//   lastTransitionTime of a condition whose status did not change is kept
//   from the current one; a new or flipped condition gets `now`.
// - Nothing is written when nothing but lastTransitionTime would change:
//   with the rule above, the patch of an object already carrying what we
//   want is empty, so the MODIFIED event of our own write computes to no
//   change (no write loop).
// - GatewayClass: conditions. Gateway: conditions and listeners (name,
//   supportedKinds, attachedRoutes, conditions); addresses only when known
//   (spec.addresses), otherwise left out of the patch (and left alone).
// - Ingress (served by Pier, and only when an address to publish is
//   configured): status.loadBalancer.ingress, one entry, `ip` for an IP
//   address, `hostname` otherwise, as ingress-nginx's
//   --publish-status-address writes it.
// - Route status.parents is shared with other controllers: entries whose
//   controllerName is not ours are kept as they are, in their order; ours
//   are replaced by the desired ones (a parent that no longer references us
//   loses its entry). A merge patch replaces a list whole, so the patch
//   carries the others' entries too.
// - BackendTLSPolicy status.ancestors: the same, with ancestorRef (the
//   Gateways of ours that route to a Service the policy targets).

import { isIP } from '../../src/model/fields.ts';
import { isPlainObject } from '../../src/model/validate.ts';
import type { KubeObject, ParentReference } from '../../src/model.ts';
import { stableStringify } from '../../src/stable-json.ts';
import type {
  Condition,
  GatewayClassStatus,
  GatewayStatus,
  PolicyAncestorStatus,
  RouteParentStatus,
} from '../translate/gateway-config.ts';

/** A condition as written: the Gateway API's metav1.Condition. */
export interface WrittenCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export type StatusBody = Record<string, unknown>;

/** metav1.Condition's message limit. */
const MAX_MESSAGE = 32_768;
const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** RFC 3339 at second precision, as metav1.Time serializes. */
export function timestamp(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function statusOf(object: KubeObject): Record<string, unknown> {
  const status = (object as { status?: unknown }).status;
  return isPlainObject(status) ? status : {};
}

export function sameJson(a: unknown, b: unknown): boolean {
  return stableStringify(a) === stableStringify(b);
}

/** The desired conditions, stamped: lastTransitionTime kept where the status did not change. */
export function stampConditions(
  desired: readonly Condition[],
  current: unknown,
  now: Date,
): WrittenCondition[] {
  const previous = asList(current).filter(isPlainObject);
  return desired.map((c) => {
    const before = previous.find((p) => p.type === c.type);
    const kept =
      before !== undefined &&
      before.status === c.status &&
      typeof before.lastTransitionTime === 'string' &&
      before.lastTransitionTime !== '';
    const written: WrittenCondition = {
      type: c.type,
      status: c.status,
      reason: c.reason,
      message: c.message.length > MAX_MESSAGE ? c.message.slice(0, MAX_MESSAGE) : c.message,
      lastTransitionTime: kept ? (before.lastTransitionTime as string) : timestamp(now),
    };
    if (c.observedGeneration !== undefined) written.observedGeneration = c.observedGeneration;
    return written;
  });
}

/** GatewayClass: its conditions. */
export function gatewayClassPatch(
  object: KubeObject,
  desired: GatewayClassStatus,
  now: Date,
): StatusBody | undefined {
  const current = statusOf(object);
  const conditions = stampConditions(desired.conditions, current.conditions, now);
  return sameJson(conditions, current.conditions) ? undefined : { conditions };
}

/** Gateway: conditions, listeners, and addresses when spec.addresses names them. */
export function gatewayPatch(
  object: KubeObject,
  desired: GatewayStatus,
  now: Date,
): StatusBody | undefined {
  const current = statusOf(object);
  const currentListeners = asList(current.listeners).filter(isPlainObject);
  const conditions = stampConditions(desired.conditions, current.conditions, now);
  const listeners = desired.listeners.map((l) => ({
    name: l.name,
    supportedKinds: l.supportedKinds.map((k) => ({ group: k.group, kind: k.kind })),
    attachedRoutes: l.attachedRoutes,
    conditions: stampConditions(
      l.conditions,
      currentListeners.find((c) => c.name === l.name)?.conditions,
      now,
    ),
  }));
  const body: StatusBody = { conditions, listeners };
  const addresses = knownAddresses(object);
  if (addresses !== undefined) body.addresses = addresses;
  const changed = Object.keys(body).some((key) => !sameJson(body[key], current[key]));
  return changed ? body : undefined;
}

/** status.addresses from spec.addresses (type defaults to IPAddress); undefined when none are given. */
function knownAddresses(object: KubeObject): { type: string; value: string }[] | undefined {
  const spec = (object as { spec?: unknown }).spec;
  const requested = isPlainObject(spec) ? asList(spec.addresses).filter(isPlainObject) : [];
  const addresses = requested
    .filter((a) => typeof a.value === 'string' && a.value !== '')
    .map((a) => ({
      type: typeof a.type === 'string' && a.type !== '' ? a.type : 'IPAddress',
      value: a.value as string,
    }));
  return addresses.length === 0 ? undefined : addresses;
}

/** A parentRef with the spec's defaults filled in, for matching entries. */
function parentKey(ref: unknown, routeNamespace: string): string {
  const r = isPlainObject(ref) ? ref : {};
  return stableStringify([
    r.group ?? GATEWAY_GROUP,
    r.kind ?? 'Gateway',
    r.namespace ?? routeNamespace,
    r.name,
    r.sectionName ?? null,
    r.port ?? null,
  ]);
}

/**
 * A list of per-controller entries (a route's status.parents, a policy's
 * status.ancestors): the other controllers' entries as they are, then ours
 * as desired (`desired` holds only ours; empty when none applies any more).
 */
function controllerEntriesPatch(
  object: KubeObject,
  field: 'parents' | 'ancestors',
  refField: 'parentRef' | 'ancestorRef',
  desired: readonly { ref: ParentReference; conditions: readonly Condition[] }[],
  controllerName: string,
  now: Date,
): StatusBody | undefined {
  const current = asList(statusOf(object)[field]);
  const ours = (p: unknown) => isPlainObject(p) && p.controllerName === controllerName;
  const others = current.filter((p) => !ours(p));
  const oursNow = current.filter(ours) as Record<string, unknown>[];
  const namespace = object.metadata.namespace ?? 'default';
  const oursNext = desired.map((d) => {
    const key = parentKey(d.ref, namespace);
    const before = oursNow.find((p) => parentKey(p[refField], namespace) === key);
    return {
      [refField]: d.ref,
      controllerName,
      conditions: stampConditions(d.conditions, before?.conditions, now),
    };
  });
  if (sameJson(oursNext, oursNow)) return undefined;
  return { [field]: [...others, ...oursNext] };
}

/** A route's status.parents (see controllerEntriesPatch). */
export function routePatch(
  object: KubeObject,
  desired: readonly RouteParentStatus[],
  controllerName: string,
  now: Date,
): StatusBody | undefined {
  const entries = desired.map((d) => ({ ref: d.parentRef, conditions: d.conditions }));
  return controllerEntriesPatch(object, 'parents', 'parentRef', entries, controllerName, now);
}

/** A policy's status.ancestors (BackendTLSPolicy: the Gateways routing to its Services). */
export function policyPatch(
  object: KubeObject,
  desired: readonly PolicyAncestorStatus[],
  controllerName: string,
  now: Date,
): StatusBody | undefined {
  const entries = desired.map((d) => ({ ref: d.ancestorRef, conditions: d.conditions }));
  return controllerEntriesPatch(object, 'ancestors', 'ancestorRef', entries, controllerName, now);
}

/** Ingress: status.loadBalancer naming `address` (an IP address or a DNS name). */
export function ingressPatch(object: KubeObject, address: string): StatusBody | undefined {
  const loadBalancer = { ingress: [isIP(address) ? { ip: address } : { hostname: address }] };
  return sameJson(loadBalancer, statusOf(object).loadBalancer) ? undefined : { loadBalancer };
}
