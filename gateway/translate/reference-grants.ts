// ReferenceGrant: a cross-namespace reference is allowed when a grant in the
// referent's namespace lists the referrer's group, kind and namespace in
// `from`, and the referent's group, kind (and name, when the grant names one)
// in `to`. Same-namespace references need no grant.

import type { ReferenceGrant } from '../../src/model.ts';

export interface Referrer {
  group: string;
  kind: string;
  namespace: string;
}

export interface Referent {
  group: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface GrantIndex {
  permits(from: Referrer, to: Referent): boolean;
}

export function createGrantIndex(grants: readonly ReferenceGrant[]): GrantIndex {
  const byNamespace = new Map<string, ReferenceGrant[]>();
  for (const grant of grants) {
    const ns = grant.metadata.namespace ?? 'default';
    const list = byNamespace.get(ns);
    if (list === undefined) byNamespace.set(ns, [grant]);
    else list.push(grant);
  }
  return {
    permits(from, to) {
      if (from.namespace === to.namespace) return true;
      for (const grant of byNamespace.get(to.namespace) ?? []) {
        const fromOk = (grant.spec.from ?? []).some(
          (f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace,
        );
        if (!fromOk) continue;
        const toOk = (grant.spec.to ?? []).some(
          (t) =>
            t.group === to.group &&
            t.kind === to.kind &&
            (t.name === undefined || t.name === '' || t.name === to.name),
        );
        if (toOk) return true;
      }
      return false;
    },
  };
}
