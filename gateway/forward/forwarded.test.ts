// Forwarding headers as a table: what the peer sent and whether it is a
// trusted proxy -> what the backend gets, and who the client is.

import { describe, expect, it } from 'vitest';
import {
  type ForwardedInput,
  forwardedElement,
  forwardedHeaders,
  forwardedNode,
  forwardedValue,
} from './forwarded.ts';
import { createTrustedProxies } from './trusted-proxies.ts';

const trusted = createTrustedProxies(['10.0.0.0/8', 'fd00::/8']);
const none = createTrustedProxies([]);

function input(partial: Partial<ForwardedInput>): ForwardedInput {
  return {
    peer: '203.0.113.7',
    proto: 'http',
    host: 'shop.example.com',
    xff: undefined,
    xfp: undefined,
    xfh: undefined,
    forwarded: undefined,
    ...partial,
  };
}

describe('forwardedHeaders', () => {
  it.each([
    {
      case: 'plain client',
      in: input({}),
      list: trusted,
      out: {
        clientIp: '203.0.113.7',
        xff: '203.0.113.7',
        xfp: 'http',
        xfh: 'shop.example.com',
        forwarded: 'for=203.0.113.7;host=shop.example.com;proto=http',
      },
    },
    {
      case: "an untrusted client's forwarding headers are discarded",
      in: input({ xff: '1.2.3.4', xfp: 'https', xfh: 'evil.example', forwarded: 'for=1.2.3.4' }),
      list: trusted,
      out: {
        clientIp: '203.0.113.7',
        xff: '203.0.113.7',
        xfp: 'http',
        xfh: 'shop.example.com',
        forwarded: 'for=203.0.113.7;host=shop.example.com;proto=http',
      },
    },
    {
      case: 'nothing is trusted by default',
      in: input({ peer: '10.1.1.1', xff: '1.2.3.4' }),
      list: none,
      out: { clientIp: '10.1.1.1', xff: '10.1.1.1' },
    },
    {
      case: "a trusted proxy's chain is extended; the client is the first untrusted from the right",
      in: input({
        peer: '10.1.1.1',
        proto: 'https',
        xff: '198.51.100.9, 10.2.2.2',
        xfp: 'https',
        xfh: 'shop.example.com',
        forwarded: 'for=198.51.100.9, for=10.2.2.2',
        host: 'internal:8443',
      }),
      list: trusted,
      out: {
        clientIp: '198.51.100.9',
        xff: '198.51.100.9, 10.2.2.2, 10.1.1.1',
        xfp: 'https',
        xfh: 'shop.example.com',
        forwarded: 'for=198.51.100.9, for=10.2.2.2, for=10.1.1.1;host="internal:8443";proto=https',
      },
    },
    {
      case: 'a spoofed leftmost entry does not fool the right-to-left walk',
      in: input({ peer: '10.1.1.1', xff: '127.0.0.1, 198.51.100.9' }),
      list: trusted,
      out: { clientIp: '198.51.100.9', xff: '127.0.0.1, 198.51.100.9, 10.1.1.1' },
    },
    {
      case: 'all hops trusted: the leftmost is the client',
      in: input({ peer: '10.1.1.1', xff: '10.3.3.3,10.2.2.2' }),
      list: trusted,
      out: { clientIp: '10.3.3.3' },
    },
    {
      case: 'a trusted proxy without headers: it is the client',
      in: input({ peer: '10.1.1.1' }),
      list: trusted,
      out: {
        clientIp: '10.1.1.1',
        xff: '10.1.1.1',
        forwarded: 'for=10.1.1.1;host=shop.example.com;proto=http',
      },
    },
    {
      case: 'IPv6 peers are bracketed and quoted in Forwarded',
      in: input({ peer: '2001:db8::7' }),
      list: trusted,
      out: {
        clientIp: '2001:db8::7',
        xff: '2001:db8::7',
        forwarded: 'for="[2001:db8::7]";host=shop.example.com;proto=http',
      },
    },
    {
      case: 'no Host: no host parameter',
      in: input({ host: undefined }),
      list: trusted,
      out: { xfh: undefined, forwarded: 'for=203.0.113.7;proto=http' },
    },
  ])('$case', ({ in: given, list, out }) => {
    expect(forwardedHeaders(given, list)).toMatchObject(out);
  });

  it.each([
    ['example.com', 'example.com'],
    ['example.com:8080', '"example.com:8080"'],
    ['a"b', '"a\\"b"'],
  ])('forwardedValue(%j) = %s', (value, expected) => {
    expect(forwardedValue(value)).toBe(expected);
  });

  it.each([
    ['192.0.2.43', '192.0.2.43'],
    ['2001:db8:cafe::17', '"[2001:db8:cafe::17]"'],
  ])('forwardedNode(%j) = %s', (value, expected) => {
    expect(forwardedNode(value)).toBe(expected);
  });
});

describe('forwardedElement', () => {
  it.each([
    ['10.0.0.1', 'example.com', 'http', 'for=10.0.0.1;host=example.com;proto=http'],
    ['10.0.0.1', 'example.com:8080', 'https', 'for=10.0.0.1;host="example.com:8080";proto=https'],
    ['fd00::1', undefined, 'http', 'for="[fd00::1]";proto=http'],
    ['', 'a', 'http', 'for=unknown;host=a;proto=http'],
    ['10.0.0.1', 'we"ird', 'http', 'for=10.0.0.1;host="we\\"ird";proto=http'],
  ])('%s %s %s -> %s', (peer, host, proto, element) => {
    // Twice: the second answer comes from the host cache.
    expect(forwardedElement(peer, host, proto)).toBe(element);
    expect(forwardedElement(peer, host, proto)).toBe(element);
  });
});
