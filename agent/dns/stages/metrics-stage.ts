// Counts every reply by query type and rcode, and every drop (convention:
// first in the stage list, so it sees what the client gets).

import type { Handler, Reply, Stage } from '../stage.ts';
import type { DnsStats } from '../stats.ts';
import type { Query } from '../wire.ts';

export function createMetricsStage(stats: DnsStats): Stage {
  const count = (q: Query, reply: Reply) => {
    if (reply === null) stats.countDrop('ratelimit');
    else stats.countReply(q.qtype, reply[3]! & 0x0f);
    return reply;
  };
  return {
    name: 'metrics',
    wrap(next: Handler): Handler {
      return (q) => {
        const reply = next(q);
        if (reply instanceof Promise) return reply.then((r) => count(q, r));
        return count(q, reply);
      };
    },
  };
}
