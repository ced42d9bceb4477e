// The response parser as a table in HTTP's own notation: the bytes a backend
// sends, then what the gateway makes of them. Every case runs three ways:
// in one read, one byte per read, and split at every position in two reads,
// so a head, chunk-size line, chunk end or trailer torn across reads is
// covered everywhere.

import { describe, expect, it } from 'vitest';
import { crlf, everyWay as feedEveryWay } from '../../http1/testing.ts';
import type { ResponseHeaders } from '../dispatcher.ts';
import { type ResponseHead, ResponseParser, type ResponseSink } from './response-parser.ts';

interface Seen {
  status?: number;
  reason?: string;
  headers?: Record<string, string | string[]>;
  keepAlive?: boolean;
  keepAliveTimeoutMs?: number;
  body: string;
  complete: boolean;
  trailers?: Record<string, string | string[]>;
  upgraded?: string;
  extraBytes: boolean;
  error?: string;
}

function plain(headers: ResponseHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name in headers) out[name] = headers[name]!;
  return out;
}

function parse(
  chunks: string[],
  options: { method?: string; upgrade?: boolean; eof?: boolean } = {},
): Seen {
  const seen: Seen = { body: '', complete: false, extraBytes: false };
  const parser = new ResponseParser({ maxHeaderBytes: 256 });
  const sink: ResponseSink = {
    onHead(head: ResponseHead) {
      seen.status = head.statusCode;
      seen.reason = head.statusMessage;
      seen.headers = plain(head.headers);
      seen.keepAlive = head.keepAlive;
      seen.keepAliveTimeoutMs = head.keepAliveTimeoutMs;
    },
    onUpgrade(head, rest) {
      seen.status = head.statusCode;
      seen.headers = plain(head.headers);
      seen.upgraded = rest.toString('latin1');
    },
    onBody(chunk) {
      seen.body += chunk.toString('latin1');
    },
    onComplete(trailers) {
      seen.complete = true;
      if (trailers !== undefined) seen.trailers = plain(trailers);
    },
  };
  parser.reset(options.method ?? 'GET', options.upgrade ?? false, sink);
  try {
    for (const chunk of chunks) {
      parser.execute(Buffer.from(chunk, 'latin1'));
      if (seen.upgraded !== undefined) break;
    }
    if (options.eof) parser.finish();
  } catch (error) {
    seen.error = (error as { code?: string }).code;
  }
  seen.extraBytes = parser.extraBytes;
  return seen;
}

type ParseOptions = { method?: string; upgrade?: boolean; eof?: boolean };
const everyWay = (raw: string, options?: ParseOptions): Seen => feedEveryWay(parse, raw, options);

describe('ResponseParser: framing', () => {
  it.each([
    {
      name: 'Content-Length body, keep-alive',
      raw: 'HTTP/1.1 200 OK\nContent-Length: 5\nContent-Type: text/plain\n\nhello',
      want: { status: 200, reason: 'OK', body: 'hello', complete: true, keepAlive: true },
    },
    {
      name: 'no reason phrase',
      raw: 'HTTP/1.1 404\nContent-Length: 0\n\n',
      want: { status: 404, reason: '', body: '', complete: true },
    },
    {
      name: 'chunked with extensions and trailers',
      raw: 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5;a=b\nhello\n6 ; q="x y"\n world\n0\nGrpc-Status: 0\nX-T: 1\n\n',
      want: {
        body: 'hello world',
        complete: true,
        trailers: { 'grpc-status': '0', 'x-t': '1' },
      },
    },
    {
      name: 'chunked, uppercase hex size',
      raw: 'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nA\n0123456789\n0\n\n',
      want: { body: '0123456789', complete: true },
    },
    {
      name: 'gzip, chunked: chunked is last',
      raw: 'HTTP/1.1 200 OK\nTransfer-Encoding: gzip, chunked\n\n1\nz\n0\n\n',
      want: { body: 'z', complete: true, keepAlive: true },
    },
    {
      name: 'HTTP/1.0 without length: until close, not reused',
      raw: 'HTTP/1.0 200 OK\n\nall of it',
      eof: true,
      want: { body: 'all of it', complete: true, keepAlive: false },
    },
    {
      name: 'no length, no chunked: until close',
      raw: 'HTTP/1.1 200 OK\nContent-Type: text/plain\n\nstream',
      eof: true,
      want: { body: 'stream', complete: true, keepAlive: false },
    },
    {
      name: 'Connection: close is not reused',
      raw: 'HTTP/1.1 200 OK\nConnection: keep-alive, Close\nContent-Length: 1\n\nx',
      want: { body: 'x', complete: true, keepAlive: false },
    },
    {
      name: 'Keep-Alive timeout hint',
      raw: 'HTTP/1.1 200 OK\nKeep-Alive: timeout=5, max=100\nContent-Length: 0\n\n',
      want: { complete: true, keepAlive: true, keepAliveTimeoutMs: 5000 },
    },
    {
      name: '204 has no body',
      raw: 'HTTP/1.1 204 No Content\n\n',
      want: { status: 204, body: '', complete: true, keepAlive: true },
    },
    {
      name: '304 with Content-Length has no body',
      raw: 'HTTP/1.1 304 Not Modified\nContent-Length: 99\n\n',
      want: { status: 304, body: '', complete: true },
    },
    {
      name: '100 Continue, then the final response',
      raw: 'HTTP/1.1 100 Continue\n\nHTTP/1.1 201 Created\nContent-Length: 2\n\nok',
      want: { status: 201, body: 'ok', complete: true },
    },
    {
      name: 'repeated headers become arrays; OWS trimmed; names lowercased',
      raw: 'HTTP/1.1 200 OK\nSet-Cookie: a=1\nset-cookie:b=2 \nX-Empty:\nContent-Length: 0\n\n',
      want: { headers: { 'set-cookie': ['a=1', 'b=2'], 'x-empty': '', 'content-length': '0' } },
    },
    {
      name: 'identical Content-Length values repeated',
      raw: 'HTTP/1.1 200 OK\nContent-Length: 2, 2\nContent-Length: 2\n\nok',
      want: { body: 'ok', complete: true },
    },
    {
      name: 'bytes after a complete response are noticed',
      raw: 'HTTP/1.1 200 OK\nContent-Length: 1\n\nxHTTP/1.1 200 OK',
      want: { body: 'x', complete: true, extraBytes: true },
    },
  ])('$name', ({ raw, eof, want }) => {
    const seen = everyWay(crlf(raw), { eof });
    expect(seen.error).toBeUndefined();
    expect(seen).toMatchObject(want);
  });

  it('a HEAD response has no body whatever its Content-Length says', () => {
    const seen = everyWay(crlf('HTTP/1.1 200 OK\nContent-Length: 1000\n\n'), { method: 'HEAD' });
    expect(seen).toMatchObject({ status: 200, body: '', complete: true, keepAlive: true });
  });

  it('hands over the bytes read past a 101 the request asked for', () => {
    const head = crlf(
      'HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\n',
    );
    const frame = '\x81\x05hello';
    for (let i = 1; i <= head.length; i++) {
      // Torn anywhere in the head: what came in the read that completed it is
      // handed over (a head complete in the first read leaves the frame on the socket).
      const seen = parse([head.slice(0, i), head.slice(i) + frame], { upgrade: true });
      expect(seen, `split at ${i}`).toMatchObject({
        status: 101,
        headers: { upgrade: 'websocket', connection: 'Upgrade' },
        upgraded: i === head.length ? '' : frame,
        complete: false,
      });
    }
  });
});

describe('ResponseParser: refuses what could split or smuggle a response', () => {
  it.each([
    [
      'Content-Length with Transfer-Encoding',
      'HTTP/1.1 200 OK\nContent-Length: 3\nTransfer-Encoding: chunked\n\n0\n\n',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    ],
    [
      'differing Content-Lengths',
      'HTTP/1.1 200 OK\nContent-Length: 3\nContent-Length: 4\n\nabcd',
      'HPE_INVALID_CONTENT_LENGTH',
    ],
    [
      'signed Content-Length',
      'HTTP/1.1 200 OK\nContent-Length: +3\n\nabc',
      'HPE_INVALID_CONTENT_LENGTH',
    ],
    [
      'chunked not last',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked, gzip\n\n',
      'HPE_INVALID_TRANSFER_ENCODING',
    ],
    [
      'Transfer-Encoding on HTTP/1.0',
      'HTTP/1.0 200 OK\nTransfer-Encoding: chunked\n\n0\n\n',
      'HPE_INVALID_TRANSFER_ENCODING',
    ],
    [
      'obs-fold',
      'HTTP/1.1 200 OK\nX-A: 1\n  folded\nContent-Length: 0\n\n',
      'HPE_INVALID_HEADER_TOKEN',
    ],
    [
      'space before the colon',
      'HTTP/1.1 200 OK\nContent-Length : 0\n\n',
      'HPE_INVALID_HEADER_TOKEN',
    ],
    [
      'a control character in a value',
      'HTTP/1.1 200 OK\nX-A: a\x01b\nContent-Length: 0\n\n',
      'HPE_INVALID_HEADER_TOKEN',
    ],
    [
      'a bare LF inside the head',
      'RAW:HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 0\r\n\r\n',
      'HPE_CR_EXPECTED',
    ],
    [
      'a bare CR inside the head',
      'RAW:HTTP/1.1 200 OK\r\nX-A: 1\rX-B: 2\r\nContent-Length: 0\r\n\r\n',
      'HPE_LF_EXPECTED',
    ],
    ['a bad status line', 'HTTP/2.0 200 OK\nContent-Length: 0\n\n', 'HPE_INVALID_STATUS'],
    ['a two-digit status', 'HTTP/1.1 20 OK\nContent-Length: 0\n\n', 'HPE_INVALID_STATUS'],
    [
      'a bad chunk size',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\nzz\n',
      'HPE_INVALID_CHUNK_SIZE',
    ],
    [
      'a negative chunk size',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n-1\n',
      'HPE_INVALID_CHUNK_SIZE',
    ],
    [
      'an overflowing chunk size',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n10000000000000000\n',
      'HPE_INVALID_CHUNK_SIZE',
    ],
    [
      'chunk data longer than its size',
      'HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n2\nabc\n0\n\n',
      'HPE_STRICT',
    ],
    [
      'a 101 nobody asked for',
      'HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n\n',
      'HPE_UNEXPECTED_101',
    ],
    [
      'a head over the limit',
      `HTTP/1.1 200 OK\nX-Big: ${'a'.repeat(300)}\n\n`,
      'HPE_HEADER_OVERFLOW',
    ],
  ])('%s', (_name, row, code) => {
    // RAW: rows keep their line endings as written; the others are written with \n for CRLF.
    const raw = row.startsWith('RAW:') ? row.slice(4) : crlf(row);
    expect(parse([raw]).error).toBe(code);
    expect(parse([...raw]).error).toBe(code);
  });

  it('a connection closed mid-body or before the head is an error, not a short response', () => {
    expect(parse([crlf('HTTP/1.1 200 OK\nContent-Length: 10\n\nabc')], { eof: true }).error).toBe(
      'PIER_UPSTREAM_CLOSED',
    );
    expect(
      parse([crlf('HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nab')], { eof: true }).error,
    ).toBe('PIER_UPSTREAM_CLOSED');
    expect(parse(['HTTP/1.1 200'], { eof: true }).error).toBe('PIER_UPSTREAM_CLOSED');
  });

  it('stops calling the sink once stopped', () => {
    const parser = new ResponseParser();
    let bodies = 0;
    let completes = 0;
    parser.reset('GET', false, {
      onHead: () => parser.stop(),
      onUpgrade: () => {},
      onBody: () => bodies++,
      onComplete: () => completes++,
    });
    parser.execute(Buffer.from(crlf('HTTP/1.1 200 OK\nContent-Length: 2\n\nok')));
    expect([bodies, completes]).toEqual([0, 0]);
  });
});
