// An incremental, strict HTTP/1.1 response parser (RFC 9112) for the
// gateway's upstream connections: bytes from the socket in, a head, body
// chunks and an end out. Body chunks are views of the socket's buffers (no
// copy); only a head, a chunk-size line or trailers split across reads are
// joined.
//
// Strict where a lenient parser would let a backend smuggle a second
// response or split one: Content-Length with Transfer-Encoding, differing
// Content-Lengths, a Transfer-Encoding whose last coding is not chunked on a
// message that must be framed, obs-fold, bare CR or LF, spaces before the
// colon, control characters in values, bad or overflowing chunk sizes, a
// chunk not followed by CRLF, and a 101 the request did not ask for are all
// errors (code HPE_*, like llhttp's, so the forwarder classifies them as
// protocol errors).
//
// Framing (RFC 9112 section 6.3): no body for HEAD, 1xx, 204 and 304;
// chunked when Transfer-Encoding ends in chunked; Content-Length; otherwise
// until the connection closes (then the connection is not reused).

import { BAD_FIELD_VALUE, hasToken, lowerName, TOKEN } from '../../header-tokens.ts';
import type { ResponseHeaders } from '../dispatcher.ts';

export class ResponseParseError extends Error {
  override readonly name = 'ResponseParseError';
  readonly code: string;
  constructor(code: string, message: string) {
    super(`upstream response: ${message}`);
    this.code = code;
  }
}

/** A response head as the parser saw it. */
export interface ResponseHead {
  statusCode: number;
  statusMessage: string;
  headers: ResponseHeaders;
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
  /** The backend's Keep-Alive `timeout=` in ms; -1 when it sent none. */
  keepAliveTimeoutMs: number;
}

export interface ResponseSink {
  /** A final (>= 200) response head; 1xx heads other than 101 are skipped. */
  onHead(head: ResponseHead): void;
  /** The 101 the request asked for: `rest` is the first bytes of the new protocol. */
  onUpgrade(head: ResponseHead, rest: Buffer): void;
  onBody(chunk: Buffer): void;
  /** The response is complete; trailers when the body was chunked and had some. */
  onComplete(trailers: ResponseHeaders | undefined): void;
}

const S_HEAD = 0;
const S_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_END = 4;
const S_TRAILERS = 5;
const S_UNTIL_CLOSE = 6;
const S_DONE = 7;
/** Stopped: upgraded, failed, or told to stop by the connection. */
const S_STOPPED = 8;

const CRLF = Buffer.from('\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

const DIGITS = /^\d{1,15}$/;
/** 13 hex digits stay below 2^53. */
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,13}$/;
/** A chunk extension: BWS ; name [= value], repeated. */
const CHUNK_EXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it excludes
  /^(?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\xff])*"))?)*$/;
const MAX_CHUNK_LINE = 4096;

function fail(code: string, message: string): never {
  throw new ResponseParseError(code, message);
}

function keepAliveTimeout(value: string): number {
  const match = /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i.exec(value);
  return match === null ? -1 : Number(match[1]) * 1000;
}

export interface ResponseParserOptions {
  /** The most bytes a head (or the trailers) may have; default 64 KiB. */
  maxHeaderBytes?: number;
}

export class ResponseParser {
  readonly maxHeaderBytes: number;
  #state = S_DONE;
  #sink: ResponseSink | undefined;
  #noBody = false;
  #upgrade = false;
  /** Body bytes (or chunk bytes) still to come. */
  #remaining = 0;
  /**
   * Unparsed bytes of a head, chunk-size line, chunk end or trailers split
   * across reads: a copy, as the socket's buffer is read into again.
   */
  #pending: Buffer | undefined;
  #trailers: ResponseHeaders | undefined;
  /** Bytes came after the response was complete: the connection cannot be reused. */
  extraBytes = false;

  constructor(options: ResponseParserOptions = {}) {
    this.maxHeaderBytes = options.maxHeaderBytes ?? 64 * 1024;
  }

  /** Expects the response to a request: HEAD has no body; `upgrade` allows a 101. */
  reset(method: string, upgrade: boolean, sink: ResponseSink): void {
    this.#state = S_HEAD;
    this.#sink = sink;
    this.#noBody = method === 'HEAD';
    this.#upgrade = upgrade;
    this.#remaining = 0;
    this.#pending = undefined;
    this.#trailers = undefined;
    this.extraBytes = false;
  }

  /** No more callbacks for this response (the request was aborted). */
  stop(): void {
    this.#state = S_STOPPED;
    this.#pending = undefined;
  }

  /** Feeds bytes read from the socket. Throws ResponseParseError. */
  execute(input: Buffer): void {
    let data = input;
    let offset = 0;
    if (this.#pending !== undefined) {
      data = Buffer.concat([this.#pending, input]);
      this.#pending = undefined;
    }
    const length = data.length;
    while (offset < length) {
      switch (this.#state) {
        case S_HEAD:
          offset = this.#head(data, offset);
          break;
        case S_LENGTH: {
          const end = Math.min(length, offset + this.#remaining);
          this.#remaining -= end - offset;
          this.#sink!.onBody(offset === 0 && end === length ? data : data.subarray(offset, end));
          offset = end;
          if (this.#remaining === 0) this.#complete();
          break;
        }
        case S_CHUNK_SIZE:
          offset = this.#chunkSize(data, offset);
          break;
        case S_CHUNK_DATA: {
          const end = Math.min(length, offset + this.#remaining);
          this.#remaining -= end - offset;
          this.#sink!.onBody(data.subarray(offset, end));
          offset = end;
          // The sink may have stopped the parser.
          if (this.#remaining === 0 && this.#state === S_CHUNK_DATA) this.#state = S_CHUNK_END;
          break;
        }
        case S_CHUNK_END:
          if (length - offset < 2) {
            if (data[offset] !== 13) fail('HPE_STRICT', 'chunk data not followed by CRLF');
            this.#pending = Buffer.from(data.subarray(offset));
            return;
          }
          if (data[offset] !== 13 || data[offset + 1] !== 10)
            fail('HPE_STRICT', 'chunk data not followed by CRLF');
          offset += 2;
          this.#state = S_CHUNK_SIZE;
          break;
        case S_TRAILERS:
          offset = this.#trailerSection(data, offset);
          break;
        case S_UNTIL_CLOSE:
          this.#sink!.onBody(offset === 0 ? data : data.subarray(offset));
          return;
        case S_DONE:
          this.extraBytes = true;
          return;
        default:
          return;
      }
    }
  }

  /**
   * The connection's read side ended. A body delimited by the close is then
   * complete; any other unfinished response is an error.
   */
  finish(): void {
    if (this.#state === S_UNTIL_CLOSE) {
      this.#complete();
      return;
    }
    if (this.#state === S_DONE || this.#state === S_STOPPED) return;
    this.#state = S_STOPPED;
    throw new ResponseParseError(
      'PIER_UPSTREAM_CLOSED',
      'the connection closed before the response was complete',
    );
  }

  #complete(): void {
    if (this.#state === S_STOPPED) return;
    this.#state = S_DONE;
    const trailers = this.#trailers;
    this.#trailers = undefined;
    this.#sink!.onComplete(trailers);
  }

  /** Returns the offset after what it used, or `length` when it keeps a partial head. */
  #head(data: Buffer, offset: number): number {
    const end = data.indexOf(CRLFCRLF, offset);
    if (end === -1) {
      if (data.length - offset > this.maxHeaderBytes)
        fail('HPE_HEADER_OVERFLOW', `head larger than ${this.maxHeaderBytes} bytes`);
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    if (end - offset > this.maxHeaderBytes)
      fail('HPE_HEADER_OVERFLOW', `head larger than ${this.maxHeaderBytes} bytes`);
    const text = data.toString('latin1', offset, end);
    const next = end + 4;
    const lines = text.split('\r\n');
    const statusLine = lines[0]!;
    // HTTP/1.x SP 3DIGIT [SP reason]
    if (
      statusLine.length < 12 ||
      !statusLine.startsWith('HTTP/1.') ||
      (statusLine.charCodeAt(7) !== 49 && statusLine.charCodeAt(7) !== 48) ||
      statusLine.charCodeAt(8) !== 32 ||
      (statusLine.length > 12 && statusLine.charCodeAt(12) !== 32)
    )
      fail('HPE_INVALID_STATUS', `bad status line ${JSON.stringify(statusLine.slice(0, 64))}`);
    const http10 = statusLine.charCodeAt(7) === 48;
    const statusCode = Number(statusLine.slice(9, 12));
    if (!(statusCode >= 100 && statusCode <= 999) || !/^\d{3}$/.test(statusLine.slice(9, 12)))
      fail('HPE_INVALID_STATUS', `bad status code ${JSON.stringify(statusLine.slice(9, 12))}`);
    const statusMessage = statusLine.length > 13 ? statusLine.slice(13) : '';
    if (BAD_FIELD_VALUE.test(statusMessage))
      fail('HPE_INVALID_STATUS', 'control character in reason');

    const headers: ResponseHeaders = Object.create(null);
    let contentLength = -1;
    let transferEncoding: string | undefined;
    let connection: string | undefined;
    let keepAliveHint: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon <= 0) {
        const c = line.charCodeAt(0);
        fail(
          'HPE_INVALID_HEADER_TOKEN',
          c === 32 || c === 9 ? 'obs-fold in header' : 'header line without a name and colon',
        );
      }
      const name = line.slice(0, colon);
      if (!TOKEN.test(name))
        fail('HPE_INVALID_HEADER_TOKEN', `bad header name ${JSON.stringify(name.slice(0, 64))}`);
      let start = colon + 1;
      let stop = line.length;
      while (start < stop && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9))
        start++;
      while (stop > start && (line.charCodeAt(stop - 1) === 32 || line.charCodeAt(stop - 1) === 9))
        stop--;
      const value =
        start === colon + 1 && stop === line.length ? line.slice(start) : line.slice(start, stop);
      if (BAD_FIELD_VALUE.test(value))
        fail('HPE_INVALID_HEADER_TOKEN', `control character in header ${name}`);
      const l = lowerName(name);
      switch (l) {
        case 'content-length': {
          for (const part of value.split(',')) {
            const v = part.trim();
            if (!DIGITS.test(v))
              fail('HPE_INVALID_CONTENT_LENGTH', `bad content-length ${JSON.stringify(value)}`);
            const n = Number(v);
            if (contentLength !== -1 && contentLength !== n)
              fail('HPE_INVALID_CONTENT_LENGTH', 'differing content-length values');
            contentLength = n;
          }
          break;
        }
        case 'transfer-encoding':
          transferEncoding =
            transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
          break;
        case 'connection':
          connection = connection === undefined ? value : `${connection}, ${value}`;
          break;
        case 'keep-alive':
          keepAliveHint = value;
          break;
      }
      const previous = headers[l];
      if (previous === undefined) headers[l] = value;
      else if (typeof previous === 'string') headers[l] = [previous, value];
      else previous.push(value);
    }

    const keepAlive = !http10 && (connection === undefined || !hasToken(connection, 'close'));
    const head: ResponseHead = {
      statusCode,
      statusMessage,
      headers,
      keepAlive,
      keepAliveTimeoutMs: keepAliveHint === undefined ? -1 : keepAliveTimeout(keepAliveHint),
    };

    if (statusCode < 200) {
      if (statusCode === 101) {
        if (!this.#upgrade) fail('HPE_UNEXPECTED_101', 'a 101 for a request that asked no upgrade');
        this.#state = S_STOPPED;
        head.keepAlive = false;
        this.#sink!.onUpgrade(head, data.subarray(next));
        return data.length;
      }
      // 100 Continue, 102, 103 Early Hints: the final response follows.
      return next;
    }

    if (transferEncoding !== undefined) {
      if (contentLength !== -1)
        fail('HPE_UNEXPECTED_CONTENT_LENGTH', 'content-length together with transfer-encoding');
      if (http10)
        fail('HPE_INVALID_TRANSFER_ENCODING', 'transfer-encoding in an HTTP/1.0 response');
    }
    if (this.#noBody || statusCode === 204 || statusCode === 304) {
      this.#state = S_DONE;
    } else if (transferEncoding !== undefined) {
      const codings = transferEncoding.split(',').map((c) => c.trim().toLowerCase());
      const chunked = codings.indexOf('chunked');
      if (chunked !== -1 && chunked !== codings.length - 1)
        fail('HPE_INVALID_TRANSFER_ENCODING', 'chunked is not the last transfer coding');
      if (chunked !== -1) {
        this.#state = S_CHUNK_SIZE;
      } else {
        // Not chunked last: the body runs until the connection closes.
        head.keepAlive = false;
        this.#state = S_UNTIL_CLOSE;
      }
    } else if (contentLength >= 0) {
      this.#remaining = contentLength;
      this.#state = contentLength === 0 ? S_DONE : S_LENGTH;
    } else {
      head.keepAlive = false;
      this.#state = S_UNTIL_CLOSE;
    }
    const state = this.#state;
    this.#sink!.onHead(head);
    // The sink may have stopped the parser (the request was aborted).
    if (this.#state !== state) return data.length;
    if (state === S_DONE) this.#complete();
    return next;
  }

  #chunkSize(data: Buffer, offset: number): number {
    const eol = data.indexOf(CRLF, offset);
    if (eol === -1) {
      if (data.length - offset > MAX_CHUNK_LINE)
        fail('HPE_INVALID_CHUNK_SIZE', 'chunk-size line too long');
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    if (eol - offset > MAX_CHUNK_LINE) fail('HPE_INVALID_CHUNK_SIZE', 'chunk-size line too long');
    const line = data.toString('latin1', offset, eol);
    let digits = line.length;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      if (c === 59 || c === 32 || c === 9) {
        digits = i;
        break;
      }
    }
    const size = line.slice(0, digits);
    if (!CHUNK_SIZE.test(size))
      fail('HPE_INVALID_CHUNK_SIZE', `bad chunk size ${JSON.stringify(line.slice(0, 32))}`);
    if (digits < line.length && !CHUNK_EXT.test(line.slice(digits)))
      fail('HPE_INVALID_CHUNK_SIZE', 'bad chunk extension');
    const n = Number.parseInt(size, 16);
    if (n === 0) {
      this.#state = S_TRAILERS;
    } else {
      this.#remaining = n;
      this.#state = S_CHUNK_DATA;
    }
    return eol + 2;
  }

  #trailerSection(data: Buffer, offset: number): number {
    // Usually none: the last chunk is followed by CRLF at once.
    if (data.length - offset >= 2 && data[offset] === 13 && data[offset + 1] === 10) {
      this.#complete();
      return offset + 2;
    }
    if (data.length - offset < 2) {
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    const end = data.indexOf(CRLFCRLF, offset);
    if (end === -1) {
      if (data.length - offset > this.maxHeaderBytes)
        fail('HPE_HEADER_OVERFLOW', 'trailers too large');
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    if (end - offset > this.maxHeaderBytes) fail('HPE_HEADER_OVERFLOW', 'trailers too large');
    const trailers: ResponseHeaders = Object.create(null);
    for (const line of data.toString('latin1', offset, end).split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon <= 0) fail('HPE_INVALID_HEADER_TOKEN', 'bad trailer line');
      const name = line.slice(0, colon);
      if (!TOKEN.test(name))
        fail('HPE_INVALID_HEADER_TOKEN', `bad trailer name ${JSON.stringify(name.slice(0, 64))}`);
      const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
      if (BAD_FIELD_VALUE.test(value))
        fail('HPE_INVALID_HEADER_TOKEN', `control character in trailer ${name}`);
      const l = lowerName(name);
      const previous = trailers[l];
      if (previous === undefined) trailers[l] = value;
      else if (typeof previous === 'string') trailers[l] = [previous, value];
      else previous.push(value);
    }
    this.#trailers = trailers;
    this.#complete();
    return end + 4;
  }
}
