import { describe, expect, it } from 'vitest';
import { formatHostPort, parseHostPort } from './host-port.ts';

// address -> host, port (or undefined: not accepted)
const cases: [string, string | undefined, number | undefined][] = [
  ['127.0.0.1:9901', '127.0.0.1', 9901],
  ['0.0.0.0:0', '0.0.0.0', 0],
  ['localhost:65535', 'localhost', 65535],
  ['pier-admin.svc.cluster.local:80', 'pier-admin.svc.cluster.local', 80],
  ['[::1]:9901', '::1', 9901],
  ['[::]:53', '::', 53],
  ['abc', undefined, undefined],
  ['127.0.0.1', undefined, undefined],
  [':9901', undefined, undefined],
  ['127.0.0.1:', undefined, undefined],
  ['127.0.0.1:65536', undefined, undefined],
  ['127.0.0.1:-1', undefined, undefined],
  ['127.0.0.1:80x', undefined, undefined],
  ['256.0.0.1:80', undefined, undefined],
  ['::1:80', undefined, undefined],
  ['[::1]80', undefined, undefined],
  ['[nope]:80', undefined, undefined],
  ['-bad.example:80', undefined, undefined],
  ['a b:80', undefined, undefined],
];

describe('parseHostPort', () => {
  it.each(cases)('%s', (address, host, port) => {
    expect(parseHostPort(address)).toEqual(host === undefined ? undefined : { host, port });
  });

  it('formats back, bracketing IPv6', () => {
    expect(formatHostPort({ host: '::1', port: 80 })).toBe('[::1]:80');
    expect(formatHostPort({ host: '127.0.0.1', port: 80 })).toBe('127.0.0.1:80');
  });
});
