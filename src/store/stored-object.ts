// What every Store implementation does to an object on its way in and out:
// check its shape, key it, and hand out deep-frozen copies so that no caller
// can change what the Store (or an informer's cache) holds.
//
// Objects go through JSON on the way in, in memory as in Redis, so both
// stores keep exactly what a Redis round trip would (no Dates, no undefined,
// no functions) and a test against one means the same for the other.

import { describeRef, type KubeObject, kindKeyOf, type ObjectRef } from '../model/object.ts';
import { StoreErrors } from './errors.ts';

/** Why a value is not a storable object, or undefined when it is one. */
export function objectProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const o = value as Record<string, unknown>;
  if (typeof o.apiVersion !== 'string' || o.apiVersion === '')
    return 'apiVersion must be a non-empty string';
  if (typeof o.kind !== 'string' || o.kind === '') return 'kind must be a non-empty string';
  const meta = o.metadata;
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta))
    return 'metadata must be an object';
  const m = meta as Record<string, unknown>;
  if (typeof m.name !== 'string' || m.name === '')
    return 'metadata.name must be a non-empty string';
  if (m.name.includes('/')) return 'metadata.name must not contain "/"';
  if (m.namespace !== undefined && (typeof m.namespace !== 'string' || m.namespace.includes('/'))) {
    return 'metadata.namespace must be a string without "/"';
  }
  if (m.labels !== undefined) {
    if (typeof m.labels !== 'object' || m.labels === null || Array.isArray(m.labels)) {
      return 'metadata.labels must be a map of strings';
    }
    for (const [k, v] of Object.entries(m.labels)) {
      if (typeof v !== 'string') return `metadata.labels.${k} must be a string`;
    }
  }
  return undefined;
}

/** A loose name for an object that may be malformed, for error messages. */
function nameForErrors(value: unknown): string {
  const o = value as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  const kind = typeof o?.kind === 'string' ? o.kind : 'object';
  const name = typeof o?.metadata?.name === 'string' ? o.metadata.name : '<no name>';
  const ns = typeof o?.metadata?.namespace === 'string' ? `${o.metadata.namespace}/` : '';
  return `${kind} ${ns}${name}`;
}

export function checkObject(value: unknown): asserts value is KubeObject {
  const problem = objectProblem(value);
  if (problem !== undefined) throw StoreErrors.INVALID_OBJECT(nameForErrors(value), problem);
}

export function checkRef(ref: unknown): asserts ref is ObjectRef {
  const r = ref as Partial<ObjectRef> | null;
  if (typeof r !== 'object' || r === null)
    throw StoreErrors.INVALID_ARGUMENT('object reference', 'not an object');
  if (typeof r.kind !== 'string' || r.kind === '') {
    throw StoreErrors.INVALID_ARGUMENT('object reference', 'kind must be a non-empty string');
  }
  if (typeof r.name !== 'string' || r.name === '' || r.name.includes('/')) {
    throw StoreErrors.INVALID_ARGUMENT(
      `${r.kind} reference`,
      'name must be a non-empty string without "/"',
    );
  }
  if (r.namespace !== undefined && (typeof r.namespace !== 'string' || r.namespace.includes('/'))) {
    throw StoreErrors.INVALID_ARGUMENT(
      `${r.kind} reference`,
      'namespace must be a string without "/"',
    );
  }
}

export function checkRevision(what: string, revision: unknown): asserts revision is number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw StoreErrors.INVALID_ARGUMENT(
      what,
      `must be a non-negative safe integer, got ${String(revision)}`,
    );
  }
}

/**
 * An object's key within its kind: `namespace/name`, or `name` for a
 * cluster-scoped object (names never contain "/", so this is unambiguous).
 * An empty namespace is cluster scope, as in Kubernetes.
 */
export function fieldOf(namespace: string | undefined, name: string): string {
  return namespace === undefined || namespace === '' ? name : `${namespace}/${name}`;
}

export function fieldOfRef(ref: ObjectRef): string {
  return fieldOf(ref.namespace, ref.name);
}

export function fieldOfObject(object: KubeObject): string {
  return fieldOf(object.metadata.namespace, object.metadata.name);
}

export function describeObject(object: KubeObject): string {
  return describeRef({
    kind: kindKeyOf(object),
    namespace: object.metadata.namespace,
    name: object.metadata.name,
  });
}

export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}

/** JSON text of an object, or INVALID_OBJECT when it has none (a BigInt, a cycle). */
export function toJson(object: KubeObject): string {
  try {
    return JSON.stringify(object);
  } catch (error) {
    throw StoreErrors.INVALID_OBJECT(
      describeObject(object),
      `not JSON-serializable: ${(error as Error).message}`,
    );
  }
}

/** A deep-frozen JSON copy of the object carrying `revision` as its resourceVersion. */
export function storedCopy<T extends KubeObject>(object: T, revision: number): T {
  const copy = JSON.parse(toJson(object)) as T;
  copy.metadata.resourceVersion = String(revision);
  return deepFreeze(copy);
}

/** The order list() returns: by namespace (cluster-scoped first), then name. */
export function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  const na = a.metadata.namespace ?? '';
  const nb = b.metadata.namespace ?? '';
  if (na !== nb) return na < nb ? -1 : 1;
  const ma = a.metadata.name;
  const mb = b.metadata.name;
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}
