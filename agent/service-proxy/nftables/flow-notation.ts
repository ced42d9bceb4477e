// The notation of the proxy's packet-flow tables (convention 7):
//
//   pod 10.244.1.5 -> 10.96.0.10:80/tcp
//   node 192.168.77.1 -> 10.96.0.10:80/tcp
//   outside 192.168.77.254 -> 192.168.77.1:30080/tcp
//
// and what the first packet of such a connection meets, outcomes by odds:
//
//   10.244.2.3:8080 (1/2), 10.244.3.3:8080 (1/2)
//   masq 10.244.2.3:8080
//   reject tcp-reset | reject icmp | drop | untouched
//
// Used by the flow tests and by `pier`'s debug output; parse errors name the
// line so a typo in a table is found at once.

import type { FlowOutcome, FlowPacket, Source } from './evaluate.ts';
import type { L4Proto } from './model.ts';

const FLOW =
  /^(pod|node|outside)\s+(\d+\.\d+\.\d+\.\d+)\s+->\s+(\d+\.\d+\.\d+\.\d+):(\d+)\/(tcp|udp|sctp)$/;

export function parseFlow(text: string): FlowPacket {
  const m = FLOW.exec(text.trim());
  if (m === null)
    throw new Error(
      `not a flow: ${JSON.stringify(text)} (write "pod 10.244.1.5 -> 10.96.0.10:80/tcp")`,
    );
  return {
    from: m[1] as Source,
    src: m[2] as string,
    dst: m[3] as string,
    port: Number(m[4]),
    proto: m[5] as L4Proto,
  };
}

/** A probability as the smallest fraction within 1e-9 of it. */
export function fraction(p: number): string {
  for (let d = 1; d <= 10_000; d++) {
    const n = Math.round(p * d);
    if (Math.abs(n / d - p) < 1e-9) return `${n}/${d}`;
  }
  return p.toFixed(6);
}

function outcomeText(o: FlowOutcome): string {
  if (o.verdict === 'drop') return 'drop';
  if (o.verdict === 'reject') return `reject ${o.rejectWith ?? 'icmp'}`;
  const target = o.to ?? 'untouched';
  return o.masquerade ? `masq ${target}` : target;
}

/** Outcomes in the table's notation; odds shown when there is more than one. */
export function formatOutcomes(outcomes: readonly FlowOutcome[]): string {
  const merged = new Map<string, number>();
  for (const o of outcomes) {
    const text = outcomeText(o);
    merged.set(text, (merged.get(text) ?? 0) + o.probability);
  }
  if (merged.size === 1) return [...merged.keys()][0] as string;
  return [...merged]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([text, p]) => `${text} (${fraction(p)})`)
    .join(', ');
}
