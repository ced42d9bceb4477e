// Which UDP conntrack entries a change made stale (kube-proxy's rules). Pure.
//
// - An endpoint that left a UDP Service port: the entries DNATed to it from
//   the port's ClusterIP, external IPs and NodePort go, so the next datagram
//   of a long-lived client is balanced again instead of vanishing.
// - A UDP Service port that had no endpoints and has some now: the entries
//   made while it had none go (they lead nowhere, and would keep the client
//   there for as long as it keeps sending).

import type { ConntrackFilter } from './conntrack.ts';
import type { ServicePortInfo } from './service-ports.ts';

const endpointIps = (p: ServicePortInfo) =>
  new Set([...p.clusterEndpoints, ...p.localEndpoints].map((e) => e.ip));

export function staleConntrack(
  before: readonly ServicePortInfo[],
  after: readonly ServicePortInfo[],
): ConntrackFilter[] {
  const out: ConntrackFilter[] = [];
  const seen = new Set<string>();
  const add = (filter: ConntrackFilter) => {
    const id = JSON.stringify(filter);
    if (seen.has(id)) return;
    seen.add(id);
    out.push(filter);
  };
  const next = new Map(after.map((p) => [p.key, p]));
  for (const old of before) {
    if (old.proto !== 'udp') continue;
    const now = next.get(old.key);
    const staying = now === undefined ? new Set<string>() : endpointIps(now);
    for (const ip of endpointIps(old)) {
      if (staying.has(ip)) continue;
      if (old.clusterIP !== undefined)
        add({ proto: 'udp', origDst: old.clusterIP, origPortDst: old.port, dstNat: ip });
      for (const ext of old.externalIPs)
        add({ proto: 'udp', origDst: ext, origPortDst: old.port, dstNat: ip });
      if (old.nodePort !== undefined) add({ proto: 'udp', origPortDst: old.nodePort, dstNat: ip });
    }
  }
  const previous = new Map(before.map((p) => [p.key, p]));
  for (const now of after) {
    if (now.proto !== 'udp' || now.clusterEndpoints.length === 0) continue;
    const old = previous.get(now.key);
    if (old !== undefined && old.clusterEndpoints.length > 0) continue;
    if (now.clusterIP !== undefined)
      add({ proto: 'udp', origDst: now.clusterIP, origPortDst: now.port });
    for (const ext of now.externalIPs) add({ proto: 'udp', origDst: ext, origPortDst: now.port });
    if (now.nodePort !== undefined) add({ proto: 'udp', origPortDst: now.nodePort });
  }
  return out;
}
