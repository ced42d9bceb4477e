// Desired state -> ruleset model. Pure: the previous ruleset and the changed
// Services in, a new ruleset out (the previous one is not touched).
//
// Per Service port (kube-proxy's nftables layout, with one difference: the
// endpoint choice is one DNAT through a shared slot map, not a chain per
// endpoint behind an anonymous verdict map; see README.md):
//
//   ClusterIP:port  -> svc-<port>: dnat to one of the internal endpoints
//                      (marked for masquerade in `services` when it comes from
//                      outside the pod network: layout.ts)
//   NodePort, externalIPs, LB IPs -> ext-<port>:
//        Cluster policy: mark, then the cluster-wide endpoints
//        Local policy:   pods and this node take the cluster-wide path (as
//                        kube-proxy does); others get a local endpoint or drop
//   no endpoints at all            -> reject (TCP reset, ICMP unreachable)
//   Local policy, none on the node -> drop
//   sessionAffinity ClientIP       -> per endpoint a chain and a timeout set:
//        a known client goes back to its endpoint, a new one is spread with
//        `numgen random mod N-i` rules (equal odds), and remembered.

import type { L4Proto, ProxyEndpoint, ServicePortInfo } from '../service-ports.ts';
import { LayeredMap } from './layered-map.ts';
import {
  affinitySet,
  affinitySetDef,
  clusterChain,
  endpointChain,
  externalChain,
  Names,
  nodePortKey,
  serviceChain,
  serviceKey,
  slotKey,
} from './layout.ts';
import type {
  ChainDef,
  Element,
  Fragment,
  LayoutOptions,
  Rule,
  Ruleset,
  SetDef,
  SlotRange,
} from './model.ts';
import { placeSlots } from './slots.ts';

/** Service `namespace/name` -> its proxied ports now, or undefined when it is gone. */
export type ServiceChanges = ReadonlyMap<string, readonly ServicePortInfo[] | undefined>;

/** A ruleset with nothing in it yet. */
export function emptyRuleset(options: LayoutOptions): Ruleset {
  return {
    id: {},
    options,
    generation: 0,
    fragments: new Map(),
    owners: new Map(),
    nextOffset: {},
    clusterIPs: new Set(),
    hairpin: new Set(),
    slotMaps: new Map(),
  };
}

/**
 * The ruleset after `changes`, starting from `previous` (a ruleset with the
 * same options; pass emptyRuleset() and every Service for a full build).
 * Fragments of Services not in `changes` are carried over as they are.
 */
export function buildRuleset(previous: Ruleset, changes: ServiceChanges): Ruleset {
  const options = previous.options;
  const fragments = LayeredMap.of(previous.fragments);
  const owners = LayeredMap.of(previous.owners);
  const nextOffset = { ...previous.nextOffset };
  let released = false;

  const release = (fragment: Fragment) => {
    for (const key of ownedKeys(fragment)) {
      if (owners.get(key) === fragment.service) {
        owners.delete(key);
        released = true;
      }
    }
  };

  // Sorted, so a full build settles conflicts the same way every time.
  const names = [...changes.keys()].sort();
  for (const name of names) {
    const old = fragments.get(name);
    if (old !== undefined) release(old);
  }
  for (const name of names) {
    const ports = changes.get(name);
    const old = fragments.get(name);
    if (ports === undefined || ports.length === 0) {
      fragments.delete(name);
      continue;
    }
    fragments.set(name, buildFragment(name, ports, old, { options, owners, nextOffset }));
  }
  const rebuilt = new Set(names);
  // A Service that lost a key to another one gets it once that one lets go.
  if (released) {
    for (const [name, fragment] of fragments) {
      if (fragment.conflicts.length === 0 || changes.has(name)) continue;
      release(fragment);
      fragments.set(
        name,
        buildFragment(name, fragment.ports, fragment, { options, owners, nextOffset }),
      );
      rebuilt.add(name);
    }
  }

  // The global sets change only when a rebuilt Service's share of them did:
  // most changes (an endpoint elsewhere replaced) keep them as they are.
  let { clusterIPs, hairpin, slotMaps } = previous;
  const same = (a: readonly string[] = [], b: readonly string[] = []) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const maps = (f: Fragment | undefined) => (f?.slots ?? []).map((r) => r.map);
  let globalsChanged = false;
  for (const name of rebuilt) {
    const a = previous.fragments.get(name);
    const b = fragments.get(name);
    if (
      !same(a?.clusterIPs, b?.clusterIPs) ||
      !same(a?.hairpin, b?.hairpin) ||
      !same(maps(a), maps(b))
    ) {
      globalsChanged = true;
      break;
    }
  }
  if (globalsChanged) {
    const ips = new Set<string>();
    const pairs = new Set<string>();
    const inUse = new Map<string, L4Proto>();
    for (const fragment of fragments.values()) {
      for (const ip of fragment.clusterIPs) ips.add(ip);
      for (const ip of fragment.hairpin) pairs.add(ip);
      for (const range of fragment.slots) inUse.set(range.map, range.proto);
    }
    clusterIPs = ips;
    hairpin = pairs;
    slotMaps = inUse;
  }
  return {
    id: {},
    changedSince: { parent: previous.id, names: rebuilt },
    options,
    generation: previous.generation + 1,
    // Folded now, once, rather than on every later derive().
    fragments: fragments.compact(),
    owners: owners.compact(),
    nextOffset,
    clusterIPs,
    hairpin,
    slotMaps,
  };
}

const OWNED_SETS = new Set<string>([
  Names.serviceIps,
  Names.noEndpointServices,
  Names.serviceNodePorts,
  Names.noEndpointNodePorts,
]);

const isNodePortSet = (set: string) =>
  set === Names.serviceNodePorts || set === Names.noEndpointNodePorts;

/** The owner-index keys of a fragment's lookup elements. */
function ownedKeys(fragment: Fragment): string[] {
  return fragment.elements
    .filter((e) => OWNED_SETS.has(e.set))
    .map((e) => (isNodePortSet(e.set) ? `nodeport ${e.key}` : e.key));
}

interface BuildContext {
  options: LayoutOptions;
  owners: LayeredMap<string, string>;
  nextOffset: Record<string, number>;
}

const endpointId = (e: ProxyEndpoint) => `${e.ip}:${e.port}`;

/** One Service's chains, sets and elements. */
export function buildFragment(
  service: string,
  ports: readonly ServicePortInfo[],
  previous: Fragment | undefined,
  ctx: BuildContext,
): Fragment {
  const { options } = ctx;
  const chains: ChainDef[] = [];
  const sets: SetDef[] = [];
  const elements: Element[] = [];
  const slots: SlotRange[] = [];
  const conflicts: string[] = [];
  const clusterIPs = new Set<string>();
  const hairpin = new Set<string>();
  const previousSlots = new Map((previous?.slots ?? []).map((s) => [s.id, s]));
  const mark: Rule = { action: { jump: Names.markForMasquerade } };

  const claim = (ownerKey: string): boolean => {
    const owner = ctx.owners.get(ownerKey);
    if (owner !== undefined && owner !== service) {
      conflicts.push(`${ownerKey} (held by ${owner})`);
      return false;
    }
    ctx.owners.set(ownerKey, service);
    return true;
  };
  const lookup = (ip: string, p: ServicePortInfo, value: Element['value'], found: boolean) => {
    const key = serviceKey(ip, p.proto, p.port);
    if (!claim(key)) return;
    elements.push({ set: found ? Names.serviceIps : Names.noEndpointServices, key, value });
  };

  for (const p of ports) {
    const K = p.key;
    const cluster = p.clusterEndpoints;
    const local = p.localEndpoints;
    const internal = p.internalLocal ? local : cluster;
    const internalKind = p.internalLocal ? 'local' : 'cluster';
    const hasExternal = p.nodePort !== undefined || p.externalIPs.length > 0;
    for (const e of [...cluster, ...local]) if (e.local || e.nodeUnknown) hairpin.add(e.ip);

    const selections = new Map<string, Rule[]>();
    const affinityDone = new Set<string>();
    const select = (kind: 'cluster' | 'local', eps: readonly ProxyEndpoint[]): Rule[] => {
      const done = selections.get(kind);
      if (done !== undefined) return done;
      const rules =
        p.affinitySeconds === undefined
          ? slotSelection(`${K}#${kind}`, p.proto, eps)
          : affinitySelection(K, p.proto, p.affinitySeconds, eps);
      selections.set(kind, rules);
      return rules;
    };
    const slotSelection = (id: string, proto: L4Proto, eps: readonly ProxyEndpoint[]): Rule[] => {
      const ids = eps.map(endpointId);
      const previousRange = previousSlots.get(id);
      const range = placeSlots(id, proto, ids, previousRange, ctx.nextOffset, options.shards);
      slots.push(range);
      const map = range.map;
      // A new range lists the endpoints in their own order; a kept one, as the slots moved.
      const byId =
        range.endpoints === ids || previousRange === undefined
          ? undefined
          : new Map(eps.map((e, i) => [ids[i] as string, e]));
      for (let i = 0; i < range.endpoints.length; i++) {
        const e = byId === undefined ? eps[i] : byId.get(range.endpoints[i] as string);
        if (e === undefined) continue;
        // The endpoint itself is the element's value (its ip and port).
        elements.push({ set: map, key: slotKey(range.offset + i), value: e });
      }
      return [
        {
          match: [{ proto }],
          action: { dnatSlots: { map, offset: range.offset, count: eps.length } },
        },
      ];
    };
    const affinitySelection = (
      portKey: string,
      proto: L4Proto,
      seconds: number,
      eps: readonly ProxyEndpoint[],
    ): Rule[] => {
      const rules: Rule[] = [];
      for (const e of eps) {
        const chain = endpointChain(portKey, e.ip, e.port);
        const set = affinitySet(portKey, e.ip, e.port);
        if (!affinityDone.has(chain)) {
          affinityDone.add(chain);
          sets.push(affinitySetDef(set, seconds));
          chains.push({
            name: chain,
            rules: [
              { action: { updateSet: set } },
              { match: [{ proto }], action: { dnat: { ip: e.ip, port: e.port } } },
            ],
          });
        }
        rules.push({ match: [{ saddrIn: set }], action: { goto: chain } });
      }
      eps.forEach((e, i) => {
        const target = { goto: endpointChain(portKey, e.ip, e.port) };
        rules.push(
          i < eps.length - 1
            ? { match: [{ random: eps.length - i }], action: target }
            : { action: target },
        );
      });
      return rules;
    };

    // ClusterIP
    let svcIsCluster = false;
    if (p.clusterIP !== undefined) {
      clusterIPs.add(p.clusterIP);
      if (internal.length > 0) {
        chains.push({ name: serviceChain(K), rules: select(internalKind, internal) });
        lookup(p.clusterIP, p, { goto: serviceChain(K) }, true);
        svcIsCluster = !p.internalLocal;
      } else {
        // Endpoints elsewhere but none here under internalTrafficPolicy Local: drop, as kube-proxy.
        lookup(
          p.clusterIP,
          p,
          cluster.length > 0 ? { verdict: 'drop' } : { goto: Names.reject },
          false,
        );
      }
    }

    // NodePort, externalIPs, load-balancer IPs
    if (!hasExternal) continue;
    if (cluster.length === 0) {
      for (const ip of p.externalIPs) lookup(ip, p, { goto: Names.reject }, false);
      if (p.nodePort !== undefined) {
        const key = nodePortKey(p.proto, p.nodePort);
        if (claim(`nodeport ${key}`))
          elements.push({ set: Names.noEndpointNodePorts, key, value: { goto: Names.reject } });
      }
      continue;
    }
    let clusterPath: string = serviceChain(K);
    if (!svcIsCluster) {
      clusterPath = clusterChain(K);
      chains.push({ name: clusterPath, rules: select('cluster', cluster) });
    }
    const ext: Rule[] = [];
    if (p.externalLocal) {
      if (options.clusterCidr !== undefined)
        ext.push({ match: [{ saddr: options.clusterCidr }], action: { goto: clusterPath } });
      ext.push({ match: [{ saddrLocal: true }], action: mark.action });
      ext.push({ match: [{ saddrLocal: true }], action: { goto: clusterPath } });
      if (local.length > 0) ext.push(...select('local', local));
      else ext.push({ action: { verdict: 'drop' } });
    } else {
      ext.push(mark, { action: { goto: clusterPath } });
    }
    chains.push({ name: externalChain(K), rules: ext });
    for (const ip of p.externalIPs) lookup(ip, p, { goto: externalChain(K) }, true);
    if (p.nodePort !== undefined) {
      const key = nodePortKey(p.proto, p.nodePort);
      if (claim(`nodeport ${key}`))
        elements.push({ set: Names.serviceNodePorts, key, value: { goto: externalChain(K) } });
    }
  }

  return {
    service,
    ports,
    chains,
    sets,
    elements,
    slots,
    clusterIPs: [...clusterIPs],
    hairpin: [...hairpin],
    conflicts,
  };
}
