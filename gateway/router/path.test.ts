import { describe, expect, it } from 'vitest';
import { normalizePrefix, prefixMatches, replacePrefix } from './path.ts';

// PathPrefix, as HTTPPathMatch defines it: `prefix | request path | matches`.
const PREFIX_CASES: [string, string, boolean][] = [
  ['/abc', '/abc', true],
  ['/abc', '/abc/', true],
  ['/abc', '/abc/def', true],
  ['/abc', '/abcd', false],
  ['/abc/', '/abc', true],
  ['/abc/', '/abc/def', true],
  ['/abc/', '/abcd', false],
  ['/', '/anything', true],
  ['/', '/', true],
  ['/abc/def', '/abc', false],
  ['/abc', '/ABC', false],
];

describe('PathPrefix matching', () => {
  it.each(PREFIX_CASES)('prefix %s, path %s -> %s', (prefix, path, expected) => {
    expect(prefixMatches(normalizePrefix(prefix), path)).toBe(expected);
  });
});

// ReplacePrefixMatch, the table in the spec's HTTPPathModifier:
// request path | prefix match | replace prefix | modified path
const REPLACE_CASES: [string, string, string, string][] = [
  ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
  ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
  ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
  ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
  ['/foo', '/foo', '/xyz', '/xyz'],
  ['/foo/', '/foo', '/xyz', '/xyz/'],
  ['/foo/bar', '/foo', '', '/bar'],
  ['/foo/', '/foo', '', '/'],
  ['/foo', '/foo', '', '/'],
  ['/foo/', '/foo', '/', '/'],
  ['/foo', '/foo', '/', '/'],
  // Beyond the table: the root prefix, and a path the prefix does not cover.
  ['/foo', '/', '/xyz', '/xyz/foo'],
  ['/other', '/foo', '/xyz', '/other'],
];

describe('ReplacePrefixMatch', () => {
  it.each(REPLACE_CASES)(
    '%s with prefix %s replaced by %j -> %s',
    (path, prefix, replacement, expected) => {
      expect(replacePrefix(path, prefix, replacement)).toBe(expected);
    },
  );
});
