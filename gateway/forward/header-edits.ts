// Header edits decided by the router and filters (the Gateway API's
// RequestHeaderModifier / ResponseHeaderModifier: set, add, remove), compiled
// once per route rule so that applying them is part of the forwarder's
// single pass over the headers: names whose incoming values go (`drop`),
// and flat name/value pairs appended afterwards (`append`).
//
// Several edit sets (rule-level, then backend-level filters) compose in
// order, as if applied one after the other:
//   set v   -> incoming dropped, values [v]
//   add v   -> incoming kept, v appended
//   remove  -> incoming dropped, values []

export interface HeaderValue {
  name: string;
  value: string;
}

export interface HeaderEdits {
  set?: readonly HeaderValue[];
  add?: readonly HeaderValue[];
  remove?: readonly string[];
}

export interface CompiledHeaderEdits {
  /** Lowercase names whose incoming values are not passed on. */
  readonly drop: ReadonlySet<string>;
  /** Flat [name, value, ...] appended after the passed-on headers. */
  readonly append: readonly string[];
  readonly empty: boolean;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible characters, spaces and tabs, obs-text; never CR, LF or NUL.
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

export const noHeaderEdits: CompiledHeaderEdits = Object.freeze({
  drop: new Set<string>(),
  append: Object.freeze([]) as readonly string[],
  empty: true,
});

function checkName(name: string): string {
  if (!TOKEN.test(name))
    throw new RangeError(`header name ${JSON.stringify(name)} is not a valid HTTP token`);
  return name.toLowerCase();
}

function checkValue(name: string, value: string): void {
  if (!FIELD_VALUE.test(value)) {
    throw new RangeError(
      `header ${name}: value ${JSON.stringify(value)} contains a control character`,
    );
  }
}

/** Compiles edit sets applied in order; throws a RangeError naming a bad header. */
export function compileHeaderEdits(
  edits: HeaderEdits | readonly (HeaderEdits | undefined)[] | undefined,
): CompiledHeaderEdits {
  const list = edits === undefined ? [] : Array.isArray(edits) ? edits : [edits as HeaderEdits];
  // lowercase name -> the name as written last, incoming dropped?, values
  const state = new Map<string, { name: string; drop: boolean; values: string[] }>();
  const entry = (name: string) => {
    const lower = checkName(name);
    let e = state.get(lower);
    if (e === undefined) {
      e = { name, drop: false, values: [] };
      state.set(lower, e);
    }
    return e;
  };
  for (const edit of list as readonly (HeaderEdits | undefined)[]) {
    if (edit === undefined) continue;
    // Within one set: set, then add, then remove (the spec leaves the order
    // open; a name both added and removed in one filter ends up removed).
    for (const { name, value } of edit.set ?? []) {
      checkValue(name, value);
      const e = entry(name);
      e.name = name;
      e.drop = true;
      e.values = [value];
    }
    for (const { name, value } of edit.add ?? []) {
      checkValue(name, value);
      const e = entry(name);
      e.values.push(value);
    }
    for (const name of edit.remove ?? []) {
      const e = entry(name);
      e.drop = true;
      e.values = [];
    }
  }
  const drop = new Set<string>();
  const append: string[] = [];
  for (const [lower, e] of state) {
    if (e.drop) drop.add(lower);
    for (const value of e.values) append.push(e.name, value);
  }
  if (drop.size === 0 && append.length === 0) return noHeaderEdits;
  return Object.freeze({ drop, append: Object.freeze(append), empty: false });
}
