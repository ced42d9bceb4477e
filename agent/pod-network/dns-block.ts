// The DNS block of a pod's CNI result: the cluster DNS server and the
// Kubernetes search list, `<namespace>.svc.<domain> svc.<domain> <domain>`,
// ndots:5, as kubelet writes it for dnsPolicy ClusterFirst. The DNS server's
// own podDns() (agent/dns/resolv-conf.ts) builds it, so the two never
// disagree; without K8S_POD_NAMESPACE in CNI_ARGS the namespace entry is
// left out. (Kubelet writes the pod's resolv.conf itself; runtimes that read
// the CNI result get the same.)

import { podDns } from '../dns/resolv-conf.ts';
import type { DnsForPod } from '../pod-network.ts';

export interface DnsBlockOptions {
  nameservers: readonly string[];
  domain: string;
  ndots?: number;
}

export function createDnsForPod(options: DnsBlockOptions): DnsForPod {
  const settings = {
    domain: options.domain,
    serverAddresses: options.nameservers,
    ndots: options.ndots ?? 5,
  };
  return (podNamespace) => {
    if (podNamespace !== undefined && podNamespace !== '') return podDns(podNamespace, settings);
    const full = podDns('-', settings);
    return { ...full, search: full.search.slice(1) };
  };
}
