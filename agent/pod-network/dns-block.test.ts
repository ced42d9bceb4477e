import { describe, expect, it } from 'vitest';
import { createDnsForPod } from './dns-block.ts';

describe('the DNS block of a CNI result', () => {
  const dns = createDnsForPod({ nameservers: ['10.96.0.10'], domain: 'cluster.local.' });

  it('searches the pod namespace first, then svc, then the domain, with ndots:5', () => {
    expect(dns('shop')).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
  });

  it('leaves the namespace out when the runtime did not say it', () => {
    expect(dns(undefined).search).toEqual(['svc.cluster.local', 'cluster.local']);
    expect(dns('').search).toEqual(['svc.cluster.local', 'cluster.local']);
  });
});
