// The cluster zone, built from Services, EndpointSlices, Pods and Namespaces
// (the Kubernetes DNS-Based Service Discovery specification, schema 1.1.0).
//
// buildZone is pure and total: it takes the objects as they are now and
// returns an index of every name the zone holds, keyed by lowercase
// presentation name, with its records by type. Names that only have
// descendants (`bar.svc.cluster.local.`, `_tcp.foo.bar.svc...`) are present
// with no records: they are empty non-terminals, answered NOERROR/NODATA.
// Reverse names (PTR) for Service and endpoint addresses sit in the same
// index; their ancestors do not, as the cluster is not authoritative for
// the reverse zones as a whole.
//
// An object that cannot be read (a hand-written manifest missing a field)
// costs its own records only; it is reported in `problems`.

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
  /** The SOA serial; the builder's caller bumps it per build. */
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
}

export interface Zone {
  /** `cluster.local.` */
  origin: string;
  ttl: number;
  pods: PodRecords;
  soa: ResourceRecord;
  nodes: Map<string, ZoneNode>;
  /** Objects whose records were left out, and why. */
  problems: string[];
}

/** `cluster.local` / `Cluster.Local.` -> `cluster.local.` */
export function zoneOrigin(domain: string): string {
  const d = domain.toLowerCase().replace(/\.+$/, '');
  return d === '' ? '.' : `${d}.`;
}

interface PodLike {
  ips: string[];
  ready: boolean;
}

export function buildZone(objects: ZoneObjects, options: ZoneOptions): Zone {
  const origin = zoneOrigin(options.domain);
  const ttl = options.ttl;
  const nodes = new Map<string, ZoneNode>();
  const seen = new Set<string>();
  const problems: string[] = [];

  const node = (name: string): ZoneNode => {
    let n = nodes.get(name);
    if (n === undefined) {
      n = { rrsets: new Map() };
      nodes.set(name, n);
      if (name !== origin && name.endsWith(`.${origin}`)) node(name.slice(name.indexOf('.') + 1));
    }
    return n;
  };
  const add = (name: string, type: number, data: ResourceRecord['data'], dedupeKey: string) => {
    const key = `${name} ${type} ${dedupeKey}`;
    if (seen.has(key)) return;
    seen.add(key);
    const n = node(name);
    let set = n.rrsets.get(type);
    if (set === undefined) {
      set = [];
      n.rrsets.set(type, set);
    }
    set.push({ name, type, class: RRClass.IN, ttl, data });
  };
  const addAddress = (name: string, ip: string) => {
    const canonical = canonicalIP(ip);
    if (canonical === undefined) return;
    add(name, canonical.includes(':') ? RRType.AAAA : RRType.A, canonical, canonical);
  };
  const addPtr = (ip: string, target: string) => {
    const reverse = reverseName(ip);
    if (reverse === undefined) return;
    // Not node(): reverse names get no ancestors (see the header).
    if (!nodes.has(reverse)) nodes.set(reverse, { rrsets: new Map() });
    add(reverse, RRType.PTR, target, target);
  };
  const srvWeights: ResourceRecord[][] = [];
  const addSrv = (name: string, srv: SrvData) => {
    const before = nodes.get(name)?.rrsets.get(RRType.SRV)?.length ?? 0;
    add(name, RRType.SRV, srv, `${srv.port} ${srv.target}`);
    const set = nodes.get(name)!.rrsets.get(RRType.SRV)!;
    if (before === 0 && set.length === 1) srvWeights.push(set);
  };

  // The apex: SOA, NS, and the schema version.
  const nsName = `ns.dns.${origin}`;
  const soaData: SoaData = {
    mname: nsName,
    rname: `hostmaster.${origin}`,
    serial: options.serial >>> 0,
    refresh: 7200,
    retry: 1800,
    expire: 86400,
    minimum: ttl,
  };
  add(origin, RRType.SOA, soaData, '');
  add(origin, RRType.NS, nsName, nsName);
  node(nsName);
  for (const ip of options.nameservers) addAddress(nsName, ip);
  add(`dns-version.${origin}`, RRType.TXT, [DNS_SCHEMA_VERSION], '');
  node(`svc.${origin}`);
  if (options.pods !== 'disabled') node(`pod.${origin}`);

  for (const ns of objects.namespaces) {
    const name = ns?.metadata?.name?.toLowerCase();
    if (typeof name !== 'string' || name === '') continue;
    node(`${name}.svc.${origin}`);
    if (options.pods !== 'disabled') node(`${name}.pod.${origin}`);
  }

  // Slices by service, so each headless Service finds its endpoints.
  const slicesByService = new Map<string, EndpointSlice[]>();
  for (const slice of objects.endpointSlices) {
    const svc = slice?.metadata?.labels?.[SERVICE_NAME_LABEL];
    const ns = slice?.metadata?.namespace;
    if (!svc || !ns) continue;
    const key = `${ns}/${svc}`;
    const list = slicesByService.get(key);
    if (list) list.push(slice);
    else slicesByService.set(key, [slice]);
  }

  // Pods, for verified pod records and hostname/subdomain records.
  const podsBySubdomain = new Map<string, { hostname: string; pod: PodLike }[]>();
  for (const pod of objects.pods) {
    try {
      const ns = pod.metadata.namespace;
      if (!ns) continue;
      const p = podLike(pod);
      if (options.pods === 'verified') {
        for (const ip of p.ips) {
          const label = dashedIP(ip);
          if (label) addAddress(`${label}.${ns}.pod.${origin}`, ip);
        }
      }
      const { hostname, subdomain } = pod.spec ?? {};
      if (hostname && subdomain) {
        const key = `${ns}/${subdomain}`;
        const list = podsBySubdomain.get(key) ?? [];
        list.push({ hostname: hostname.toLowerCase(), pod: p });
        podsBySubdomain.set(key, list);
      }
    } catch (error) {
      problems.push(
        `Pod ${pod?.metadata?.namespace}/${pod?.metadata?.name}: ${(error as Error).message}`,
      );
    }
  }

  for (const svc of objects.services) {
    try {
      const ns = svc.metadata.namespace;
      if (!ns) throw new Error('has no namespace');
      const fqdn = `${svc.metadata.name.toLowerCase()}.${ns.toLowerCase()}.svc.${origin}`;
      const spec = svc.spec ?? ({} as Service['spec']);
      const ports = spec.ports ?? [];
      node(fqdn);
      if (spec.type === 'ExternalName') {
        const target = absolute(spec.externalName ?? '');
        if (target === '.') throw new Error('is an ExternalName Service without externalName');
        add(fqdn, RRType.CNAME, target, target);
        for (const p of ports) {
          if (p.name)
            addSrv(srvName(p.name, p.protocol, fqdn), {
              priority: 0,
              weight: 100,
              port: p.port,
              target,
            });
        }
      } else if (spec.clusterIP === 'None') {
        const publishNotReady = spec.publishNotReadyAddresses === true;
        for (const slice of slicesByService.get(`${ns}/${svc.metadata.name}`) ?? []) {
          if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
          for (const ep of slice.endpoints ?? []) {
            const ready = ep.conditions?.ready ?? true;
            if (!ready && !publishNotReady) continue;
            for (const ip of ep.addresses ?? []) {
              const canonical = canonicalIP(ip);
              if (canonical === undefined) continue;
              const host = `${(ep.hostname ?? dashedIP(canonical)!).toLowerCase()}.${fqdn}`;
              addAddress(fqdn, canonical);
              addAddress(host, canonical);
              addPtr(canonical, host);
              for (const p of slice.ports ?? []) {
                if (p.name && p.port !== undefined) {
                  addSrv(srvName(p.name, p.protocol, fqdn), {
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
        // A pod names itself <hostname>.<subdomain> when a headless Service of that name exists.
        for (const { hostname, pod } of podsBySubdomain.get(`${ns}/${svc.metadata.name}`) ?? []) {
          if (!pod.ready && !publishNotReady) continue;
          for (const ip of pod.ips) addAddress(`${hostname}.${fqdn}`, ip);
        }
      } else {
        const ips = (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter(
          (ip) => ip !== '' && ip !== 'None',
        );
        for (const ip of ips) {
          addAddress(fqdn, ip);
          addPtr(ip, fqdn);
        }
        if (ips.length > 0) {
          for (const p of ports) {
            if (p.name)
              addSrv(srvName(p.name, p.protocol, fqdn), {
                priority: 0,
                weight: 100,
                port: p.port,
                target: fqdn,
              });
          }
        }
      }
    } catch (error) {
      problems.push(
        `Service ${svc?.metadata?.namespace}/${svc?.metadata?.name}: ${(error as Error).message}`,
      );
    }
  }

  // Headless SRV sets share the weight evenly, as CoreDNS does.
  for (const set of srvWeights) {
    const weight = Math.max(1, Math.floor(100 / set.length));
    for (const r of set) {
      const d = r.data as SrvData;
      if (d.weight === 0) r.data = { ...d, weight };
    }
  }

  const soa = nodes.get(origin)!.rrsets.get(RRType.SOA)![0]!;
  return { origin, ttl, pods: options.pods, soa, nodes, problems };
}

/** `_<port>._<proto>.<service fqdn>` */
function srvName(port: string, protocol: string | undefined, fqdn: string): string {
  return `_${port.toLowerCase()}._${(protocol ?? 'TCP').toLowerCase()}.${fqdn}`;
}

function absolute(name: string): string {
  const n = name.toLowerCase().replace(/\.+$/, '');
  return `${n}.`;
}

function podLike(pod: Pod): PodLike {
  const status = pod.status as
    | (Pod['status'] & { conditions?: { type?: string; status?: string }[] })
    | undefined;
  const ips = (status?.podIPs?.map((p) => p.ip) ?? (status?.podIP ? [status.podIP] : [])).filter(
    (ip): ip is string => typeof ip === 'string' && canonicalIP(ip) !== undefined,
  );
  const readyCondition = status?.conditions?.find((c) => c.type === 'Ready');
  const ready = readyCondition ? readyCondition.status === 'True' : status?.phase === 'Running';
  return { ips, ready };
}
