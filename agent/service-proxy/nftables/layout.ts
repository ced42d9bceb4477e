// The fixed structure of the proxy's table (convention 8: structure as
// data), the names of everything in it, and the keys of the shared maps.
//
//   nat-prerouting / nat-output (dstnat)  -> services
//     services: [ip saddr != pods, ip daddr @cluster-ips: mark]
//               ip daddr . l4proto . dport vmap @service-ips     -> svc-<port> | ext-<port>
//               fib daddr local: l4proto . dport vmap @service-nodeports -> ext-<port>
//     svc-<port>: dnat via a slot map
//     ext-<port>: mark (Cluster policy) or local endpoints only (Local)
//   filter-input / -forward / -output (filter - 10), new connections only:
//     endpoints-check:           @no-endpoint-services  -> reject | drop
//     nodeport-endpoints-check:  @no-endpoint-nodeports -> reject | drop
//     cluster-ips-check:         a ClusterIP on a port it does not serve -> reject
//   nat-postrouting (srcnat) -> masquerading: hairpin pairs and marked packets
//
// Why slot maps: see README.md ("Layout and sync cost").

import type { ChainDef, LayoutOptions, Rule, SetDef } from './model.ts';

export const FAMILY = 'ip';

export const Names = {
  serviceIps: 'service-ips',
  serviceNodePorts: 'service-nodeports',
  noEndpointServices: 'no-endpoint-services',
  noEndpointNodePorts: 'no-endpoint-nodeports',
  clusterIps: 'cluster-ips',
  hairpin: 'hairpin',
  services: 'services',
  endpointsCheck: 'endpoints-check',
  nodePortEndpointsCheck: 'nodeport-endpoints-check',
  clusterIpsCheck: 'cluster-ips-check',
  reject: 'reject-chain',
  markForMasquerade: 'mark-for-masquerade',
  masquerading: 'masquerading',
  generation: 'sync-generation',
} as const;

export const DEFAULT_SHARDS = 256;

/** The chain a Service port's ClusterIP traffic enters. */
export const serviceChain = (portKey: string) => `svc-${portKey}`;
/** The chain NodePort, externalIP and load-balancer traffic enters. */
export const externalChain = (portKey: string) => `ext-${portKey}`;
/** All endpoints, when the ClusterIP path uses only local ones (internalTrafficPolicy Local). */
export const clusterChain = (portKey: string) => `cluster-${portKey}`;
/** One endpoint of a Service port with session affinity. */
export const endpointChain = (portKey: string, ip: string, port: number) =>
  `ep-${portKey}__${ip}/${port}`;
export const affinitySet = (portKey: string, ip: string, port: number) =>
  `aff-${portKey}__${ip}/${port}`;
/**
 * A slot map: per protocol, since nft ties a map's `th dport`-less typeof
 * to one transport protocol (`tcp dport`), and a rule's protocol must agree.
 */
export const slotMap = (proto: string, shard: number) =>
  `endpoints-${proto}-${shard.toString(16).padStart(2, '0')}`;

/** `service-ips` / `no-endpoint-services` key. */
export const serviceKey = (ip: string, proto: string, port: number) => `${ip} . ${proto} . ${port}`;
/** `service-nodeports` / `no-endpoint-nodeports` key. */
export const nodePortKey = (proto: string, port: number) => `${proto} . ${port}`;
export const slotKey = (slot: number) => String(slot);
export const hairpinKey = (ip: string) => `${ip} . ${ip}`;

/** A mark value as nft prints it: `0x00004000`. */
export const markHex = (value: number) => `0x${value.toString(16).padStart(8, '0')}`;

/** The shared sets and maps, declared whether or not they hold anything. */
export function baseSets(): SetDef[] {
  return [
    {
      name: Names.serviceIps,
      kind: 'map',
      type: 'type ipv4_addr . inet_proto . inet_service : verdict',
    },
    { name: Names.serviceNodePorts, kind: 'map', type: 'type inet_proto . inet_service : verdict' },
    {
      name: Names.noEndpointServices,
      kind: 'map',
      type: 'type ipv4_addr . inet_proto . inet_service : verdict',
    },
    {
      name: Names.noEndpointNodePorts,
      kind: 'map',
      type: 'type inet_proto . inet_service : verdict',
    },
    { name: Names.clusterIps, kind: 'set', type: 'type ipv4_addr' },
    { name: Names.hairpin, kind: 'set', type: 'type ipv4_addr . ipv4_addr' },
  ];
}

/** An endpoint slot map: slot number -> address . port. */
export function slotMapDef(name: string, proto: string): SetDef {
  return { name, kind: 'map', type: `typeof numgen random mod 1 : ip daddr . ${proto} dport` };
}

export function affinitySetDef(name: string, timeoutSeconds: number): SetDef {
  return {
    name,
    kind: 'set',
    type: 'type ipv4_addr',
    flags: ['dynamic', 'timeout'],
    timeoutSeconds,
  };
}

const newOnly = [{ ctNew: true }] as const;

/** The base and helper chains; everything else hangs off them. */
export function baseChains(options: LayoutOptions): ChainDef[] {
  const bit = 2 ** options.masqueradeBit;
  const jumpServices: Rule[] = [{ action: { jump: Names.services } }];
  return [
    {
      name: 'nat-prerouting',
      hook: { type: 'nat', hook: 'prerouting', priority: 'dstnat' },
      rules: jumpServices,
    },
    {
      name: 'nat-output',
      // nft names dstnat only for prerouting; -100 is the same place in output.
      hook: { type: 'nat', hook: 'output', priority: '-100' },
      rules: jumpServices,
    },
    {
      name: 'nat-postrouting',
      hook: { type: 'nat', hook: 'postrouting', priority: 'srcnat' },
      rules: [{ action: { jump: Names.masquerading } }],
    },
    {
      name: 'filter-input',
      hook: { type: 'filter', hook: 'input', priority: 'filter - 10' },
      rules: [
        { match: newOnly, action: { jump: Names.nodePortEndpointsCheck } },
        { match: newOnly, action: { jump: Names.endpointsCheck } },
      ],
    },
    {
      name: 'filter-forward',
      hook: { type: 'filter', hook: 'forward', priority: 'filter - 10' },
      rules: [
        { match: newOnly, action: { jump: Names.endpointsCheck } },
        { match: newOnly, action: { jump: Names.clusterIpsCheck } },
      ],
    },
    {
      name: 'filter-output',
      hook: { type: 'filter', hook: 'output', priority: 'filter - 10' },
      rules: [
        { match: newOnly, action: { jump: Names.endpointsCheck } },
        { match: newOnly, action: { jump: Names.clusterIpsCheck } },
      ],
    },
    {
      name: Names.services,
      rules: [
        // Traffic from outside the pod network to a ClusterIP is masqueraded
        // (the endpoint must answer through this node). One rule for all
        // Services rather than one in each Service's chain: 10k fewer rules.
        ...(options.clusterCidr === undefined
          ? []
          : [
              {
                match: [{ saddr: options.clusterCidr, not: true }, { daddrIn: Names.clusterIps }],
                action: { jump: Names.markForMasquerade },
              } satisfies Rule,
            ]),
        { action: { vmap: Names.serviceIps, key: 'daddr-proto-port' } },
        { action: { vmap: Names.serviceNodePorts, key: 'local-proto-port' } },
      ],
    },
    {
      name: Names.endpointsCheck,
      rules: [{ action: { vmap: Names.noEndpointServices, key: 'daddr-proto-port' } }],
    },
    {
      name: Names.nodePortEndpointsCheck,
      rules: [{ action: { vmap: Names.noEndpointNodePorts, key: 'local-proto-port' } }],
    },
    {
      // Reached only by traffic the DNAT chains left alone: a port the ClusterIP does not serve.
      name: Names.clusterIpsCheck,
      rules: [{ match: [{ daddrIn: Names.clusterIps }], action: { reject: 'icmp' } }],
    },
    {
      name: Names.reject,
      rules: [
        { match: [{ proto: 'tcp' }], action: { reject: 'tcp-reset' } },
        { action: { reject: 'icmp' } },
      ],
    },
    { name: Names.markForMasquerade, rules: [{ action: { markOr: bit } }] },
    {
      name: Names.masquerading,
      rules: [
        { match: [{ hairpin: Names.hairpin }], action: { jump: Names.markForMasquerade } },
        { match: [{ markClear: bit }], action: { verdict: 'return' } },
        { action: { markXor: bit } },
        { action: { masquerade: true } },
      ],
    },
    { name: Names.generation, rules: [] },
  ];
}
