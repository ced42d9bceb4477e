// resolv.conf (resolver(5)), both ways: reading the node's to find upstream
// resolvers, and the DNS settings a pod gets (the CNI result's `dns`, and
// the resolv.conf written from it): this server, the search list of the
// pod's namespace, ndots.

import { isIP } from 'node:net';

export interface ResolvConf {
  nameservers: string[];
  search: string[];
  options: string[];
}

/** Reads resolv.conf text; unknown lines are ignored, as the C library does. */
export function parseResolvConf(text: string): ResolvConf {
  const conf: ResolvConf = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [keyword, ...values] = line.split(/\s+/);
    if (keyword === 'nameserver' && values[0] !== undefined) {
      const address = values[0].replace(/%.*$/, '');
      if (isIP(address)) conf.nameservers.push(address);
    } else if (keyword === 'search' || keyword === 'domain') {
      conf.search = values;
    } else if (keyword === 'options') {
      conf.options.push(...values);
    }
  }
  return conf;
}

/** The DNS block of a CNI result (the CNI spec's `dns` dictionary). */
export interface CniDns {
  nameservers: string[];
  domain?: string;
  search: string[];
  options: string[];
}

/**
 * What a pod in `namespace` uses: this server, then `<ns>.svc.<domain>`,
 * `svc.<domain>`, `<domain>` (so `foo` finds Service foo of its namespace and
 * `foo.bar` Service foo of namespace bar), and ndots:5, as kubelet writes it
 * for dnsPolicy ClusterFirst.
 */
export function podDns(
  namespace: string,
  settings: { domain: string; serverAddresses: readonly string[]; ndots: number },
): CniDns {
  const domain = settings.domain.replace(/\.+$/, '');
  return {
    nameservers: [...settings.serverAddresses],
    search: [`${namespace}.svc.${domain}`, `svc.${domain}`, domain],
    options: [`ndots:${settings.ndots}`],
  };
}

/** resolv.conf text for a CniDns block. */
export function formatResolvConf(dns: CniDns): string {
  const lines = dns.nameservers.map((n) => `nameserver ${n}`);
  if (dns.search.length > 0) lines.push(`search ${dns.search.join(' ')}`);
  if (dns.options.length > 0) lines.push(`options ${dns.options.join(' ')}`);
  return `${lines.join('\n')}\n`;
}
