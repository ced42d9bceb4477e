// The pure half of a manifests sync: desired objects vs. what the Store holds
// for this source -> which objects to apply and which to delete. Only what
// changed is written, so watchers see no churn when a file is saved unchanged.

import { describeRef, type KubeObject, refOf } from '../../model/object.ts';
import { stableStringify } from '../../stable-json.ts';

export interface ManifestsPlan {
  apply: KubeObject[];
  delete: KubeObject[];
}

// Fields the Store or an API server sets; they never make a manifest differ.
const SERVER_FIELDS = [
  'resourceVersion',
  'uid',
  'creationTimestamp',
  'generation',
  'managedFields',
] as const;

/** A stable text form of an object without server-set metadata, for equality. */
export function fingerprint(object: KubeObject): string {
  const metadata: Record<string, unknown> = { ...object.metadata };
  for (const field of SERVER_FIELDS) delete metadata[field];
  return stableStringify({ ...object, metadata });
}

export function planManifests(
  desired: readonly KubeObject[],
  current: readonly KubeObject[],
): ManifestsPlan {
  const currentByRef = new Map<string, KubeObject>();
  for (const object of current) currentByRef.set(describeRef(refOf(object)), object);
  const apply: KubeObject[] = [];
  const wanted = new Set<string>();
  for (const object of desired) {
    const key = describeRef(refOf(object));
    wanted.add(key);
    const existing = currentByRef.get(key);
    if (existing === undefined || fingerprint(existing) !== fingerprint(object)) apply.push(object);
  }
  const remove = current.filter((object) => !wanted.has(describeRef(refOf(object))));
  return { apply, delete: remove };
}
