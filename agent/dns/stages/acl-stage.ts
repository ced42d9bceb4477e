// Who may have names outside the cluster zone resolved: clients in the
// allowed networks, and only when forwarding is on. Everyone gets the
// cluster zone (it is authoritative data); nobody else gets recursion, so
// the server is never an open resolver. The decision is remembered per
// client address.

import { BlockList, isIPv6 } from 'node:net';
import { DnsErrors } from '../errors.ts';
import type { Handler, Stage } from '../stage.ts';

const MAX_REMEMBERED = 10_000;

/** Loopback and private ranges: a cluster's pods and nodes, never the internet. `private` in a list. */
export const PRIVATE_NETWORKS: readonly string[] = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
];

/**
 * A BlockList of networks in CIDR notation (`10.0.0.0/8`, `fd00::/8`), where
 * `private` stands for PRIVATE_NETWORKS; throws BAD_NETWORK.
 */
export function networkList(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs.flatMap((c) => (c.trim() === 'private' ? PRIVATE_NETWORKS : [c]))) {
    const [address, prefixText, extra] = cidr.trim().split('/');
    const family = address !== undefined && isIPv6(address) ? 'ipv6' : 'ipv4';
    const prefix = Number(prefixText);
    const max = family === 'ipv6' ? 128 : 32;
    if (
      address === undefined ||
      extra !== undefined ||
      !Number.isInteger(prefix) ||
      prefix < 0 ||
      prefix > max
    ) {
      throw DnsErrors.BAD_NETWORK(cidr);
    }
    try {
      list.addSubnet(address, prefix, family);
    } catch {
      throw DnsErrors.BAD_NETWORK(cidr);
    }
  }
  return list;
}

export function createAclStage(allowed: BlockList, forwarding: boolean): Stage {
  const remembered = new Map<string, boolean>();
  const allows = (client: string): boolean => {
    let ok = remembered.get(client);
    if (ok === undefined) {
      const mapped =
        client.startsWith('::ffff:') && client.includes('.') ? client.slice(7) : client;
      ok = allowed.check(mapped, isIPv6(mapped) ? 'ipv6' : 'ipv4');
      if (remembered.size >= MAX_REMEMBERED) remembered.clear();
      remembered.set(client, ok);
    }
    return ok;
  };
  return {
    name: 'acl',
    wrap(next: Handler): Handler {
      return (q) => {
        q.recursion = forwarding && allows(q.client);
        return next(q);
      };
    },
  };
}
