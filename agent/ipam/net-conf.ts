// The cluster network's shape, in flannel's net-conf.json notation, so a
// flannel user's file works as it is:
//
//   {"Network": "10.244.0.0/16", "SubnetLen": 24,
//    "SubnetMin": "10.244.1.0", "SubnetMax": "10.244.255.0",
//    "Backend": {"Type": "vxlan", "VNI": 1, "Port": 8472}}
//
// Defaults follow flannel: SubnetLen 24 (two less than the network's length
// when the network is smaller than a /22), SubnetMin the second subnet,
// SubnetMax the last. IPv6 is not supported and says so rather than being
// ignored; an unknown field is an error, since a typo would otherwise be
// silently dropped.

import { z } from 'zod';
import { AgentErrors } from '../errors.ts';
import { type Cidr, formatCidr, formatIp, parseCidr, parseIp, sizeOf } from './ipv4.ts';

export type BackendType = 'host-gw' | 'vxlan';

export interface VxlanConf {
  readonly type: 'vxlan';
  readonly vni: number;
  /** UDP port of the overlay; 8472 is the Linux default flannel also uses. */
  readonly port: number;
}

export interface HostGwConf {
  readonly type: 'host-gw';
}

export type BackendConf = VxlanConf | HostGwConf;

export interface NetConf {
  readonly network: Cidr;
  readonly subnetLen: number;
  /** First and last node subnet that may be leased (network addresses). */
  readonly subnetMin: number;
  readonly subnetMax: number;
  readonly backend: BackendConf;
}

const backendSchema = z.union([
  z.strictObject({
    Type: z.literal('vxlan'),
    VNI: z.number().int().min(0).max(16_777_215).optional(),
    Port: z.number().int().min(1).max(65_535).optional(),
    // flannel fields Pier accepts but does not need: the kernel learns nothing (nolearning) either way.
    GBP: z.literal(false).optional(),
    DirectRouting: z.literal(false).optional(),
  }),
  z.strictObject({ Type: z.literal('host-gw') }),
]);

const netConfSchema = z.strictObject({
  Network: z.string(),
  SubnetLen: z.number().int().optional(),
  SubnetMin: z.string().optional(),
  SubnetMax: z.string().optional(),
  EnableIPv4: z.literal(true).optional(),
  EnableIPv6: z.literal(false).optional(),
  EnableNFTables: z.boolean().optional(),
  Backend: z.unknown().optional(),
});

export const DEFAULT_VXLAN_PORT = 8472;

/** Parses and checks a net-conf (JSON text or an already parsed value). `source` names it in errors. */
export function parseNetConf(input: string | unknown, source = 'net-conf.json'): NetConf {
  let value: unknown = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (error) {
      throw AgentErrors.BAD_NET_CONF(source, `not JSON: ${(error as Error).message}`);
    }
  }
  const parsed = netConfSchema.safeParse(value);
  if (!parsed.success) throw AgentErrors.BAD_NET_CONF(source, describeIssues(parsed.error));
  const raw = parsed.data;
  const network = parseCidr(raw.Network);
  if (network === undefined) {
    throw AgentErrors.BAD_NET_CONF(
      source,
      `Network ${JSON.stringify(raw.Network)} is not an IPv4 network like 10.244.0.0/16 (host bits zero)`,
    );
  }
  if (network.prefix > 28) {
    throw AgentErrors.BAD_NET_CONF(source, `Network ${raw.Network} is too small (at most /28)`);
  }
  const subnetLen = raw.SubnetLen ?? (network.prefix < 22 ? 24 : network.prefix + 2);
  if (subnetLen <= network.prefix || subnetLen > 30) {
    throw AgentErrors.BAD_NET_CONF(
      source,
      `SubnetLen ${subnetLen} must be longer than the Network's /${network.prefix} and at most 30`,
    );
  }
  const step = 2 ** (32 - subnetLen);
  const subnetMin = subnetAddress(raw.SubnetMin, network.base + step, 'SubnetMin', source);
  const subnetMax = subnetAddress(
    raw.SubnetMax,
    network.base + sizeOf(network) - step,
    'SubnetMax',
    source,
  );
  for (const [name, address] of [
    ['SubnetMin', subnetMin],
    ['SubnetMax', subnetMax],
  ] as const) {
    if (address < network.base || address >= network.base + sizeOf(network)) {
      throw AgentErrors.BAD_NET_CONF(
        source,
        `${name} ${formatIp(address)} is outside ${formatCidr(network)}`,
      );
    }
    if ((address - network.base) % step !== 0) {
      throw AgentErrors.BAD_NET_CONF(
        source,
        `${name} ${formatIp(address)} is not the start of a /${subnetLen} subnet`,
      );
    }
  }
  if (subnetMin > subnetMax) {
    throw AgentErrors.BAD_NET_CONF(
      source,
      `SubnetMin ${formatIp(subnetMin)} is after SubnetMax ${formatIp(subnetMax)}`,
    );
  }
  return { network, subnetLen, subnetMin, subnetMax, backend: parseBackend(raw.Backend, source) };
}

function subnetAddress(
  text: string | undefined,
  fallback: number,
  name: string,
  source: string,
): number {
  if (text === undefined) return fallback;
  const ip = parseIp(text);
  if (ip === undefined) {
    throw AgentErrors.BAD_NET_CONF(
      source,
      `${name} ${JSON.stringify(text)} is not an IPv4 address`,
    );
  }
  return ip;
}

function parseBackend(value: unknown, source: string): BackendConf {
  // flannel's default backend is UDP, which Pier does not have; VXLAN is what flannel recommends.
  if (value === undefined) return { type: 'vxlan', vni: 1, port: DEFAULT_VXLAN_PORT };
  const parsed = backendSchema.safeParse(value);
  if (!parsed.success) {
    const type = (value as { Type?: unknown } | null)?.Type;
    if (typeof type === 'string' && type !== 'vxlan' && type !== 'host-gw') {
      throw AgentErrors.BAD_NET_CONF(
        source,
        `Backend.Type ${JSON.stringify(type)} is not supported (use "host-gw" or "vxlan")`,
      );
    }
    throw AgentErrors.BAD_NET_CONF(source, `Backend: ${describeIssues(parsed.error)}`);
  }
  const backend = parsed.data;
  if (backend.Type === 'host-gw') return { type: 'host-gw' };
  return { type: 'vxlan', vni: backend.VNI ?? 1, port: backend.Port ?? DEFAULT_VXLAN_PORT };
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path.join('.');
      return path === '' ? issue.message : `${path}: ${issue.message}`;
    })
    .join('; ');
}
