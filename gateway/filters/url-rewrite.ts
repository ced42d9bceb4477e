// URLRewrite: the Host and/or path sent upstream. The query is kept as it is.

import type { FilterStep } from '../filters.ts';
import { modifyPath } from './path-modifier.ts';

export const urlRewriteStep: FilterStep<'urlRewrite'> = (config, _request, decision, context) => {
  if (config.hostname !== undefined) decision.host = config.hostname;
  if (config.path !== undefined)
    decision.path = modifyPath(decision.path, config.path, context.prefix);
  return false;
};
