// The DNS block of a pod's CNI result: the cluster DNS server and the
// Kubernetes search list, `<namespace>.svc.<domain> svc.<domain> <domain>`,
// with ndots:5 as kubelet writes it. (Kubelet writes the pod's resolv.conf
// itself; runtimes that read the CNI result get the same.)

import type { DnsForPod } from '../pod-network.ts';

export interface DnsBlockOptions {
  nameservers: readonly string[];
  domain: string;
}

export function createDnsForPod(options: DnsBlockOptions): DnsForPod {
  const domain = options.domain.replace(/\.$/, '');
  return (podNamespace) => ({
    nameservers: [...options.nameservers],
    search: [
      ...(podNamespace === undefined || podNamespace === ''
        ? []
        : [`${podNamespace}.svc.${domain}`]),
      `svc.${domain}`,
      domain,
    ],
    options: ['ndots:5'],
  });
}
