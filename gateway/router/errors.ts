// The router's error table (convention 9). Translation reports bad objects as
// route conditions and never throws; these are for a RouteTableSpec that did
// not come from the translator and cannot be compiled.

import { errorTable } from '../../src/errors.ts';

export const RouterErrors = errorTable('GW_ROUTER', {
  INVALID_REGEX: (where: string, pattern: string, reason: string) =>
    `${where}: regular expression ${JSON.stringify(pattern)} does not compile (${reason}); fix the route's match`,
  INVALID_SPEC: (where: string, problem: string) =>
    `${where}: ${problem}; route tables come from gateway/translate, which checks this`,
});
