import { describe, expect, it } from 'vitest';
import { isPierError } from '../../src/errors.ts';
import { formatResolvConf, parseResolvConf, podDns } from './resolv-conf.ts';
import { parseUpstream, resolveUpstreams } from './upstreams.ts';

describe('resolv.conf', () => {
  it('reads nameservers, search and options as the C library does', () => {
    const conf = parseResolvConf(
      [
        '# a comment',
        'nameserver 10.0.0.2',
        'nameserver fe80::1%eth0 ; link-local with a zone',
        'nameserver not-an-ip',
        'domain old.example',
        'search a.example b.example',
        'options ndots:2 timeout:1',
        'options edns0',
        'sortlist 10.0.0.0',
      ].join('\n'),
    );
    expect(conf).toEqual({
      nameservers: ['10.0.0.2', 'fe80::1'],
      search: ['a.example', 'b.example'],
      options: ['ndots:2', 'timeout:1', 'edns0'],
    });
  });

  it("gives a pod its namespace's search list and this server", () => {
    const dns = podDns('bar', {
      domain: 'cluster.local.',
      serverAddresses: ['10.96.0.10'],
      ndots: 5,
    });
    expect(dns).toEqual({
      nameservers: ['10.96.0.10'],
      search: ['bar.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
    expect(formatResolvConf(dns)).toBe(
      'nameserver 10.96.0.10\nsearch bar.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
    );
    expect(parseResolvConf(formatResolvConf(dns))).toEqual(dns);
  });
});

describe('upstreams', () => {
  it.each([
    ['10.0.0.2', { address: '10.0.0.2', port: 53 }],
    ['10.0.0.2:5353', { address: '10.0.0.2', port: 5353 }],
    ['fd00::2', { address: 'fd00::2', port: 53 }],
    ['[fd00::2]:5353', { address: 'fd00::2', port: 5353 }],
  ])('%s', (text, parsed) => {
    expect(parseUpstream(text)).toEqual(parsed);
  });

  it.each(['dns.google', '10.0.0.2:0', '10.0.0.2:99999', ''])(
    'refuses %j with a clear error',
    (text) => {
      let error: unknown;
      try {
        parseUpstream(text);
      } catch (e) {
        error = e;
      }
      expect(isPierError(error, 'PIER_DNS_BAD_UPSTREAM')).toBe(true);
    },
  );

  it('takes the configured ones, else resolv.conf, never this server itself', () => {
    const read = () => 'nameserver 127.0.0.1\nnameserver 10.0.0.2\n';
    expect(resolveUpstreams(['10.0.0.9'], '/etc/resolv.conf', [], read)).toEqual({
      upstreams: [{ address: '10.0.0.9', port: 53 }],
      source: 'dns.forward.upstreams',
    });
    expect(resolveUpstreams([], '/x/resolv.conf', [{ host: '127.0.0.1', port: 53 }], read)).toEqual(
      {
        upstreams: [{ address: '10.0.0.2', port: 53 }],
        source: '/x/resolv.conf',
      },
    );
    expect(
      resolveUpstreams([], '/x/resolv.conf', [{ host: '0.0.0.0', port: 53 }], read).upstreams,
    ).toEqual([]);
    const missing = () => {
      throw new Error('ENOENT');
    };
    expect(resolveUpstreams([], '/nope', [], missing).upstreams).toEqual([]);
  });
});
