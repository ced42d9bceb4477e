// The notation the model's test tables are written in: a manifest as a user
// writes it (YAML), and either the fields it is accepted with (defaults
// included) or the path and message it is rejected with.
// Used by the *.test.ts files beside the schemas; not part of the model's API.

import { expect } from 'vitest';
import YAML from 'yaml';
import type { ModelIssue } from './errors.ts';
import type { KubeObject } from './object.ts';
import { validateObject } from './validate.ts';

export interface AcceptCase {
  name: string;
  yaml: string;
  /** Fields the validated object must have (a deep subset; arrays match item by item and in length). */
  accepted: Record<string, unknown>;
  /** Paths (dotted) that must be absent after validation: defaults that must not be invented. */
  absent?: string[];
}

export interface RejectCase {
  name: string;
  yaml: string;
  /** One issue the error must list, path and message exactly. */
  rejected: ModelIssue;
  code?: 'PIER_MODEL_INVALID' | 'PIER_MODEL_UNKNOWN_KIND';
}

export type ModelCase = AcceptCase | RejectCase;

export function parseYaml(yaml: string): unknown {
  return YAML.parse(yaml);
}

function lookup(object: unknown, path: string): unknown {
  let at: unknown = object;
  for (const part of path.split('.')) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Validates the case's YAML and asserts its expectation; returns the object when accepted. */
export function checkCase(c: ModelCase): KubeObject | undefined {
  const result = validateObject(parseYaml(c.yaml));
  if ('accepted' in c) {
    if (!result.ok)
      throw new Error(`expected ${c.name} to be accepted, got: ${result.error.message}`);
    expect(result.object).toMatchObject(c.accepted);
    for (const path of c.absent ?? []) expect(lookup(result.object, path), path).toBeUndefined();
    return result.object;
  }
  if (result.ok)
    throw new Error(`expected ${c.name} to be rejected at ${c.rejected.path}, but it was accepted`);
  expect(result.error.code).toBe(c.code ?? 'PIER_MODEL_INVALID');
  expect(result.error.issues).toContainEqual(c.rejected);
  return undefined;
}
