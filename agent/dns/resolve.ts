// The pure core of the cluster zone: resolve(question, zone) -> answer.
//
// Authoritative answers for names under the zone origin (RFC 1034 4.3.2 as
// it applies to a zone without delegations or wildcards), plus the PTR
// names the zone holds. Names it is not responsible for return undefined,
// so the next stage (the forwarder) may take them.
//
// - A name that does not exist: NXDOMAIN, SOA in the authority section.
// - A name that exists without records of the type (or an empty
//   non-terminal): NOERROR, no answer, SOA in the authority section. The
//   SOA's TTL equals its MINIMUM, so it is the negative-caching TTL as is
//   (RFC 2308 section 3).
// - A CNAME is followed inside the zone; a target outside it is left for
//   the caller to chase (`chase`), as CoreDNS resolves ExternalName targets.
// - SRV answers carry their targets' addresses in the additional section.

import { dashedIP, undashIP } from './addresses.ts';
import type { ResourceRecord, SrvData } from './message.ts';
import { Rcode, RRClass, RRType } from './wire.ts';
import type { Zone, ZoneNode } from './zone.ts';

export interface ZoneQuestion {
  /** Lowercase, fully qualified presentation name. */
  name: string;
  type: number;
}

export interface ZoneAnswer {
  rcode: number;
  answer: ResourceRecord[];
  authority: ResourceRecord[];
  additional: ResourceRecord[];
  /** A CNAME target outside the zone, for the caller to resolve and append. */
  chase?: string;
}

const MAX_CNAME_CHAIN = 8;

export function resolve(question: ZoneQuestion, zone: Zone): ZoneAnswer | undefined {
  const { name, type } = question;
  const inZone = name === zone.origin || name.endsWith(`.${zone.origin}`) || zone.origin === '.';
  if (!inZone) {
    const node = zone.nodes.get(name);
    if (node === undefined) return undefined;
    return { rcode: Rcode.NOERROR, answer: recordsOf(node, type), authority: [], additional: [] };
  }

  const answer: ResourceRecord[] = [];
  let current = name;
  for (let hops = 0; ; hops++) {
    const node = lookup(current, zone);
    if (node === undefined) {
      return { rcode: Rcode.NXDOMAIN, answer, authority: [zone.soa], additional: [] };
    }
    const cname = node.rrsets.get(RRType.CNAME);
    if (cname !== undefined && type !== RRType.CNAME && type !== RRType.ANY) {
      answer.push(...cname);
      const target = cname[0]!.data as string;
      const targetInZone = target === zone.origin || target.endsWith(`.${zone.origin}`);
      if (!targetInZone)
        return { rcode: Rcode.NOERROR, answer, authority: [], additional: [], chase: target };
      if (hops >= MAX_CNAME_CHAIN)
        return { rcode: Rcode.NOERROR, answer, authority: [], additional: [] };
      current = target;
      continue;
    }
    const records = recordsOf(node, type);
    if (records.length === 0) {
      return { rcode: Rcode.NOERROR, answer, authority: [zone.soa], additional: [] };
    }
    answer.push(...records);
    return {
      rcode: Rcode.NOERROR,
      answer,
      authority: [],
      additional: additionalFor(records, zone),
    };
  }
}

function recordsOf(node: ZoneNode, type: number): ResourceRecord[] {
  if (type !== RRType.ANY) return node.rrsets.get(type) ?? [];
  const all: ResourceRecord[] = [];
  for (const set of node.rrsets.values()) all.push(...set);
  return all;
}

/** The node of a name; in insecure pod mode also the synthesized `a-b-c-d.<ns>.pod.<zone>`. */
function lookup(name: string, zone: Zone): ZoneNode | undefined {
  const node = zone.nodes.get(name);
  if (node !== undefined || zone.pods !== 'insecure') return node;
  const podZone = `.pod.${zone.origin}`;
  if (!name.endsWith(podZone)) return undefined;
  const labels = name.slice(0, -podZone.length).split('.');
  if (labels.length === 1 && labels[0] !== '') return { rrsets: new Map(), refs: 1 };
  if (labels.length !== 2) return undefined;
  const ip = undashIP(labels[0]!);
  // Only the canonical spelling names the pod, so one address has one name.
  if (ip === undefined || dashedIP(ip) !== labels[0]) return undefined;
  const type = ip.includes(':') ? RRType.AAAA : RRType.A;
  const record: ResourceRecord = { name, type, class: RRClass.IN, ttl: zone.ttl, data: ip };
  return { rrsets: new Map([[type, [record]]]), refs: 1 };
}

function additionalFor(records: ResourceRecord[], zone: Zone): ResourceRecord[] {
  const additional: ResourceRecord[] = [];
  const done = new Set<string>();
  for (const r of records) {
    let target: string | undefined;
    if (r.type === RRType.SRV) target = (r.data as SrvData).target;
    else if (r.type === RRType.NS) target = r.data as string;
    if (target === undefined || done.has(target)) continue;
    done.add(target);
    const node = zone.nodes.get(target);
    if (node === undefined) continue;
    additional.push(...(node.rrsets.get(RRType.A) ?? []), ...(node.rrsets.get(RRType.AAAA) ?? []));
  }
  return additional;
}
