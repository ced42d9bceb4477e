import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../model/object.ts';
import { decodeObject, encodeObject, readChangeFields, revisionOfId } from './redis-codec.ts';

// What the Lua scripts do with a stored value: the first "resourceVersion":"<digits>" is the revision.
const luaRevisionOf = (json: string) => /"resourceVersion":"(\d+)"/.exec(json)?.[1];

const objects: [string, KubeObject][] = [
  ['minimal', { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' } }],
  [
    'full',
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'r', namespace: 'ns', labels: { a: 'b' }, resourceVersion: '77' },
      spec: { rules: [], empty: {}, n: 1.25 },
      status: { x: null },
    } as KubeObject,
  ],
  [
    'hostile strings',
    {
      apiVersion: 'v1"resourceVersion":"5"',
      kind: '"resourceVersion":"6"',
      metadata: { name: 'x', annotations: { '"resourceVersion":"7"': '"resourceVersion":"8"' } },
      spec: { resourceVersion: '9', text: '\\"resourceVersion\\":\\"10\\"' },
    } as KubeObject,
  ],
];

describe('encodeObject', () => {
  it.each(objects)(
    '%s: head + revision + tail is the object stamped with the revision',
    (_name, object) => {
      const [head, tail] = encodeObject(object);
      const json = `${head}123${tail}`;
      const expected = JSON.parse(JSON.stringify(object));
      expected.metadata.resourceVersion = '123';
      expect(JSON.parse(json)).toEqual(expected);
      expect(luaRevisionOf(json)).toBe('123');
      const decoded = decodeObject(json);
      expect(decoded.ok && decoded.value).toEqual(expected);
    },
  );

  it('rejects what JSON cannot hold', () => {
    const object = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { big: 1n } };
    expect(() => encodeObject(object as unknown as KubeObject)).toThrow(/not JSON-serializable/);
  });
});

describe('decodeObject', () => {
  it.each([
    ['not json', /bad JSON/],
    ['[]', /not an object/],
    ['{"apiVersion":"v1","kind":"Node","metadata":{}}', /metadata.name/],
    ['{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"}}', /resourceVersion/],
    [
      '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n","resourceVersion":"x"}}',
      /resourceVersion/,
    ],
  ])('%s -> %s', (json, problem) => {
    const decoded = decodeObject(json);
    expect(decoded.ok).toBe(false);
    expect(!decoded.ok && decoded.problem).toMatch(problem);
  });

  it('freezes what it returns', () => {
    const decoded = decodeObject(
      '{"apiVersion":"v1","kind":"Node","metadata":{"name":"n","resourceVersion":"1"}}',
    );
    expect(decoded.ok && Object.isFrozen(decoded.value.metadata)).toBe(true);
  });
});

describe('stream entries', () => {
  it('reads the fields XADD wrote', () => {
    expect(readChangeFields(['t', 'added', 'k', 'Node', 'f', 'n', 'o', '{}'])).toEqual({
      ok: true,
      value: { type: 'added', kind: 'Node', field: 'n', json: '{}' },
    });
    expect(readChangeFields(['t', 'renamed', 'k', 'Node', 'o', '{}']).ok).toBe(false);
    expect(readChangeFields(['t', 'added']).ok).toBe(false);
    expect(readChangeFields('junk').ok).toBe(false);
  });

  it.each([
    ['42-0', 42],
    ['1-0', 1],
    ['0-0', undefined],
    ['1700000000000-3x', undefined],
    ['5-1', undefined],
    ['5', undefined],
    [7, undefined],
  ])('revision of id %j is %j', (id, revision) => {
    expect(revisionOfId(id)).toBe(revision);
  });
});
