// The cluster zone, built from Services, EndpointSlices, Pods and Namespaces
// (the Kubernetes DNS-Based Service Discovery specification, schema 1.1.0).
//
// The zone is the union of fragments, one per source: the apex, each
// Namespace, each Service (with its EndpointSlices and the pods that name
// themselves under it), each Pod (verified pod records). A fragment is
// computed purely from its objects; the index (createZoneIndex) swaps one
// fragment for its new version and reports the names whose answers
// changed, so a change to one Service costs that Service, not the cluster.
// buildZone computes every fragment from scratch: the full resync, and the
// tests' entry point. Both give the same zone.
//
// The index is keyed by lowercase presentation name, with the records by
// type. Names that only have descendants (`bar.svc.cluster.local.`,
// `_tcp.foo.bar.svc...`) are present without records: empty non-terminals,
// answered NOERROR/NODATA. Reverse names (PTR) sit in the same index without
// their ancestors: the cluster is not authoritative for the reverse zones.
//
// An object that cannot be read (a hand-written manifest missing a field)
// costs its own fragment only; the reason is kept in `problems`.

import {
  type EndpointSlice,
  type Namespace,
  type Pod,
  SERVICE_NAME_LABEL,
  type Service,
} from '../../src/model.ts';
import { canonicalIP, dashedIP, reverseName } from './addresses.ts';
import type { ResourceRecord, SoaData, SrvData } from './message.ts';
import { RRClass, RRType } from './wire.ts';

export const DNS_SCHEMA_VERSION = '1.1.0';

export type PodRecords = 'disabled' | 'insecure' | 'verified';

export interface ZoneOptions {
  /** The cluster domain, without trailing dot: `cluster.local`. */
  domain: string;
  /** TTL of every record, and the negative-answer TTL (seconds). */
  ttl: number;
  /** `a-b-c-d.<ns>.pod.<domain>` records: off, for any address, or only for existing pods. */
  pods: PodRecords;
  /** The SOA serial. The zone is never transferred, so it only has to stay put. */
  serial: number;
  /** Addresses of this server, answered for `ns.dns.<domain>.` (the NS target). */
  nameservers: readonly string[];
}

export interface ZoneObjects {
  services: Iterable<Service>;
  endpointSlices: Iterable<EndpointSlice>;
  pods: Iterable<Pod>;
  namespaces: Iterable<Namespace>;
}

export interface ZoneNode {
  /** Records by type; empty for an empty non-terminal. */
  rrsets: Map<number, ResourceRecord[]>;
  /** Fragment items at or below this name; the node goes when it drops to 0. */
  refs: number;
}

export interface Zone {
  /** `cluster.local.` */
  origin: string;
  ttl: number;
  pods: PodRecords;
  soa: ResourceRecord;
  nodes: Map<string, ZoneNode>;
  /** Fragments left out, by fragment key, and why. */
  problems: Map<string, string>;
}

/** A source's share of the zone: records, and names that exist without records of their own. */
export interface Fragment {
  records: ResourceRecord[];
  names: string[];
}

/** `cluster.local` / `Cluster.Local.` -> `cluster.local.` */
export function zoneOrigin(domain: string): string {
  const d = domain.toLowerCase().replace(/\.+$/, '');
  return d === '' ? '.' : `${d}.`;
}

// ---------------------------------------------------------------- fragment keys

export const APEX_KEY = 'apex';
export const namespaceKey = (name: string) => `ns/${name}`;
export const serviceKey = (namespace: string, name: string) => `svc/${namespace}/${name}`;
export const podKey = (namespace: string, name: string) => `pod/${namespace}/${name}`;

// ---------------------------------------------------------------- fragments

class FragmentBuilder {
  readonly records: ResourceRecord[] = [];
  readonly names: string[] = [];
  private readonly seen = new Set<string>();
  private srvSets: Map<string, ResourceRecord[]> | undefined;
  private readonly ttl: number;

  constructor(ttl: number) {
    this.ttl = ttl;
  }

  add(
    name: string,
    type: number,
    data: ResourceRecord['data'],
    dedupeKey: string,
  ): ResourceRecord | undefined {
    const key = `${name} ${type} ${dedupeKey}`;
    if (this.seen.has(key)) return undefined;
    this.seen.add(key);
    const record: ResourceRecord = { name, type, class: RRClass.IN, ttl: this.ttl, data };
    this.records.push(record);
    return record;
  }
  address(name: string, ip: string): void {
    const canonical = canonicalIP(ip);
    if (canonical !== undefined)
      this.add(name, canonical.includes(':') ? RRType.AAAA : RRType.A, canonical, canonical);
  }
  ptr(ip: string, target: string): void {
    const reverse = reverseName(ip);
    if (reverse !== undefined) this.add(reverse, RRType.PTR, target, target);
  }
  srv(name: string, srv: SrvData): void {
    const record = this.add(name, RRType.SRV, srv, `${srv.port} ${srv.target}`);
    if (record === undefined) return;
    this.srvSets ??= new Map();
    const set = this.srvSets.get(name);
    if (set) set.push(record);
    else this.srvSets.set(name, [record]);
  }
  exists(name: string): void {
    this.names.push(name);
  }
  build(): Fragment {
    // Endpoints of a headless Service share the SRV weight evenly, as CoreDNS does.
    for (const set of this.srvSets?.values() ?? []) {
      const weight = Math.max(1, Math.floor(100 / set.length));
      for (const r of set) {
        const d = r.data as SrvData;
        if (d.weight === 0) r.data = { ...d, weight };
      }
    }
    return { records: this.records, names: this.names };
  }
}

/** SOA, NS (and its address), the schema version, and the `svc` and `pod` subtrees. */
export function apexFragment(options: ZoneOptions): Fragment {
  const origin = zoneOrigin(options.domain);
  const b = new FragmentBuilder(options.ttl);
  const ns = `ns.dns.${origin}`;
  const soa: SoaData = {
    mname: ns,
    rname: `hostmaster.${origin}`,
    serial: options.serial >>> 0,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: options.ttl,
  };
  b.add(origin, RRType.SOA, soa, '');
  b.add(origin, RRType.NS, ns, ns);
  b.exists(ns);
  for (const ip of options.nameservers) b.address(ns, ip);
  b.add(`dns-version.${origin}`, RRType.TXT, [DNS_SCHEMA_VERSION], '');
  b.exists(`svc.${origin}`);
  if (options.pods !== 'disabled') b.exists(`pod.${origin}`);
  return b.build();
}

/** A namespace exists in DNS even without Services: `<ns>.svc.<domain>` (and `<ns>.pod.<domain>`). */
export function namespaceFragment(name: string, options: ZoneOptions): Fragment {
  const origin = zoneOrigin(options.domain);
  const b = new FragmentBuilder(options.ttl);
  b.exists(`${name.toLowerCase()}.svc.${origin}`);
  if (options.pods !== 'disabled') b.exists(`${name.toLowerCase()}.pod.${origin}`);
  return b.build();
}

/**
 * A Service's records: A/AAAA, SRV per named port and PTR for ClusterIP
 * Services; a CNAME (and SRV) for ExternalName; for headless Services the
 * ready endpoints of its slices (all with publishNotReadyAddresses), each
 * under its hostname (or dashed address), and the pods whose
 * hostname/subdomain put them under it. Throws when the Service cannot be read.
 */
export function serviceFragment(
  svc: Service,
  slices: Iterable<EndpointSlice>,
  subdomainPods: Iterable<Pod>,
  options: ZoneOptions,
): Fragment {
  const origin = zoneOrigin(options.domain);
  const b = new FragmentBuilder(options.ttl);
  const ns = svc.metadata.namespace;
  if (!ns) throw new Error('has no namespace');
  const fqdn = `${svc.metadata.name.toLowerCase()}.${ns.toLowerCase()}.svc.${origin}`;
  const spec = svc.spec ?? ({} as Service['spec']);
  const ports = spec.ports ?? [];
  b.exists(fqdn);
  if (spec.type === 'ExternalName') {
    const target = absolute(spec.externalName ?? '');
    if (target === '.') throw new Error('is an ExternalName Service without externalName');
    b.add(fqdn, RRType.CNAME, target, target);
    for (const p of ports) {
      if (p.name)
        b.srv(srvName(p.name, p.protocol, fqdn), {
          priority: 0,
          weight: 100,
          port: p.port,
          target,
        });
    }
  } else if (spec.clusterIP === 'None') {
    const publishNotReady = spec.publishNotReadyAddresses === true;
    for (const slice of slices) {
      if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
      for (const ep of slice.endpoints ?? []) {
        if (!(ep.conditions?.ready ?? true) && !publishNotReady) continue;
        for (const ip of ep.addresses ?? []) {
          const canonical = canonicalIP(ip);
          if (canonical === undefined) continue;
          const host = `${(ep.hostname ?? dashedIP(canonical)!).toLowerCase()}.${fqdn}`;
          b.address(fqdn, canonical);
          b.address(host, canonical);
          b.ptr(canonical, host);
          for (const p of slice.ports ?? []) {
            if (p.name && p.port !== undefined) {
              b.srv(srvName(p.name, p.protocol, fqdn), {
                priority: 0,
                weight: 0,
                port: p.port,
                target: host,
              });
            }
          }
        }
      }
    }
    for (const pod of subdomainPods) {
      const hostname = pod.spec?.hostname?.toLowerCase();
      const { ips, ready } = podState(pod);
      if (!hostname || (!ready && !publishNotReady)) continue;
      for (const ip of ips) b.address(`${hostname}.${fqdn}`, ip);
    }
  } else {
    const ips = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter(
      (ip) => ip !== '' && ip !== 'None',
    );
    for (const ip of ips) {
      b.address(fqdn, ip);
      b.ptr(ip, fqdn);
    }
    if (ips.length > 0) {
      for (const p of ports) {
        if (p.name)
          b.srv(srvName(p.name, p.protocol, fqdn), {
            priority: 0,
            weight: 100,
            port: p.port,
            target: fqdn,
          });
      }
    }
  }
  return b.build();
}

/** Verified pod records: `<dashed ip>.<ns>.pod.<domain>` for each of the pod's addresses. */
export function podFragment(pod: Pod, options: ZoneOptions): Fragment {
  const origin = zoneOrigin(options.domain);
  const b = new FragmentBuilder(options.ttl);
  const ns = pod.metadata.namespace;
  if (!ns) throw new Error('has no namespace');
  for (const ip of podState(pod).ips) {
    const label = dashedIP(ip);
    if (label) b.address(`${label}.${ns.toLowerCase()}.pod.${origin}`, ip);
  }
  return b.build();
}

/** The headless Service a pod names itself under (`spec.subdomain`), as `ns/name`, or undefined. */
export function podSubdomainOf(pod: Pod): string | undefined {
  const { hostname, subdomain } = pod.spec ?? {};
  const ns = pod.metadata?.namespace;
  return hostname && subdomain && ns ? `${ns}/${subdomain}` : undefined;
}

function srvName(port: string, protocol: string | undefined, fqdn: string): string {
  return `_${port.toLowerCase()}._${(protocol ?? 'TCP').toLowerCase()}.${fqdn}`;
}

function absolute(name: string): string {
  return `${name.toLowerCase().replace(/\.+$/, '')}.`;
}

function podState(pod: Pod): { ips: string[]; ready: boolean } {
  const status = pod.status as
    | (Pod['status'] & { conditions?: { type?: string; status?: string }[] })
    | undefined;
  const ips = (status?.podIPs?.map((p) => p.ip) ?? (status?.podIP ? [status.podIP] : [])).filter(
    (ip): ip is string => typeof ip === 'string' && canonicalIP(ip) !== undefined,
  );
  const readyCondition = status?.conditions?.find((c) => c.type === 'Ready');
  return {
    ips,
    ready: readyCondition ? readyCondition.status === 'True' : status?.phase === 'Running',
  };
}

// ---------------------------------------------------------------- the index

export interface ZoneIndex {
  /** The live zone: mutated in place by set(). */
  readonly zone: Zone;
  /** Replaces a fragment (undefined removes it); `problem` records why it is missing. */
  set(key: string, fragment: Fragment | undefined, problem?: string): void;
  keys(): IterableIterator<string>;
  /** Names whose answers changed since the last call (records, or existence). */
  takeTouched(): Set<string>;
}

export function createZoneIndex(options: ZoneOptions): ZoneIndex {
  const origin = zoneOrigin(options.domain);
  const suffix = `.${origin}`;
  const nodes = new Map<string, ZoneNode>();
  const fragments = new Map<string, Fragment>();
  const problems = new Map<string, string>();
  let touched = new Set<string>();
  // Names created and removed during one set(): a name both removed and
  // recreated kept existing, which changes no answer by itself.
  const born = new Set<string>();
  const died = new Set<string>();

  const inZone = (name: string) => name === origin || name.endsWith(suffix) || origin === '.';
  const parent = (name: string) =>
    name === origin ? undefined : name.slice(name.indexOf('.') + 1);

  /** Adds `delta` refs to the name and (in zone) its ancestors; creates and removes nodes. */
  const ref = (name: string, delta: number) => {
    let current: string | undefined = name;
    const climb = inZone(name);
    while (current !== undefined && current !== '') {
      let node = nodes.get(current);
      if (node === undefined) {
        node = { rrsets: new Map(), refs: 0 };
        nodes.set(current, node);
        born.add(current);
      }
      node.refs += delta;
      if (node.refs <= 0) {
        nodes.delete(current);
        died.add(current);
      }
      if (!climb) break;
      current = parent(current);
    }
  };

  const remove = (fragment: Fragment) => {
    const removed = new Set(fragment.records);
    const sets = new Set<string>();
    for (const r of fragment.records) sets.add(r.name);
    for (const name of sets) {
      const node = nodes.get(name);
      if (node === undefined) continue;
      for (const [type, set] of node.rrsets) {
        const kept = set.filter((r) => !removed.has(r));
        if (kept.length === set.length) continue;
        if (kept.length === 0) node.rrsets.delete(type);
        else node.rrsets.set(type, kept);
      }
      touched.add(name);
    }
    for (const r of fragment.records) ref(r.name, -1);
    for (const name of fragment.names) ref(name, -1);
  };

  const add = (fragment: Fragment) => {
    for (const name of fragment.names) ref(name, 1);
    for (const r of fragment.records) {
      ref(r.name, 1);
      const node = nodes.get(r.name)!;
      const set = node.rrsets.get(r.type);
      if (set) set.push(r);
      else node.rrsets.set(r.type, [r]);
      touched.add(r.name);
    }
  };

  const apex = apexFragment(options);
  add(apex);
  fragments.set(APEX_KEY, apex);
  born.clear();
  const soa = apex.records.find((r) => r.type === RRType.SOA)!;
  const zone: Zone = { origin, ttl: options.ttl, pods: options.pods, soa, nodes, problems };

  return {
    zone,
    set(key, fragment, problem) {
      const old = fragments.get(key);
      if (old !== undefined) remove(old);
      if (fragment === undefined) fragments.delete(key);
      else {
        add(fragment);
        fragments.set(key, fragment);
      }
      for (const name of born) if (!died.has(name)) touched.add(name);
      for (const name of died) if (!born.has(name)) touched.add(name);
      born.clear();
      died.clear();
      if (problem === undefined) problems.delete(key);
      else problems.set(key, problem);
    },
    keys: () => fragments.keys(),
    takeTouched() {
      const t = touched;
      touched = new Set();
      return t;
    },
  };
}

/** Every fragment of these objects, from scratch. */
export function buildZone(objects: ZoneObjects, options: ZoneOptions): Zone {
  const index = createZoneIndex(options);
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of objects.endpointSlices) {
    const svc = slice?.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!svc || !slice.metadata.namespace) continue;
    const key = `${slice.metadata.namespace}/${svc}`;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }
  const podsBySubdomain = new Map<string, Pod[]>();
  for (const pod of objects.pods) {
    const at = podSubdomainOf(pod);
    if (at !== undefined) podsBySubdomain.set(at, [...(podsBySubdomain.get(at) ?? []), pod]);
    if (options.pods === 'verified')
      setFrom(index, podKey(pod.metadata?.namespace ?? '', pod.metadata?.name), () =>
        podFragment(pod, options),
      );
  }
  for (const ns of objects.namespaces) {
    const name = ns?.metadata?.name;
    if (typeof name === 'string' && name !== '')
      index.set(namespaceKey(name), namespaceFragment(name, options));
  }
  for (const svc of objects.services) {
    const ns = svc?.metadata?.namespace ?? '';
    const name = svc?.metadata?.name;
    setFrom(index, serviceKey(ns, name), () =>
      serviceFragment(
        svc,
        slicesByService.get(`${ns}/${name}`) ?? [],
        podsBySubdomain.get(`${ns}/${name}`) ?? [],
        options,
      ),
    );
  }
  index.takeTouched();
  return index.zone;
}

/** Sets the fragment `compute` gives, or records its failure and removes the old one. */
export function setFrom(index: ZoneIndex, key: string, compute: () => Fragment): void {
  try {
    index.set(key, compute());
  } catch (error) {
    index.set(key, undefined, (error as Error).message);
  }
}
