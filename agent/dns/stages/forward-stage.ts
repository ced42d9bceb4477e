// The last stage: names nobody answered go upstream (recursor.ts) for
// clients allowed to recurse; everyone else is REFUSED.

import type { Recursor } from '../recursor.ts';
import { errorReply } from '../reply.ts';
import type { Handler, Stage } from '../stage.ts';
import { Rcode } from '../wire.ts';

export function createForwardStage(recursor: Recursor | undefined): Stage {
  return {
    name: 'forward',
    wrap(): Handler {
      return (q) => {
        if (!q.recursion || recursor === undefined) return errorReply(q, Rcode.REFUSED, false);
        return recursor.resolve(q);
      };
    },
  };
}
