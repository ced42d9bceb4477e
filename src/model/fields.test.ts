import { describe, expect, it } from 'vitest';
import {
  isCIDR,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIanaSvcName,
  isIP,
  isIPv4,
  isIPv6,
  labelValueProblem,
  qualifiedNameProblem,
} from './fields.ts';

describe('Kubernetes name formats', () => {
  it.each([
    ['web', true, true, true],
    ['web-1', true, true, true],
    ['1web', true, true, false],
    ['web.shop', false, true, false],
    ['Web', false, false, false],
    ['-web', false, false, false],
    ['web-', false, false, false],
    ['', false, false, false],
    ['a'.repeat(63), true, true, true],
    ['a'.repeat(64), false, true, false],
    [`${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`, false, true, false],
    [
      `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(62)}`,
      false,
      false,
      false,
    ],
  ])('%j: label %s, subdomain %s, 1035 label %s', (name, label, subdomain, label1035) => {
    expect(isDns1123Label(name)).toBe(label);
    expect(isDns1123Subdomain(name)).toBe(subdomain);
    expect(isDns1035Label(name)).toBe(label1035);
  });

  it.each([
    ['http', true],
    ['http-alt', true],
    ['h2c', true],
    ['8080', false], // needs a letter
    ['http--alt', false],
    ['-http', false],
    ['http_alt', false],
    ['a-very-long-name', false], // 16 characters
  ])('IANA service name %j: %s', (name, ok) => {
    expect(isIanaSvcName(name)).toBe(ok);
  });

  it.each([
    ['app', undefined],
    ['app.kubernetes.io/name', undefined],
    ['example.com/a_b.c-d', undefined],
    ['/app', 'prefix part must be non-empty'],
    ['Example.com/app', 'prefix part must be a lowercase DNS subdomain'],
    ['example.com/', 'name part must be non-empty'],
    ['a'.repeat(64), 'name part must be no more than 63 characters'],
    [
      'app!',
      "name part must consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric",
    ],
  ])('label key %j: %s', (key, problem) => {
    expect(qualifiedNameProblem(key)).toBe(problem);
  });

  it.each([
    ['', undefined],
    ['v1.2_3-x', undefined],
    [
      '-x',
      "must be empty or consist of alphanumerics, '-', '_' or '.', and start and end with an alphanumeric",
    ],
    ['a'.repeat(64), 'must be no more than 63 characters'],
  ])('label value %j: %s', (value, problem) => {
    expect(labelValueProblem(value)).toBe(problem);
  });
});

describe('addresses', () => {
  it.each([
    ['10.0.0.1', true, false],
    ['255.255.255.255', true, false],
    ['010.0.0.1', false, false], // leading zeros are ambiguous (octal): refused, as Kubernetes does
    ['10.0.0.256', false, false],
    ['fd00::1', false, true],
    ['::ffff:10.0.0.1', false, true],
    ['fe80::1%eth0', false, false], // zones are refused
    ['web', false, false],
  ])('%j: IPv4 %s, IPv6 %s', (text, v4, v6) => {
    expect(isIPv4(text)).toBe(v4);
    expect(isIPv6(text)).toBe(v6);
    expect(isIP(text)).toBe(v4 || v6);
  });

  it.each([
    ['10.244.0.0/16', true],
    ['10.244.1.0/24', true],
    ['0.0.0.0/0', true],
    ['fd00:10:244::/56', true],
    ['10.244.0.0/33', false],
    ['10.244.0.0', false],
    ['10.244.0.0/024', false],
    ['fd00::/129', false],
  ])('CIDR %j: %s', (text, ok) => {
    expect(isCIDR(text)).toBe(ok);
  });
});
