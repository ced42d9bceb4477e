// The /debug/state port over a Store: every object of every known kind, as
// stored. Secret values are replaced by their size, so the page can be shown
// to whoever debugs without handing out keys.

import { type KindKey, Kinds, type KubeObject } from '../model/object.ts';
import type { Store } from '../store.ts';

export interface StoreState {
  store: string;
  /** The Store's revision when the snapshot began; each kind is listed at or after it. */
  revision: number;
  /** Objects by kind; kinds with none are left out. */
  objects: Record<KindKey, KubeObject[]>;
}

export function createStoreState(
  store: Store,
  kinds: readonly KindKey[] = Object.values(Kinds),
): () => Promise<StoreState> {
  return async () => {
    const revision = await store.revision();
    const objects: Record<KindKey, KubeObject[]> = {};
    for (const kind of kinds) {
      const { items } = await store.list(kind);
      if (items.length > 0) objects[kind] = kind === Kinds.Secret ? items.map(redactSecret) : items;
    }
    return { store: store.name, revision, objects };
  };
}

function redactSecret(object: KubeObject): KubeObject {
  const secret = object as KubeObject & {
    data?: Record<string, string>;
    stringData?: Record<string, string>;
  };
  const redacted: Record<string, unknown> = { ...secret };
  for (const field of ['data', 'stringData'] as const) {
    const values = secret[field];
    if (values === undefined) continue;
    redacted[field] = Object.fromEntries(
      Object.entries(values).map(([key, value]) => [
        key,
        `(redacted, ${String(value).length} characters)`,
      ]),
    );
  }
  return redacted as unknown as KubeObject;
}
