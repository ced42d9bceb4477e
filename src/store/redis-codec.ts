// How objects and changes look in Redis, both ways. Decoding never throws:
// a value that is not a well-formed object comes back as a problem string,
// so the caller can log it with its key and skip it.

import type { KindKey, KubeObject } from '../model/object.ts';
import { revisionOf } from '../model/object.ts';
import type { ChangeEvent, ChangeType } from '../store.ts';
import { StoreErrors } from './errors.ts';
import { deepFreeze, describeObject, objectProblem } from './stored-object.ts';

/**
 * The object's JSON in two parts, head and tail, such that
 * head + revision + tail is the JSON of the object with
 * metadata.resourceVersion = revision (the write script joins them).
 */
export function encodeObject(object: KubeObject): [head: string, tail: string] {
  const { apiVersion, kind, metadata, ...rest } = object as KubeObject & Record<string, unknown>;
  const { resourceVersion: _ignored, ...meta } = metadata;
  let metaJson: string;
  let restJson: string;
  try {
    metaJson = JSON.stringify(meta);
    restJson = JSON.stringify(rest);
  } catch (error) {
    throw StoreErrors.INVALID_OBJECT(
      describeObject(object),
      `not JSON-serializable: ${(error as Error).message}`,
    );
  }
  const head = `{"apiVersion":${JSON.stringify(apiVersion)},"kind":${JSON.stringify(kind)},"metadata":{"resourceVersion":"`;
  const tail = `"${metaJson === '{}' ? '}' : `,${metaJson.slice(1)}`}${restJson === '{}' ? '}' : `,${restJson.slice(1)}`}`;
  return [head, tail];
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; problem: string };

/** A stored object from its JSON, deep-frozen; or why it is not one. */
export function decodeObject(json: unknown): Decoded<KubeObject> {
  if (typeof json !== 'string') return { ok: false, problem: 'not a string' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    return { ok: false, problem: `bad JSON: ${(error as Error).message}` };
  }
  const problem = objectProblem(value);
  if (problem !== undefined) return { ok: false, problem };
  const object = value as KubeObject;
  if (revisionOf(object) === undefined)
    return { ok: false, problem: 'no valid metadata.resourceVersion' };
  return { ok: true, value: deepFreeze(object) };
}

const CHANGE_TYPES = new Set<string>(['added', 'modified', 'deleted']);

/** A stream entry's fields, as XADD wrote them: t (change type), k (kind), f (field), o (object JSON). */
export interface ChangeFields {
  type: ChangeType;
  kind: KindKey;
  field: string;
  json: string;
}

/** Reads the flat [name, value, ...] field list of a stream entry. */
export function readChangeFields(fields: unknown): Decoded<ChangeFields> {
  if (!Array.isArray(fields)) return { ok: false, problem: 'fields are not a list' };
  let type: string | undefined;
  let kind: string | undefined;
  let field: string | undefined;
  let json: string | undefined;
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const name = fields[i];
    const value = fields[i + 1];
    if (typeof value !== 'string') continue;
    if (name === 't') type = value;
    else if (name === 'k') kind = value;
    else if (name === 'f') field = value;
    else if (name === 'o') json = value;
  }
  if (type === undefined || !CHANGE_TYPES.has(type))
    return { ok: false, problem: `bad change type ${String(type)}` };
  if (kind === undefined || json === undefined)
    return { ok: false, problem: 'missing kind or object' };
  return { ok: true, value: { type: type as ChangeType, kind, field: field ?? '', json } };
}

export function decodeChange(fields: ChangeFields, revision: number): Decoded<ChangeEvent> {
  const decoded = decodeObject(fields.json);
  if (!decoded.ok) return decoded;
  return { ok: true, value: Object.freeze({ type: fields.type, object: decoded.value, revision }) };
}

/** The revision of a stream id `<revision>-0`, or undefined when it is not one. */
export function revisionOfId(id: unknown): number | undefined {
  if (typeof id !== 'string') return undefined;
  const match = /^([0-9]{1,16})-0$/.exec(id);
  if (match === null) return undefined;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}
