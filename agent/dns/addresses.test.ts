import { describe, expect, it } from 'vitest';
import { canonicalIP, dashedIP, ipv6Bytes, ipv6Text, reverseName, undashIP } from './addresses.ts';

describe('addresses', () => {
  it.each([
    ['10.0.0.1', '1.0.0.10.in-addr.arpa.'],
    [
      '2001:db8::567:89ab',
      'b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.',
    ],
    [
      '::ffff:10.1.2.3',
      '3.0.2.0.1.0.a.0.f.f.f.f.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa.',
    ],
    ['not-an-ip', undefined],
  ])('reverse name of %s', (ip, name) => {
    expect(reverseName(ip)).toBe(name);
  });

  it.each([
    ['10.0.0.1', '10-0-0-1'],
    ['fd00::1', 'fd00--1'],
    ['FD00:0:0:0:0:0:0:1', 'fd00--1'],
    ['2001:db8:0:1:0:0:0:1', '2001-db8-0-1--1'],
  ])('dashed form of %s is %s and back', (ip, dashed) => {
    expect(dashedIP(ip)).toBe(dashed);
    expect(undashIP(dashed)).toBe(canonicalIP(ip));
  });

  it('keeps a lone zero group uncompressed (RFC 5952)', () => {
    expect(ipv6Text(ipv6Bytes('2001:db8:0:1:1:1:1:1')!)).toBe('2001:db8:0:1:1:1:1:1');
    expect(ipv6Text(ipv6Bytes('::')!)).toBe('::');
    expect(ipv6Text(ipv6Bytes('1::')!)).toBe('1::');
  });

  it('rejects what is not an address', () => {
    expect(undashIP('1-2-3')).toBeUndefined();
    expect(undashIP('db-0')).toBeUndefined();
    expect(ipv6Bytes('1:2:3:4:5:6:7:8:9')).toBeUndefined();
    expect(canonicalIP('300.1.1.1')).toBeUndefined();
  });
});
