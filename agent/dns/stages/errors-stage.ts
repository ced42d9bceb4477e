// Turns a failure in a later stage into SERVFAIL for that query and a log
// line, so no query (and no malformed input) can take the server down.

import { errorReply } from '../reply.ts';
import type { Handler, Stage } from '../stage.ts';
import { type Query, Rcode } from '../wire.ts';

export function createErrorsStage(onError: (error: unknown, q: Query) => void): Stage {
  return {
    name: 'errors',
    wrap(next: Handler): Handler {
      const fail = (q: Query, error: unknown) => {
        onError(error, q);
        return errorReply(q, Rcode.SERVFAIL, q.recursion);
      };
      return (q) => {
        try {
          const reply = next(q);
          if (reply instanceof Promise) return reply.catch((error: unknown) => fail(q, error));
          return reply;
        } catch (error) {
          return fail(q, error);
        }
      };
    },
  };
}
