// The query pipeline: an explicit, ordered list of stages (CoreDNS's
// plugin.cfg), each wrapping the next one. Composition happens once, when
// the server starts, so a query costs one function call per stage and no
// allocation for the chain itself.
//
// A stage answers (a reply Buffer), drops (null), or passes the query to
// `next`. Stages answer synchronously when they can; only work that waits
// on the network returns a Promise.

import type { Query } from './wire.ts';

/** A reply to send, or null to send nothing. */
export type Reply = Buffer | null;

export type Handler = (q: Query) => Reply | Promise<Reply>;

export interface Stage {
  /** As in the stage list: `metrics`, `kubernetes`, `forward`... */
  readonly name: string;
  wrap(next: Handler): Handler;
}

/** Chains stages in order: the first sees the query first and the reply last. */
export function compose(stages: readonly Stage[], last: Handler): Handler {
  let handler = last;
  for (let i = stages.length - 1; i >= 0; i--) handler = stages[i]!.wrap(handler);
  return handler;
}
