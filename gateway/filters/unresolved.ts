// A filter Pier cannot run (an ExtensionRef to a kind it does not know). The
// spec: such a filter MUST NOT be skipped; the requests it would have
// processed get an error response instead.

import type { FilterStep } from '../filters.ts';

export const unresolvedStep: FilterStep<'unresolved'> = (config, _request, decision) => {
  decision.action = 'respond';
  decision.status = config.status;
  return true;
};
