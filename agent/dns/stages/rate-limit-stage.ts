// Response-rate limiting for UDP (off by default): a token bucket per
// client network (/24 for IPv4, /56 for IPv6), refilled at
// `responsesPerSecond`. Over the limit a query is dropped, except every
// `slip`-th one, which gets an empty truncated reply so a real client
// retries over TCP, where spoofed sources cannot follow (BIND's RRL slip).
// TCP is never limited. Each worker limits on its own.

import { isIPv6 } from 'node:net';
import { errorReply } from '../reply.ts';
import type { Handler, Stage } from '../stage.ts';
import { Rcode } from '../wire.ts';

export interface RateLimitOptions {
  responsesPerSecond: number;
  slip: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  last: number;
  dropped: number;
}

const MAX_BUCKETS = 100_000;

export function clientNetwork(client: string): string {
  if (!isIPv6(client)) return client.slice(0, client.lastIndexOf('.'));
  // The first 56 bits: three full groups and half the fourth, of the expanded address.
  const halves = client.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [
    ...head,
    ...new Array<string>(Math.max(0, 8 - head.length - tail.length)).fill('0'),
    ...tail,
  ];
  const fourth = Number.parseInt(groups[3] ?? '0', 16) & 0xff00;
  return `${groups.slice(0, 3).join(':')}:${fourth.toString(16)}`;
}

export function createRateLimitStage(options: RateLimitOptions): Stage {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, Bucket>();
  const rate = options.responsesPerSecond;
  return {
    name: 'ratelimit',
    wrap(next: Handler): Handler {
      return (q) => {
        if (q.transport !== 'udp') return next(q);
        const key = clientNetwork(q.client);
        const t = now();
        let b = buckets.get(key);
        if (b === undefined) {
          if (buckets.size >= MAX_BUCKETS) buckets.clear();
          b = { tokens: rate, last: t, dropped: 0 };
          buckets.set(key, b);
        } else {
          b.tokens = Math.min(rate, b.tokens + ((t - b.last) / 1000) * rate);
          b.last = t;
        }
        if (b.tokens >= 1) {
          b.tokens -= 1;
          return next(q);
        }
        b.dropped++;
        if (options.slip > 0 && b.dropped % options.slip === 0) {
          const reply = errorReply(q, Rcode.NOERROR, q.recursion);
          reply[2]! |= 0x02;
          return reply;
        }
        return null;
      };
    },
  };
}
