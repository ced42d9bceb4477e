// RequestHeaderModifier and ResponseHeaderModifier: the decision carries the
// edits (they are constant per rule, so nothing is copied per request), and
// applyHeaderEdits() performs them on a flat header list for the glue.
//
// Semantics (HTTPHeaderFilter): `set` replaces every value of the header,
// `add` appends to the existing value with a comma (`foo` + `bar,baz` ->
// `foo,bar,baz`) or adds the header, `remove` drops it. Names compare
// case-insensitively; a name appears in one list only (the translator
// refuses the rule otherwise), so the order of the three does not matter.

import type { FilterStep, HeaderEdits } from '../filters.ts';

export const NO_HEADER_EDITS: HeaderEdits = Object.freeze({
  set: Object.freeze([]),
  add: Object.freeze([]),
  remove: Object.freeze([]),
}) as HeaderEdits;

export const requestHeaderStep: FilterStep<'requestHeaderModifier'> = (
  edits,
  _request,
  decision,
) => {
  decision.requestHeaders = edits;
  return false;
};

export const responseHeaderStep: FilterStep<'responseHeaderModifier'> = (
  edits,
  _request,
  decision,
) => {
  decision.responseHeaders = edits;
  return false;
};

export function isEmptyEdits(edits: HeaderEdits): boolean {
  return edits.set.length === 0 && edits.add.length === 0 && edits.remove.length === 0;
}

/**
 * Applies edits to a flat header list (`[name, value, name, value...]`, as
 * node's rawHeaders) and returns a new list; the input is not modified.
 * Repeated headers stay repeated unless `set` or `add` touch them; `add`
 * joins an existing header's values into one line before appending.
 */
export function applyHeaderEdits(headers: readonly string[], edits: HeaderEdits): string[] {
  if (isEmptyEdits(edits)) return headers.slice();
  const drop = new Set<string>(edits.remove);
  for (const h of edits.set) drop.add(h.name.toLowerCase());
  const additions = new Map<
    string,
    { name: string; value: string; existing: string | undefined }
  >();
  for (const h of edits.add)
    additions.set(h.name.toLowerCase(), { name: h.name, value: h.value, existing: undefined });
  const out: string[] = [];
  for (let i = 0; i + 1 < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    const lower = name.toLowerCase();
    if (drop.has(lower)) continue;
    const addition = additions.get(lower);
    if (addition !== undefined) {
      addition.existing = addition.existing === undefined ? value : `${addition.existing},${value}`;
      continue;
    }
    out.push(name, value);
  }
  for (const h of edits.set) out.push(h.name, h.value);
  for (const a of additions.values()) {
    out.push(a.name, a.existing === undefined ? a.value : `${a.existing},${a.value}`);
  }
  return out;
}
