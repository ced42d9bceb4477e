// The result of an ADD, in the shape of the version the runtime asked for.
//
// 0.3.0, 0.3.1 and 0.4.0 mark each IP with `version: "4"`; 1.0.0 dropped
// that field; 1.1.0 added `mtu` to interfaces. Everything else is the same:
// the host-side veth (no sandbox), the pod's interface with its sandbox, the
// pod's address with the bridge as gateway, the default route, and DNS.

import type { CniVersion } from './versions.ts';
import { versionAtLeast } from './versions.ts';

export interface CniInterface {
  name: string;
  mac: string;
  mtu: number;
  /** The network namespace path, for the pod's interface; undefined on the host. */
  sandbox?: string;
}

export interface CniDns {
  nameservers: string[];
  domain?: string;
  search: string[];
  options: string[];
}

export interface AttachResult {
  host: CniInterface;
  pod: CniInterface;
  /** `10.244.1.5/24`. */
  address: string;
  gateway: string;
  routes: { dst: string; gw: string }[];
  dns: CniDns;
}

export function formatResult(result: AttachResult, version: CniVersion): Record<string, unknown> {
  const withMtu = versionAtLeast(version, '1.1.0');
  const iface = (i: CniInterface) => ({
    name: i.name,
    mac: i.mac,
    ...(withMtu ? { mtu: i.mtu } : {}),
    ...(i.sandbox === undefined ? {} : { sandbox: i.sandbox }),
  });
  const ip = {
    ...(versionAtLeast(version, '1.0.0') ? {} : { version: '4' }),
    address: result.address,
    gateway: result.gateway,
    interface: 1,
  };
  const dns: Record<string, unknown> = {};
  if (result.dns.nameservers.length > 0) dns.nameservers = result.dns.nameservers;
  if (result.dns.domain !== undefined) dns.domain = result.dns.domain;
  if (result.dns.search.length > 0) dns.search = result.dns.search;
  if (result.dns.options.length > 0) dns.options = result.dns.options;
  return {
    cniVersion: version,
    interfaces: [iface(result.host), iface(result.pod)],
    ips: [ip],
    routes: result.routes,
    dns,
  };
}
