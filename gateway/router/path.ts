// Path matching and rewriting, element by element as the Gateway API and
// Ingress define PathPrefix: `/foo` matches `/foo`, `/foo/` and `/foo/bar`,
// never `/foobar`; a trailing `/` on the prefix is ignored.

const SLASH = 47;

/** A PathPrefix value as matched: without trailing slashes; `/` becomes ''. */
export function normalizePrefix(value: string): string {
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === SLASH) end -= 1;
  return end === value.length ? value : value.slice(0, end);
}

/** Whether `path` lies under `prefix` (already normalized). */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix === '') return true;
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === SLASH;
}

/**
 * ReplacePrefixMatch: swaps the matched prefix of `path` for `replacement`,
 * keeping what follows it; the spec's table (HTTPPathModifier) is the test.
 * `path` must lie under `prefix` (the rule matched it); when it does not, it
 * is returned as it is.
 */
export function replacePrefix(path: string, prefix: string, replacement: string): string {
  const matched = normalizePrefix(prefix);
  if (!prefixMatches(matched, path)) return path;
  const result = normalizePrefix(replacement) + path.slice(matched.length);
  return result === '' ? '/' : result.charCodeAt(0) === SLASH ? result : `/${result}`;
}
