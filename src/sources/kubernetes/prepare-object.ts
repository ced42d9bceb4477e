// From an object as the API server serves it to one as the Store keeps it:
// apiVersion and kind filled in (list items of built-in kinds carry neither),
// managedFields dropped (server bookkeeping, large, and changed by every
// write), data keys Pier does not read dropped where the resource says so
// (ConfigMaps: only ca.crt), checked and defaulted by validateObject, and marked as this
// source's own. Pure: the same input gives the same object and fingerprint.

import { unknownKind } from '../../model/errors.ts';
import { kindKeyOf } from '../../model/object.ts';
import { isPlainObject } from '../../model/validate.ts';
import {
  type KubeObject,
  type ModelError,
  type ObjectRef,
  refOf,
  validateObject,
} from '../../model.ts';
import { fingerprint } from '../manifests/plan.ts';
import { SOURCE_ANNOTATION } from '../manifests/source.ts';
import type { ApiResource } from './resources.ts';

/** The value of pier.dev/source on every object this source writes. */
export const SOURCE_VALUE = 'kubernetes';

export type Prepared =
  | { ok: true; object: KubeObject; ref: ObjectRef; fingerprint: string }
  | {
      ok: false;
      /** As far as the raw object names itself (absent when it has no name). */
      ref: ObjectRef | undefined;
      error: ModelError;
    };

/** The reference a raw API object names, for deletes and logs; undefined without a name. */
export function rawRef(raw: unknown, resource: ApiResource): ObjectRef | undefined {
  const meta = isPlainObject(raw) && isPlainObject(raw.metadata) ? raw.metadata : undefined;
  const name = meta?.name;
  if (typeof name !== 'string' || name === '') return undefined;
  const namespace = meta?.namespace;
  return resource.namespaced && typeof namespace === 'string' && namespace !== ''
    ? { kind: resource.kind, namespace, name }
    : { kind: resource.kind, name };
}

/** The raw object's metadata.resourceVersion (the API server's), or ``. */
export function rawResourceVersion(raw: unknown): string {
  const meta = isPlainObject(raw) && isPlainObject(raw.metadata) ? raw.metadata : undefined;
  return typeof meta?.resourceVersion === 'string' ? meta.resourceVersion : '';
}

/** The object with only `keys` left in data and binaryData (all of them when `keys` is undefined). */
function keepDataKeys(
  raw: Record<string, unknown>,
  keys: readonly string[] | undefined,
): Record<string, unknown> {
  if (keys === undefined) return raw;
  const pick = (map: unknown) =>
    isPlainObject(map)
      ? Object.fromEntries(keys.filter((k) => k in map).map((k) => [k, map[k]]))
      : map;
  const out: Record<string, unknown> = { ...raw };
  if (raw.data !== undefined) out.data = pick(raw.data);
  if (raw.binaryData !== undefined) out.binaryData = pick(raw.binaryData);
  return out;
}

export function prepareObject(raw: unknown, resource: ApiResource, apiVersion: string): Prepared {
  let input: unknown = raw;
  if (isPlainObject(raw)) {
    const { managedFields: _dropped, ...metadata } = isPlainObject(raw.metadata)
      ? raw.metadata
      : ({} as Record<string, unknown>);
    input = {
      ...keepDataKeys(raw, resource.dataKeys),
      apiVersion:
        typeof raw.apiVersion === 'string' && raw.apiVersion !== '' ? raw.apiVersion : apiVersion,
      kind: typeof raw.kind === 'string' && raw.kind !== '' ? raw.kind : resource.kindName,
      ...(isPlainObject(raw.metadata) ? { metadata } : {}),
    };
  }
  const result = validateObject(input);
  if (!result.ok) return { ok: false, ref: rawRef(raw, resource), error: result.error };
  const key = kindKeyOf(result.object);
  if (key !== resource.kind) {
    // A server that answers a request for one kind with another: never file it under the wrong kind.
    const { name, namespace } = result.object.metadata;
    return {
      ok: false,
      ref: rawRef(raw, resource),
      error: unknownKind(
        { kind: result.object.kind, name, namespace },
        `served as ${resource.kind} but is a ${key}`,
      ),
    };
  }
  const object: KubeObject = {
    ...result.object,
    metadata: {
      ...result.object.metadata,
      annotations: { ...result.object.metadata.annotations, [SOURCE_ANNOTATION]: SOURCE_VALUE },
    },
  };
  return { ok: true, object, ref: refOf(object), fingerprint: fingerprint(object) };
}
