// chooseSubnet() in the leases' own notation: `subnet node expires-in-seconds`.

import { describe, expect, it } from 'vitest';
import { formatCidr, parseCidr, parseIp } from './ipv4.ts';
import { parseNetConf } from './net-conf.ts';
import { chooseSubnet } from './subnet-choice.ts';
import type { Lease } from './subnet-lease.ts';

const NOW = 1_000_000_000;
const conf = parseNetConf(
  '{"Network":"10.244.0.0/16","SubnetMin":"10.244.1.0","SubnetMax":"10.244.4.0"}',
);

function leases(table: string): Lease[] {
  return table
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line, i) => {
      const [subnet = '', node = '', expires = '0'] = line.trim().split(/\s+/);
      return {
        name: subnet,
        subnet: parseCidr(subnet)!,
        node,
        publicIp: parseIp(`192.168.0.${i + 1}`)!,
        backend: { type: 'host-gw' as const },
        expireTime: NOW + Number(expires) * 1000,
        revision: i + 1,
      };
    });
}

function choose(table: string, node: string, previous?: string): string {
  const choice = chooseSubnet({
    conf,
    leases: leases(table),
    node,
    now: NOW,
    previous: previous === undefined ? undefined : parseCidr(previous),
  });
  switch (choice.kind) {
    case 'none':
      return 'none';
    case 'create':
      return `create ${formatCidr(choice.subnet)}`;
    default:
      return `${choice.kind} ${formatCidr(choice.lease.subnet)} (${choice.lease.node})`;
  }
}

describe('chooseSubnet', () => {
  it.each([
    ['the lowest free subnet', '', 'a', undefined, 'create 10.244.1.0/24'],
    [
      'past the taken ones',
      '10.244.1.0/24 b 60\n10.244.2.0/24 c 60',
      'a',
      undefined,
      'create 10.244.3.0/24',
    ],
    [
      'its own lease, even expired',
      '10.244.1.0/24 b 60\n10.244.3.0/24 a -5',
      'a',
      undefined,
      'renew 10.244.3.0/24 (a)',
    ],
    [
      'its own lease over the previous subnet',
      '10.244.2.0/24 a 60',
      'a',
      '10.244.4.0/24',
      'renew 10.244.2.0/24 (a)',
    ],
    [
      'the previous subnet when free',
      '10.244.1.0/24 b 60',
      'a',
      '10.244.4.0/24',
      'create 10.244.4.0/24',
    ],
    [
      'the previous subnet when its lease expired',
      '10.244.4.0/24 b -1',
      'a',
      '10.244.4.0/24',
      'take-expired 10.244.4.0/24 (b)',
    ],
    [
      'not the previous subnet while another holds it',
      '10.244.4.0/24 b 60',
      'a',
      '10.244.4.0/24',
      'create 10.244.1.0/24',
    ],
    [
      'no previous subnet outside SubnetMin..SubnetMax',
      '',
      'a',
      '10.244.9.0/24',
      'create 10.244.1.0/24',
    ],
    [
      'the longest-expired lease when all are taken',
      '10.244.1.0/24 b 60\n10.244.2.0/24 c -30\n10.244.3.0/24 d -90\n10.244.4.0/24 e 60',
      'a',
      undefined,
      'take-expired 10.244.3.0/24 (d)',
    ],
    [
      'nothing when all are taken and alive',
      '10.244.1.0/24 b 1\n10.244.2.0/24 c 1\n10.244.3.0/24 d 1\n10.244.4.0/24 e 1',
      'a',
      undefined,
      'none',
    ],
    [
      'ignoring leases outside the range',
      '10.244.9.0/24 a 60\n10.244.1.0/24 b 60',
      'a',
      undefined,
      'create 10.244.2.0/24',
    ],
  ])('takes %s', (_case, table, node, previous, expected) => {
    expect(choose(table, node, previous)).toBe(expected);
  });
});
