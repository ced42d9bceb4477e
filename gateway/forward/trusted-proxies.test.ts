import { describe, expect, it } from 'vitest';
import { createTrustedProxies, parseIp, unmapIPv4 } from './trusted-proxies.ts';

describe('trusted proxies', () => {
  // cidrs | address | trusted
  it.each([
    [[], '10.0.0.1', false],
    [['10.0.0.0/8'], '10.1.2.3', true],
    [['10.0.0.0/8'], '11.0.0.1', false],
    [['10.0.0.0/8'], '::ffff:10.1.2.3', true],
    [['192.168.1.7'], '192.168.1.7', true],
    [['192.168.1.7'], '192.168.1.8', false],
    [['192.168.1.0/25'], '192.168.1.127', true],
    [['192.168.1.0/25'], '192.168.1.128', false],
    [['0.0.0.0/0'], '8.8.8.8', true],
    [['0.0.0.0/0'], '2001:db8::1', false],
    [['2001:db8::/32'], '2001:db8:ffff::1', true],
    [['2001:db8::/32'], '2001:db9::1', false],
    [['::1'], '::1', true],
    [['::1/128'], '::2', false],
    [['fd00::/8'], 'fdff:1:2:3:4:5:6:7', true],
    [['::/0'], '10.0.0.1', true], // ::/0 covers the mapped IPv4 block too
    [['10.0.0.0/8'], 'not-an-ip', false],
    [['10.0.0.0/8'], '10.0.0', false],
    [['10.0.0.0/8'], '10.0.0.256', false],
    [['127.0.0.0/8', '::1'], '127.0.0.1', true],
  ])('%j contains %s: %s', (cidrs, address, trusted) => {
    expect(createTrustedProxies(cidrs).contains(address)).toBe(trusted);
  });

  it.each([
    ['10.0.0.0/33', /prefix length must be 0 to 32/],
    ['fd00::/129', /prefix length must be 0 to 128/],
    ['10.0.0.0/x', /prefix length/],
    ['example.com', /not an IP address/],
    ['10.0.0.0/8/8', /prefix length/],
  ])('rejects %s', (cidr, message) => {
    expect(() => createTrustedProxies([cidr])).toThrow(message);
  });

  it.each([
    ['::', [0, 0, 0, 0]],
    ['::1', [0, 0, 0, 1]],
    ['1::', [0x10000, 0, 0, 0]],
    ['2001:db8::ff00:42:8329', [0x20010db8, 0, 0xff00, 0x428329]],
    ['2001:0db8:0000:0000:0000:ff00:0042:8329', [0x20010db8, 0, 0xff00, 0x428329]],
    ['::ffff:1.2.3.4', [0, 0, 0xffff, 0x01020304]],
    ['1.2.3.4', [0, 0, 0xffff, 0x01020304]],
  ])('parses %s', (text, expected) => {
    const out = new Uint32Array(4);
    expect(parseIp(text, out)).toBe(true);
    expect([...out]).toEqual(expected);
  });

  it.each([
    ':::',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    ':1::',
    '1:',
    'g::1',
    '01.2.3.4',
    '1.2.3.4.5',
    '',
    '::1.2.3',
  ])('does not parse %j', (text) => {
    expect(parseIp(text)).toBe(false);
  });

  it('unmaps IPv4-mapped addresses only', () => {
    expect(unmapIPv4('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(unmapIPv4('::ffff:a00:1')).toBe('::ffff:a00:1');
    expect(unmapIPv4('10.0.0.1')).toBe('10.0.0.1');
    expect(unmapIPv4('::1')).toBe('::1');
  });
});
