import { describe, expect, it } from 'vitest';
import { type AttachResult, formatResult } from './result.ts';

const result: AttachResult = {
  host: { name: 'pier0123456789a', mac: '0e:58:0a:f4:01:05', mtu: 1450 },
  pod: { name: 'eth0', mac: '0a:58:0a:f4:01:05', mtu: 1450, sandbox: '/var/run/netns/p1' },
  address: '10.244.1.5/24',
  gateway: '10.244.1.1',
  routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
  dns: {
    nameservers: ['10.96.0.10'],
    search: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    options: ['ndots:5'],
  },
};

describe('ADD results per version', () => {
  it('1.1.0: interfaces carry their MTU; IPs have no version', () => {
    expect(formatResult(result, '1.1.0')).toEqual({
      cniVersion: '1.1.0',
      interfaces: [
        { name: 'pier0123456789a', mac: '0e:58:0a:f4:01:05', mtu: 1450 },
        { name: 'eth0', mac: '0a:58:0a:f4:01:05', mtu: 1450, sandbox: '/var/run/netns/p1' },
      ],
      ips: [{ address: '10.244.1.5/24', gateway: '10.244.1.1', interface: 1 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
      dns: result.dns,
    });
  });

  it.each([
    ['1.0.0', false, false],
    ['0.4.0', true, false],
    ['0.3.1', true, false],
    ['0.3.0', true, false],
  ] as const)('%s: ips[].version %s, interfaces[].mtu %s', (version, ipVersion, mtu) => {
    const formatted = formatResult(result, version) as {
      cniVersion: string;
      ips: object[];
      interfaces: object[];
    };
    expect(formatted.cniVersion).toBe(version);
    expect('version' in (formatted.ips[0] ?? {})).toBe(ipVersion);
    if (ipVersion) expect(formatted.ips[0]).toMatchObject({ version: '4' });
    expect('mtu' in (formatted.interfaces[1] ?? {})).toBe(mtu);
  });

  it('leaves empty DNS fields out', () => {
    const bare = formatResult(
      { ...result, dns: { nameservers: [], search: [], options: [] } },
      '1.1.0',
    );
    expect(bare.dns).toEqual({});
  });
});
