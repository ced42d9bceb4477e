import { describe, expect, it } from 'vitest';
import { formatCidr, formatIp } from './ipv4.ts';
import { parseNetConf } from './net-conf.ts';

const shown = (text: string) => {
  const conf = parseNetConf(text);
  return {
    network: formatCidr(conf.network),
    subnetLen: conf.subnetLen,
    min: formatIp(conf.subnetMin),
    max: formatIp(conf.subnetMax),
    backend: conf.backend,
  };
};

describe('net-conf (flannel notation)', () => {
  it('defaults as flannel does: /24 subnets, the second to the last, vxlan VNI 1 port 8472', () => {
    expect(shown('{"Network": "10.244.0.0/16"}')).toEqual({
      network: '10.244.0.0/16',
      subnetLen: 24,
      min: '10.244.1.0',
      max: '10.244.255.0',
      backend: { type: 'vxlan', vni: 1, port: 8472 },
    });
  });

  it('takes two less than a network smaller than a /22', () => {
    expect(shown('{"Network": "10.1.0.0/23"}')).toMatchObject({
      subnetLen: 25,
      min: '10.1.0.128',
      max: '10.1.1.128',
    });
  });

  it('reads every field', () => {
    expect(
      shown(
        '{"Network":"10.0.0.0/8","SubnetLen":20,"SubnetMin":"10.10.0.0","SubnetMax":"10.20.0.0","Backend":{"Type":"vxlan","VNI":42,"Port":4789}}',
      ),
    ).toEqual({
      network: '10.0.0.0/8',
      subnetLen: 20,
      min: '10.10.0.0',
      max: '10.20.0.0',
      backend: { type: 'vxlan', vni: 42, port: 4789 },
    });
    expect(shown('{"Network":"10.244.0.0/16","Backend":{"Type":"host-gw"}}').backend).toEqual({
      type: 'host-gw',
    });
  });

  it.each([
    ['not JSON', '{', 'not JSON'],
    ['no Network', '{}', 'Network'],
    ['a Network with host bits', '{"Network":"10.244.1.0/16"}', 'host bits zero'],
    ['an IPv6 Network', '{"Network":"fd00::/64"}', 'IPv4 network'],
    [
      'SubnetLen not longer than the network',
      '{"Network":"10.244.0.0/16","SubnetLen":16}',
      'SubnetLen 16',
    ],
    ['SubnetMin outside', '{"Network":"10.244.0.0/16","SubnetMin":"10.245.0.0"}', 'outside'],
    [
      'SubnetMin not on a boundary',
      '{"Network":"10.244.0.0/16","SubnetMin":"10.244.1.7"}',
      'not the start',
    ],
    [
      'SubnetMin after SubnetMax',
      '{"Network":"10.244.0.0/16","SubnetMin":"10.244.9.0","SubnetMax":"10.244.2.0"}',
      'after',
    ],
    [
      'an unknown backend',
      '{"Network":"10.244.0.0/16","Backend":{"Type":"udp"}}',
      '"udp" is not supported',
    ],
    ['a typo', '{"Network":"10.244.0.0/16","SubnetLenn":24}', 'SubnetLenn'],
    ['IPv6 on', '{"Network":"10.244.0.0/16","EnableIPv6":true}', 'EnableIPv6'],
    ['a bad VNI', '{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan","VNI":-1}}', 'VNI'],
  ])('rejects %s with PIER_AGENT_BAD_NET_CONF', (_case, text, words) => {
    expect(() => parseNetConf(text)).toThrowError(
      expect.objectContaining({ code: 'PIER_AGENT_BAD_NET_CONF' }),
    );
    expect(() => parseNetConf(text)).toThrowError(words);
  });
});
