import { describe, expect, it } from 'vitest';
import { parseCidr, parseIp } from '../ipam/ipv4.ts';
import { tableComment } from '../nftables.ts';
import { renderFirewallTable } from './firewall-table.ts';

const network = parseCidr('10.244.0.0/16')!;
const ips = (...list: string[]) => list.map((ip) => parseIp(ip)!);

describe('the pod network nft table', () => {
  it('accepts the pod network in FORWARD and masquerades only what leaves it, never towards a node', () => {
    const { script } = renderFirewallTable({
      network,
      nodeIps: ips('192.168.77.2', '192.168.77.1'),
    });
    expect(script).toContain(
      'table ip pier_pod_network {}\ndelete table ip pier_pod_network\ntable ip pier_pod_network {',
    );
    const rules = script.split('\n').filter((l) => l.startsWith('ip '));
    expect(rules).toEqual([
      'ip saddr 10.244.0.0/16 accept',
      'ip daddr 10.244.0.0/16 accept',
      'ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 return',
      'ip saddr 10.244.0.0/16 ip daddr @nodes return',
      'ip saddr 10.244.0.0/16 ip daddr != 224.0.0.0/4 masquerade fully-random',
    ]);
    expect(script).toContain('elements = { 192.168.77.1, 192.168.77.2 }');
  });

  it('carries a digest of what it holds, the same for the same nodes in any order', () => {
    const a = renderFirewallTable({ network, nodeIps: ips('192.168.77.1', '192.168.77.2') });
    const b = renderFirewallTable({
      network,
      nodeIps: ips('192.168.77.2', '192.168.77.1', '192.168.77.2'),
    });
    const c = renderFirewallTable({ network, nodeIps: ips('192.168.77.1') });
    expect(a.comment).toBe(b.comment);
    expect(a.comment).not.toBe(c.comment);
    expect(tableComment(a.script)).toBe(a.comment);
  });

  it('writes an empty node set without elements', () => {
    expect(renderFirewallTable({ network, nodeIps: [] }).script).not.toContain('elements');
  });
});
