// The request parser as a table in HTTP's own notation: the bytes a client
// sends, then what the listener makes of them. Every case runs three ways:
// in one read, one byte per read, and split at every position in two reads,
// so a head, chunk-size line, chunk end or trailer torn across reads is
// covered everywhere, and no verdict depends on how TCP cut the bytes.

import { describe, expect, it } from 'vitest';
import { crlf, everyWay as feedEveryWay } from '../../http1/testing.ts';
import {
  type RequestHead,
  RequestParseError,
  RequestParser,
  type RequestSink,
} from './request-parser.ts';

interface Seen {
  head?: RequestHead;
  body: string;
  complete: boolean;
  trailers?: Record<string, string | string[]>;
  /** What execute() handed back: the bytes after the request (or after a taken-over head). */
  rest: string;
  error?: string;
}

interface Options {
  /** onHead's answer: true takes the connection over. */
  takeover?: boolean;
}

function parse(chunks: string[], options: Options = {}): Seen {
  const seen: Seen = { body: '', complete: false, rest: '' };
  const parser = new RequestParser(256);
  parser.reset({
    onHead(head) {
      expect(seen.head, 'one head per request').toBeUndefined();
      seen.head = head;
      return options.takeover ?? false;
    },
    onBody(chunk) {
      seen.body += chunk.toString('latin1');
    },
    onComplete(trailers) {
      expect(seen.complete, 'complete once').toBe(false);
      seen.complete = true;
      if (trailers !== undefined) seen.trailers = { ...trailers };
    },
  });
  try {
    for (const chunk of chunks) {
      // After the end every later read comes back whole: together, the leftover bytes.
      const rest = parser.execute(Buffer.from(chunk, 'latin1'));
      if (rest !== undefined) seen.rest += rest.toString('latin1');
    }
  } catch (error) {
    if (!(error instanceof RequestParseError)) throw error;
    seen.error = error.code;
  }
  return seen;
}

const everyWay = (raw: string, options?: Options): Seen => feedEveryWay(parse, raw, options);

describe('RequestParser: heads and framing', () => {
  it.each([
    {
      name: 'GET with Host: kept as sent, keep-alive, no body',
      raw: 'GET /a?b=1 HTTP/1.1\nHost: a.example\nX-Mixed-CASE:  v \n\n',
      want: {
        head: {
          method: 'GET',
          target: '/a?b=1',
          versionMajor: 1,
          versionMinor: 1,
          rawHeaders: ['Host', 'a.example', 'X-Mixed-CASE', 'v'],
          keepAlive: true,
          upgrade: false,
          expectContinue: false,
          contentLength: -1,
          chunked: false,
        },
        body: '',
        complete: true,
        rest: '',
      },
    },
    {
      name: 'HTTP/1.0 needs no Host and is not kept alive',
      raw: 'GET / HTTP/1.0\n\n',
      want: { head: { versionMinor: 0, rawHeaders: [], keepAlive: false }, complete: true },
    },
    {
      name: 'HTTP/1.0 with Connection: keep-alive',
      raw: 'GET / HTTP/1.0\nConnection: Keep-Alive\n\n',
      want: { head: { versionMinor: 0, keepAlive: true }, complete: true },
    },
    {
      name: 'HTTP/1.1 with Connection: close',
      raw: 'GET / HTTP/1.1\nHost: a\nConnection: keep-alive\nConnection: Close\n\n',
      want: { head: { keepAlive: false }, complete: true },
    },
    {
      // RFC 9110 6.2: a later minor version is read as the highest known (RequestHead says so).
      name: 'a later HTTP/1.x is HTTP/1.1',
      raw: 'GET / HTTP/1.2\nHost: a\n\n',
      want: { head: { versionMajor: 1, versionMinor: 1, keepAlive: true }, complete: true },
    },
    {
      // RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request-line
      // (old clients send a CRLF after a POST body; node:http skips it).
      name: 'an empty line before the request-line is skipped',
      raw: '\nGET / HTTP/1.1\nHost: a\n\n',
      want: { head: { method: 'GET', target: '/' }, complete: true, rest: '' },
    },
    {
      name: 'absolute-form target',
      raw: 'GET http://a.example:8080/p?q HTTP/1.1\nHost: a.example:8080\n\n',
      want: { head: { target: 'http://a.example:8080/p?q', upgrade: false }, complete: true },
    },
    {
      // Refusing it for anything but OPTIONS is the handler's job.
      name: 'asterisk-form target',
      raw: 'OPTIONS * HTTP/1.1\nHost: a\n\n',
      want: { head: { method: 'OPTIONS', target: '*' }, complete: true },
    },
    {
      name: 'CONNECT authority-form is an upgrade',
      raw: 'CONNECT a.example:443 HTTP/1.1\nHost: a.example:443\n\n',
      want: { head: { method: 'CONNECT', target: 'a.example:443', upgrade: true }, complete: true },
    },
    {
      name: 'Content-Length body',
      raw: 'POST /p HTTP/1.1\nHost: a\nContent-Length: 5\n\nhello',
      want: { head: { contentLength: 5, chunked: false }, body: 'hello', complete: true, rest: '' },
    },
    {
      name: 'Content-Length: 0',
      raw: 'POST /p HTTP/1.1\nHost: a\nContent-Length: 0\n\n',
      want: { head: { contentLength: 0 }, body: '', complete: true },
    },
    {
      name: 'identical Content-Length values repeated',
      raw: 'POST /p HTTP/1.1\nHost: a\nContent-Length: 2, 2\ncontent-length: 2\n\nok',
      want: { head: { contentLength: 2 }, body: 'ok', complete: true },
    },
    {
      name: 'chunked with chunk extensions',
      raw: 'POST /p HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n5;a=b\nhello\n6 ; q="x y" ;r\n world\nA\n0123456789\n0;end\n\n',
      want: {
        head: { chunked: true, contentLength: -1 },
        body: 'hello world0123456789',
        complete: true,
        rest: '',
      },
    },
    {
      name: 'chunked with trailers, lowercase-keyed',
      raw: 'POST /p HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n3\nabc\n0\nX-Checksum: 9\nGrpc-Status: 0\nx-checksum: 10\n\n',
      want: {
        body: 'abc',
        complete: true,
        trailers: { 'x-checksum': ['9', '10'], 'grpc-status': '0' },
      },
    },
    {
      name: 'gzip, chunked: chunked is last',
      raw: 'POST /p HTTP/1.1\nHost: a\nTransfer-Encoding: gzip, Chunked\n\n1\nz\n0\n\n',
      want: { head: { chunked: true }, body: 'z', complete: true },
    },
    {
      name: 'Expect: 100-continue',
      raw: 'POST /p HTTP/1.1\nHost: a\nExpect: 100-continue\nContent-Length: 1\n\nx',
      want: { head: { expectContinue: true, expectOther: false }, body: 'x', complete: true },
    },
    {
      name: 'Expect: 100-CONTINUE, in any case',
      raw: 'POST /p HTTP/1.1\nHost: a\nExpect: 100-CONTINUE\nContent-Length: 1\n\nx',
      want: { head: { expectContinue: true }, complete: true },
    },
    {
      name: 'Expect: something else',
      raw: 'GET / HTTP/1.1\nHost: a\nExpect: 200-ok\n\n',
      want: { head: { expectContinue: false, expectOther: true }, complete: true },
    },
    {
      name: 'Connection: Upgrade with an Upgrade header',
      raw: 'GET /chat HTTP/1.1\nHost: a\nConnection: keep-alive, Upgrade\nUpgrade: websocket\n\n',
      want: { head: { upgrade: true }, complete: true },
    },
    {
      name: 'an Upgrade header without Connection: upgrade is no upgrade',
      raw: 'GET /chat HTTP/1.1\nHost: a\nUpgrade: websocket\n\n',
      want: { head: { upgrade: false }, complete: true },
    },
    {
      name: 'pipelined: the rest is the next request, byte for byte',
      raw: 'GET /1 HTTP/1.1\nHost: a\n\nGET /2 HTTP/1.1\nHost: a\n\n',
      want: { head: { target: '/1' }, complete: true, rest: crlf('GET /2 HTTP/1.1\nHost: a\n\n') },
    },
    {
      name: 'pipelined after a chunked body',
      raw: 'POST /1 HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n2\nok\n0\n\nPOST /2 HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc',
      want: {
        body: 'ok',
        complete: true,
        rest: crlf('POST /2 HTTP/1.1\nHost: a\nContent-Length: 3\n\nabc'),
      },
    },
  ])('$name', ({ raw, want }) => {
    const seen = everyWay(crlf(raw));
    expect(seen.error).toBeUndefined();
    expect(seen).toMatchObject(want);
  });

  it.each([
    [
      'a WebSocket upgrade',
      'GET /chat HTTP/1.1\nHost: a\nConnection: Upgrade\nUpgrade: websocket\nContent-Length: 2\n\n',
    ],
    ['CONNECT', 'CONNECT a.example:443 HTTP/1.1\nHost: a.example:443\n\n'],
  ])('%s taken over: the bytes after the head come back, no body, no end', (_name, head) => {
    const frame = '\x81\x05hello';
    const seen = everyWay(crlf(head) + frame, { takeover: true });
    expect(seen).toMatchObject({ head: { upgrade: true }, body: '', complete: false, rest: frame });
  });

  it('reset() after a complete request parses the next on the same parser', () => {
    const parser = new RequestParser(256);
    const targets: string[] = [];
    const sink: RequestSink = {
      onHead(head) {
        targets.push(head.target);
        return false;
      },
      onBody() {},
      onComplete() {},
    };
    parser.reset(sink);
    const rest = parser.execute(
      Buffer.from(crlf('GET /1 HTTP/1.1\nHost: a\n\nGET /2 HTTP/1.1\nHost: a\n\n')),
    );
    expect([parser.done, parser.idle]).toEqual([true, true]);
    parser.reset(sink);
    expect([parser.done, parser.idle]).toEqual([false, false]);
    expect(parser.execute(rest!)).toBeUndefined();
    expect(targets).toEqual(['/1', '/2']);
    expect(parser.done).toBe(true);
  });
});

describe('RequestParser: refuses what could split or smuggle a request', () => {
  it.each([
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\n\n', 'HPE_MISSING_HOST'],
    // RFC 9110 6.2 and RFC 9112 3.2: read as HTTP/1.1, so Host is required.
    ['HTTP/1.2 without Host', 'GET / HTTP/1.2\n\n', 'HPE_MISSING_HOST'],
    ['an unknown method', 'FOO / HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_METHOD'],
    ['a method with a delimiter', 'GET: / HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_METHOD'],
    ['a lowercase method', 'get / HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_METHOD'],
    ['an empty target', 'GET  HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_URL'],
    // Three spaces: not a request-line at all.
    ['a space in the target', 'GET /a b HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_METHOD'],
    ['a control character in the target', 'GET /a\x01b HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_URL'],
    ['a tab in the target', 'GET /a\tb HTTP/1.1\nHost: a\n\n', 'HPE_INVALID_URL'],
    ['HTTP/1.1.2', 'GET / HTTP/1.1.2\nHost: a\n\n', 'HPE_INVALID_VERSION'],
    ['HTTP/11', 'GET / HTTP/11\nHost: a\n\n', 'HPE_INVALID_VERSION'],
    ['a lowercase version', 'GET / http/1.1\nHost: a\n\n', 'HPE_INVALID_VERSION'],
    ['no version after the target', 'GET / \nHost: a\n\n', 'HPE_INVALID_VERSION'],
    // Two parts only (HTTP/0.9's request-line): not a request-line either.
    ['no version at all', 'GET /\nHost: a\n\n', 'HPE_INVALID_METHOD'],
    [
      'Content-Length, then Transfer-Encoding',
      'POST / HTTP/1.1\nHost: a\nContent-Length: 3\nTransfer-Encoding: chunked\n\n0\n\n',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    ],
    [
      'Transfer-Encoding, then Content-Length',
      'POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nContent-Length: 3\n\n0\n\n',
      'HPE_UNEXPECTED_CONTENT_LENGTH',
    ],
    [
      'differing Content-Lengths',
      'POST / HTTP/1.1\nHost: a\nContent-Length: 4\nContent-Length: 5\n\nabcde',
      'HPE_INVALID_CONTENT_LENGTH',
    ],
    [
      'a Content-Length list of differing values',
      'POST / HTTP/1.1\nHost: a\nContent-Length: 4, 5\n\nabcde',
      'HPE_INVALID_CONTENT_LENGTH',
    ],
    ...['+4', '-1', '0x10', '', '1234567890123456'].map((value) => [
      `Content-Length: ${value}`,
      `POST / HTTP/1.1\nHost: a\nContent-Length: ${value}\n\nabcd`,
      'HPE_INVALID_CONTENT_LENGTH',
    ]),
    ...['chunked, identity', 'xchunked', 'chunked, chunked'].map((value) => [
      `Transfer-Encoding: ${value}`,
      `POST / HTTP/1.1\nHost: a\nTransfer-Encoding: ${value}\n\n0\n\n`,
      'HPE_INVALID_TRANSFER_ENCODING',
    ]),
    [
      'chunked, then another coding on a second line',
      'POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\nTransfer-Encoding: gzip\n\n0\n\n',
      'HPE_INVALID_TRANSFER_ENCODING',
    ],
    [
      'Transfer-Encoding in HTTP/1.0',
      'POST / HTTP/1.0\nTransfer-Encoding: chunked\n\n0\n\n',
      'HPE_INVALID_TRANSFER_ENCODING',
    ],
    ['obs-fold', 'GET / HTTP/1.1\nHost: a\nX-A: 1\n  folded\n\n', 'HPE_INVALID_HEADER_TOKEN'],
    [
      'whitespace before the first field line',
      'GET / HTTP/1.1\n Host: a\n\n',
      'HPE_INVALID_HEADER_TOKEN',
    ],
    ['space before the colon', 'GET / HTTP/1.1\nHost : a\n\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['an empty field name', 'GET / HTTP/1.1\nHost: a\n: x\n\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['NUL in a value', 'GET / HTTP/1.1\nHost: a\nX-A: a\x00b\n\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['DEL in a value', 'GET / HTTP/1.1\nHost: a\nX-A: a\x7fb\n\n', 'HPE_INVALID_HEADER_TOKEN'],
    ['CR in a value', 'RAW:GET / HTTP/1.1\r\nHost: a\r\nX-A: a\rb\r\n\r\n', 'HPE_LF_EXPECTED'],
    ['a bare LF in a CRLF head', 'RAW:GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', 'HPE_CR_EXPECTED'],
    // Never a CRLFCRLF: refused from these bytes alone, not after waiting for more.
    ['bare LF line ends', 'RAW:GET / HTTP/1.1\nHost: a\n\n', 'HPE_CR_EXPECTED'],
    ['bare CR line ends', 'RAW:GET / HTTP/1.1\rHost: a\r\r', 'HPE_LF_EXPECTED'],
    ...['zz', '-1', '0x3', '10000000000000', '3;', '3 ', '3;a=', '3;a="b'].map((size) => [
      `chunk size ${JSON.stringify(size)}`,
      `POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n${size}\nabc\n0\n\n`,
      'HPE_INVALID_CHUNK_SIZE',
    ]),
    [
      'chunk data longer than its size',
      'POST / HTTP/1.1\nHost: a\nTransfer-Encoding: chunked\n\n2\nabc\n0\n\n',
      'HPE_STRICT',
    ],
    [
      'a bare LF ending a chunk-size line',
      'RAW:POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n',
      'HPE_INVALID_CHUNK_SIZE',
    ],
    [
      'a bare LF after chunk data',
      'RAW:POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n',
      'HPE_STRICT',
    ],
    [
      'a bare LF in the trailers',
      'RAW:POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 1\nY: 2\r\n\r\n',
      'HPE_INVALID_HEADER_TOKEN',
    ],
    [
      'a head over the limit',
      `GET / HTTP/1.1\nHost: a\nX: ${'a'.repeat(300)}\n\n`,
      'HPE_HEADER_OVERFLOW',
    ],
    // Still no CRLFCRLF, but already too long to be a head.
    [
      'an unfinished head over the limit',
      `RAW:GET / HTTP/1.1\r\nX: ${'a'.repeat(300)}`,
      'HPE_HEADER_OVERFLOW',
    ],
  ])('%s', (_name, row, code) => {
    // RAW: rows keep their line ends as written; the others are written with \n for CRLF.
    const raw = row.startsWith('RAW:') ? row.slice(4) : crlf(row);
    expect(everyWay(raw).error).toBe(code);
  });

  it('a head near the limit gets the same verdict however it is torn', () => {
    const prefix = 'GET / HTTP/1.1\r\nHost: a\r\nX: ';
    for (let size = 248; size <= 264; size++) {
      const raw = `${prefix}${'a'.repeat(size - prefix.length)}\r\n\r\n`;
      const verdict = parse([raw]).error;
      expect(parse([...raw]).error, `a ${size}-byte head, one byte per read`).toBe(verdict);
      everyWay(raw);
    }
  });
});
