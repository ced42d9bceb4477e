// validateObject: raw manifest data (parsed YAML or JSON, or a Kubernetes API
// object) in, a typed object with the API server's defaults applied out, or a
// ModelError that names every problem. It never throws and never mutates its
// input; fields it does not know pass through untouched.

import type { z } from 'zod';
import { invalidObject, type ModelError, type ModelIssue, unknownKind } from './errors.ts';
import { type KubeObject, kindKey } from './object.ts';
import { kindInfoOf } from './registry.ts';

export type ValidationResult = { ok: true; object: KubeObject } | { ok: false; error: ModelError };

/** The namespace a namespaced object without one is put in (as kubectl does). */
export const DEFAULT_NAMESPACE = 'default';

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `spec.ports[0].targetPort`; map keys that are not identifiers in brackets: `data[tls.crt]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else {
      const s = String(segment);
      out += IDENTIFIER.test(s) ? (out === '' ? s : `.${s}`) : `[${s}]`;
    }
  }
  return out;
}

function typeName(input: unknown): string {
  if (input === null) return 'null';
  if (input === undefined) return 'undefined';
  if (Array.isArray(input)) return 'a list';
  return typeof input === 'object' ? 'an object' : `a ${typeof input}`;
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean (true or false)',
  object: 'an object',
  array: 'a list',
  record: 'an object',
};

/** zod's own messages, reworded as the API server's; schema-level messages take precedence over these. */
function errorMap(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required value';
      return `must be ${EXPECTED[issue.expected] ?? issue.expected}, not ${typeName(issue.input)}`;
    case 'invalid_value':
      return `unsupported value ${JSON.stringify(issue.input)}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (issue.origin === 'array') return `must have at least ${issue.minimum} items`;
      if (issue.origin === 'string') return `must be at least ${issue.minimum} characters long`;
      return `must be at least ${issue.minimum}`;
    case 'too_big':
      if (issue.origin === 'array') return `must have at most ${issue.maximum} items`;
      if (issue.origin === 'string') return `must be no more than ${issue.maximum} characters`;
      return `must be at most ${issue.maximum}`;
    case 'invalid_union':
      return 'does not match any allowed form';
    default:
      return undefined;
  }
}

/** A JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function validateObject(raw: unknown): ValidationResult {
  if (!isPlainObject(raw)) {
    return {
      ok: false,
      error: invalidObject({ kind: '' }, [
        { path: '', message: `must be an object, not ${typeName(raw)}` },
      ]),
    };
  }
  const apiVersion = readString(raw.apiVersion);
  const kind = readString(raw.kind);
  const meta = isPlainObject(raw.metadata) ? raw.metadata : undefined;
  const subject = {
    kind: kind ?? '',
    apiVersion,
    namespace: readString(meta?.namespace),
    name: readString(meta?.name),
  };

  const missing: ModelIssue[] = [];
  if (apiVersion === undefined) missing.push({ path: 'apiVersion', message: 'Required value' });
  if (kind === undefined) missing.push({ path: 'kind', message: 'Required value' });
  if (apiVersion === undefined || kind === undefined)
    return { ok: false, error: invalidObject(subject, missing) };

  const info = kindInfoOf(kindKey(apiVersion, kind));
  if (info === undefined) {
    return {
      ok: false,
      error: unknownKind(subject, `unknown kind ${kind} in ${apiVersion}: Pier does not handle it`),
    };
  }
  if (!info.versions.includes(apiVersion)) {
    return {
      ok: false,
      error: unknownKind(
        subject,
        `${kind} is not served as ${apiVersion}; use ${info.versions.join(' or ')}`,
        'apiVersion',
      ),
    };
  }

  // Scope as the API server sets it: a namespaced object gets one, a cluster-scoped one loses it.
  let input: Record<string, unknown> = raw;
  if (meta !== undefined) {
    const { namespace, ...rest } = meta;
    if (info.namespaced) {
      const ns =
        namespace === undefined || namespace === null || namespace === ''
          ? DEFAULT_NAMESPACE
          : namespace;
      input = { ...raw, metadata: { ...rest, namespace: ns } };
      subject.namespace = typeof ns === 'string' ? ns : subject.namespace;
    } else {
      input = { ...raw, metadata: rest };
      subject.namespace = undefined;
    }
  }

  let result: z.ZodSafeParseResult<unknown>;
  try {
    result = info.schema.safeParse(input, { error: errorMap });
  } catch (error) {
    // zod does not throw on data; a getter or a cycle in hand-built input might.
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      error: invalidObject(subject, [{ path: '', message: `cannot be read: ${message}` }]),
    };
  }
  if (!result.success) {
    const issues = result.error.issues.map((i) => ({
      path: formatPath(i.path),
      message: i.message,
    }));
    return { ok: false, error: invalidObject(subject, issues) };
  }
  return { ok: true, object: result.data as KubeObject };
}

/** validateObject for callers that treat an invalid object as a bug: returns the object or throws the ModelError. */
export function parseObject(raw: unknown): KubeObject {
  const result = validateObject(raw);
  if (!result.ok) throw result.error;
  return result.object;
}
