// Request and response header filtering as tables of header lines:
// what the client (or backend) sent -> what goes on, and what was captured.

import { describe, expect, it } from 'vitest';
import { compileHeaderEdits, type HeaderEdits } from './header-edits.ts';
import {
  compileRequestHeaderRules,
  newRequestHeaderScan,
  type RequestHeaderScan,
  scanRequestHeaders,
} from './request-headers.ts';
import {
  compileResponseEdits,
  filterResponseHeaders,
  type ParsedHeaders,
} from './response-headers.ts';

/** "Name: value" lines -> flat raw headers. */
function raw(lines: string[]): string[] {
  return lines.flatMap((line) => {
    const i = line.indexOf(':', 1);
    return [line.slice(0, i), line.slice(i + 1).trim()];
  });
}

function lines(flat: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < flat.length; i += 2) result.push(`${flat[i]}: ${flat[i + 1]}`);
  return result;
}

function scan(
  input: string[],
  edits?: HeaderEdits,
  affinity?: string,
): { out: string[]; scan: RequestHeaderScan } {
  const rules = compileRequestHeaderRules(compileHeaderEdits(edits), affinity);
  const out: string[] = [];
  const s = newRequestHeaderScan();
  scanRequestHeaders(raw(input), rules, out, s);
  return { out: lines(out), scan: s };
}

describe('request headers', () => {
  it.each([
    {
      case: 'end-to-end headers pass in order, as spelled',
      in: ['Host: shop', 'User-Agent: curl', 'Accept: */*', 'accept: text/html'],
      out: ['User-Agent: curl', 'Accept: */*', 'accept: text/html'],
      captured: { host: 'shop' },
    },
    {
      case: 'hop-by-hop headers go',
      in: [
        'Connection: keep-alive, X-Hop',
        'Keep-Alive: timeout=5',
        'Proxy-Connection: keep-alive',
        'Transfer-Encoding: chunked',
        'TE: gzip',
        'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA',
        'Proxy-Authorization: Basic eDp5',
        'X-Hop: 1',
        'X-End: 2',
      ],
      out: ['X-End: 2'],
      captured: { chunked: true, teTrailers: false },
    },
    {
      case: 'te: trailers is noted (re-added by forward)',
      in: ['TE: trailers, deflate;q=0.5'],
      out: [],
      captured: { teTrailers: true },
    },
    {
      case: 'Upgrade is captured, not passed',
      in: ['Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Key: abc'],
      out: ['Sec-WebSocket-Key: abc'],
      captured: { upgrade: 'websocket' },
    },
    {
      case: 'Expect: 100-continue is answered locally',
      in: ['Expect: 100-Continue', 'Content-Length: 5'],
      out: ['Content-Length: 5'],
      captured: { expectContinue: true, contentLength: 5 },
    },
    {
      case: 'forwarding headers are captured to be rebuilt',
      in: [
        'X-Forwarded-For: 1.1.1.1',
        'x-forwarded-for: 2.2.2.2',
        'X-Forwarded-Proto: https',
        'X-Forwarded-Host: a.example',
        'Forwarded: for=1.1.1.1',
      ],
      out: [],
      captured: {
        xff: '1.1.1.1, 2.2.2.2',
        xfp: 'https',
        xfh: 'a.example',
        forwarded: 'for=1.1.1.1',
      },
    },
    {
      case: 'trace context is captured',
      in: [
        'traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        'tracestate: a=1',
        'tracestate: b=2',
      ],
      out: [],
      captured: {
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        tracestate: 'a=1,b=2',
      },
    },
    {
      case: 'HTTP/2 pseudo-headers: :authority is the host',
      in: [
        ':method: POST',
        ':path: /pkg.Svc/Call',
        ':scheme: http',
        ':authority: grpc.local',
        'content-type: application/grpc',
        'te: trailers',
      ],
      out: ['content-type: application/grpc'],
      captured: { host: 'grpc.local', grpc: true, teTrailers: true },
    },
    {
      case: 'a malformed Content-Length is flagged',
      in: ['Content-Length: 12x'],
      out: ['Content-Length: 12x'],
      captured: { contentLength: -2 },
    },
  ])('$case', ({ in: input, out, captured }) => {
    const result = scan(input);
    expect(result.out).toEqual(out);
    expect(result.scan).toMatchObject(captured);
  });

  it('applies the route edits: removed and set names go, the scan keeps its own', () => {
    const result = scan(['Cookie: a=1', 'X-Env: dev', 'X-Keep: 1', 'Connection: close'], {
      set: [{ name: 'X-Env', value: 'prod' }],
      remove: ['cookie', 'connection'],
    });
    expect(result.out).toEqual(['X-Keep: 1']);
  });

  it('ignores edits of protected names, takes a set Host, and still sees gRPC under an edited Content-Type', () => {
    const edits = {
      set: [
        { name: 'X-Forwarded-For', value: '6.6.6.6' },
        { name: 'Content-Length', value: '0' },
        { name: 'Connection', value: 'x-a' },
        { name: 'Proxy-Authorization', value: 'x' },
        { name: 'traceparent', value: 'forged' },
        { name: 'Host', value: 'internal' },
        { name: 'Content-Type', value: 'application/grpc+proto' },
        { name: 'X-Ok', value: '1' },
      ],
    };
    const rules = compileRequestHeaderRules(compileHeaderEdits(edits));
    expect(rules.append).toEqual(['Content-Type', 'application/grpc+proto', 'X-Ok', '1']);
    expect(rules.host).toBe('internal');
    const result = scan(
      ['Host: shop', 'Content-Type: application/grpc', 'Content-Length: 5', 'X-A: kept'],
      edits,
    );
    // The client's Content-Length stays (framing); its Content-Type goes (the edit replaces it).
    expect(result.out).toEqual(['Content-Length: 5', 'X-A: kept']);
    expect(result.scan).toMatchObject({ host: 'shop', grpc: true, contentLength: 5 });
  });

  it('captures the affinity header and cookie lines', () => {
    expect(scan(['Cookie: a=1', 'Cookie: sticky=xyz'], undefined, 'cookie').scan.affinity).toBe(
      'a=1; sticky=xyz',
    );
    const byHeader = scan(['X-User: 42'], undefined, 'x-user');
    expect(byHeader.scan.affinity).toBe('42');
    expect(byHeader.out).toEqual(['X-User: 42']);
  });
});

describe('response headers', () => {
  it.each([
    {
      case: 'hop-by-hop headers go, repeats stay',
      in: {
        'content-type': 'text/plain',
        connection: 'keep-alive, x-internal',
        'keep-alive': 'timeout=5',
        'transfer-encoding': 'chunked',
        'x-internal': 'secret',
        'proxy-authenticate': 'Basic',
        'set-cookie': ['a=1', 'b=2'],
        upgrade: 'h2c',
      } as ParsedHeaders,
      edits: undefined as HeaderEdits | undefined,
      upgrade: false,
      out: ['content-type: text/plain', 'set-cookie: a=1', 'set-cookie: b=2'],
    },
    {
      case: 'a 101 keeps Upgrade',
      in: {
        upgrade: 'websocket',
        connection: 'Upgrade',
        'sec-websocket-accept': 'xyz',
      } as ParsedHeaders,
      edits: undefined,
      upgrade: true,
      out: ['upgrade: websocket', 'sec-websocket-accept: xyz', 'connection: upgrade'],
    },
    {
      case: 'response edits',
      in: { server: 'gunicorn', 'x-a': '1' } as ParsedHeaders,
      edits: {
        set: [{ name: 'X-A', value: '2' }],
        remove: ['server'],
        add: [{ name: 'x-b', value: '3' }],
      },
      upgrade: false,
      out: ['X-A: 2', 'x-b: 3'],
    },
    {
      case: 'edits of framing and hop-by-hop names are ignored',
      in: { 'content-length': '2', 'x-a': '1' } as ParsedHeaders,
      edits: {
        set: [
          { name: 'Content-Length', value: '99' },
          { name: 'Transfer-Encoding', value: 'chunked' },
          { name: 'Connection', value: 'close' },
          { name: 'X-A', value: '2' },
        ],
        remove: ['content-length', 'proxy-authenticate'],
      },
      upgrade: false,
      out: ['content-length: 2', 'X-A: 2'],
    },
  ])('$case', ({ in: headers, edits, upgrade, out }) => {
    const flat: string[] = [];
    filterResponseHeaders(headers, compileResponseEdits(compileHeaderEdits(edits)), flat, upgrade);
    expect(lines(flat)).toEqual(out);
  });
});
