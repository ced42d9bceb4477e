import { describe, expect, it } from 'vitest';
import {
  contains,
  containsCidr,
  formatCidr,
  formatIp,
  lastOf,
  maskOf,
  overlaps,
  parseCidr,
  parseIp,
  parseIpWithPrefix,
} from './ipv4.ts';

describe('IPv4 addresses', () => {
  it.each([
    ['10.244.1.5', 0x0af40105],
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
    ['192.168.77.254', 0xc0a84dfe],
  ])('%s <-> %i', (text, value) => {
    expect(parseIp(text)).toBe(value);
    expect(formatIp(value)).toBe(text);
  });

  it.each([
    '256.0.0.1',
    '10.0.0',
    '10.0.0.1.2',
    '010.0.0.1',
    '10.0.0.-1',
    'a.b.c.d',
    '',
    ' 10.0.0.1',
  ])('rejects %j', (text) => expect(parseIp(text)).toBeUndefined());
});

describe('IPv4 prefixes', () => {
  it.each([
    ['10.244.0.0/16', '10.244.0.0/16', 16],
    ['0.0.0.0/0', '0.0.0.0/0', 0],
    ['10.244.1.0/24', '10.244.1.0/24', 24],
    ['10.244.1.7/32', '10.244.1.7/32', 32],
  ])('%s', (text, formatted, prefix) => {
    const cidr = parseCidr(text);
    expect(cidr?.prefix).toBe(prefix);
    expect(formatCidr(cidr!)).toBe(formatted);
  });

  it('wants host bits zero unless told otherwise', () => {
    expect(parseCidr('10.244.1.5/24')).toBeUndefined();
    expect(formatCidr(parseCidr('10.244.1.5/24', false)!)).toBe('10.244.1.0/24');
    expect(parseIpWithPrefix('10.244.1.5/24')).toEqual({ ip: parseIp('10.244.1.5'), prefix: 24 });
  });

  it.each(['10.0.0.0/33', '10.0.0.0', '10.0.0.0/', '10.0.0.0/ab', '10.0.0.0/-1'])(
    'rejects %j',
    (text) => expect(parseCidr(text, false)).toBeUndefined(),
  );

  it('measures and compares prefixes', () => {
    const net = parseCidr('10.244.0.0/16')!;
    const sub = parseCidr('10.244.3.0/24')!;
    expect(maskOf(24)).toBe(0xffffff00);
    expect(maskOf(0)).toBe(0);
    expect(formatIp(lastOf(sub))).toBe('10.244.3.255');
    expect(containsCidr(net, sub)).toBe(true);
    expect(containsCidr(sub, net)).toBe(false);
    expect(contains(sub, parseIp('10.244.3.9')!)).toBe(true);
    expect(contains(sub, parseIp('10.244.4.0')!)).toBe(false);
    expect(overlaps(net, sub)).toBe(true);
    expect(overlaps(sub, parseCidr('10.244.4.0/24')!)).toBe(false);
  });
});
