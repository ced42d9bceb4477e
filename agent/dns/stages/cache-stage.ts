// Fresh cached upstream answers, synchronously; misses go on to `forward`.
// Only for clients allowed to recurse (the acl stage decides).

import type { Recursor } from '../recursor.ts';
import type { Handler, Stage } from '../stage.ts';

export function createCacheStage(recursor: Recursor): Stage {
  return {
    name: 'cache',
    wrap(next: Handler): Handler {
      return (q) => {
        if (!q.recursion) return next(q);
        const entry = recursor.fresh(q);
        return entry === undefined ? next(q) : recursor.reply(q, entry);
      };
    },
  };
}
