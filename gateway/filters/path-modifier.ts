// The path half of URLRewrite and RequestRedirect: ReplaceFullPath sets the
// path, ReplacePrefixMatch swaps the prefix the rule matched.

import type { PathModifier } from '../filters.ts';
import { replacePrefix } from '../router/path.ts';

/** The modified path; `prefix` is the rule's matched PathPrefix (undefined when it had none). */
export function modifyPath(
  path: string,
  modifier: PathModifier,
  prefix: string | undefined,
): string {
  if (modifier.type === 'ReplaceFullPath') return modifier.value;
  // The translator only accepts ReplacePrefixMatch on rules with one PathPrefix match.
  if (prefix === undefined) return path;
  return replacePrefix(path, prefix, modifier.value);
}
