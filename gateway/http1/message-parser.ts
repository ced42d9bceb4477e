// What Pier's two HTTP/1.1 parsers share (RFC 9112): the client's requests
// (listener/http1/request-parser.ts) and the backends' responses
// (upstream/http1/response-parser.ts). Each parses its own start line and
// decides the framing; this class finds the head, parses its field lines,
// and walks the body: Content-Length, chunked (with trailers) or, for
// responses only, until the connection closes.
//
// Body chunks are views of the caller's buffers (no copy); only a head, a
// chunk-size line, a chunk's CRLF or trailers split across reads are joined.
//
// Strict where a lenient parser would let a peer smuggle a second message
// or split one: obs-fold, bare CR or LF, spaces before the colon, control
// characters in values, bad or overflowing chunk sizes, malformed chunk
// extensions and a chunk not followed by CRLF are all errors, with codes
// like llhttp's (HPE_*).

import { BAD_FIELD_VALUE, lowerName, TOKEN } from '../header-tokens.ts';

/** A message a parser refused; `code` is llhttp-like (HPE_*), for the error tables. */
export class HttpParseError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
  }
}

/** Field values by lowercase name; a repeated name's values in order. */
export type FieldMap = Record<string, string | string[]>;

export interface BodySink {
  onBody(chunk: Buffer): void;
  /** The message is complete; trailers when the body was chunked and had some. */
  onComplete(trailers: FieldMap | undefined): void;
}

export const S_HEAD = 0;
export const S_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_DATA = 3;
const S_CHUNK_END = 4;
const S_TRAILERS = 5;
export const S_UNTIL_CLOSE = 6;
export const S_DONE = 7;
/** Stopped: upgraded, failed, or told to stop by its owner. */
export const S_STOPPED = 8;

const CRLF = Buffer.from('\r\n', 'latin1');
const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');

/** 13 hex digits stay below 2^53. */
const CHUNK_SIZE = /^[0-9A-Fa-f]{1,13}$/;
/** A chunk extension: BWS ; name [= value], repeated. */
const CHUNK_EXT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it excludes
  /^(?:[ \t]*;[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*=[ \t]*(?:[!#$%&'*+.^_`|~0-9A-Za-z-]+|"(?:[^"\\\x00-\x08\x0a-\x1f\x7f]|\\[\t\x20-\xff])*"))?)*$/;
const MAX_CHUNK_LINE = 4096;

export const DIGITS = /^\d{1,15}$/;

/** The fields a head's framing depends on, as the parser collected them. */
export interface Framing {
  /** -1: none. */
  contentLength: number;
  /** Every Transfer-Encoding line's value, joined with ", ". */
  transferEncoding: string | undefined;
  /** Every Connection line's value, joined with ", ". */
  connection: string | undefined;
}

export function newFraming(): Framing {
  return { contentLength: -1, transferEncoding: undefined, connection: undefined };
}

/** One field line, `name: value`, with the value's surrounding whitespace trimmed. */
export interface FieldLine {
  name: string;
  /** `name` in lowercase. */
  lower: string;
  value: string;
}

export abstract class MessageParser {
  readonly maxHeaderBytes: number;
  protected state = S_DONE;
  protected sink: BodySink | undefined;
  /** Body bytes (or chunk bytes) still to come. */
  protected remaining = 0;
  /**
   * Unparsed bytes of a head, chunk-size line, chunk end or trailers split
   * across reads: a copy, as the caller's buffer may be read into again.
   */
  #pending: Buffer | undefined;
  #trailers: FieldMap | undefined;

  /** Empty lines before a head are skipped (requests: RFC 9112 2.2). */
  protected readonly skipsEmptyLines: boolean;

  constructor(maxHeaderBytes: number, skipsEmptyLines: boolean) {
    this.maxHeaderBytes = maxHeaderBytes;
    this.skipsEmptyLines = skipsEmptyLines;
  }

  /** Throws the parser's error type. */
  protected abstract fail(code: string, message: string): never;

  /**
   * Parses the head in data[offset, end) (end: where its CRLFCRLF starts),
   * calls the sink and sets the framing state. Returns where parsing goes on
   * (end + 4), or data.length when it took the rest (an upgrade).
   */
  protected abstract head(data: Buffer, offset: number, end: number): number;

  /** Begins a message: its head is next. */
  protected begin(sink: BodySink): void {
    this.state = S_HEAD;
    this.sink = sink;
    this.remaining = 0;
    this.#pending = undefined;
    this.#trailers = undefined;
  }

  /** Bytes of a Content-Length body still to come; 0 when not in such a body. */
  get lengthRemaining(): number {
    return this.state === S_LENGTH ? this.remaining : 0;
  }

  /**
   * `bytes` of the Content-Length body went past the parser (the kernel
   * moved them: gateway/http1/body-splice.ts); the message completes when
   * they were the last.
   */
  skipBody(bytes: number): void {
    if (this.state !== S_LENGTH || bytes > this.remaining)
      throw new Error(`skipBody(${bytes}) outside a Content-Length body`);
    this.remaining -= bytes;
    if (this.remaining === 0) this.complete();
  }

  /** No more callbacks for this message. */
  stop(): void {
    this.state = S_STOPPED;
    this.#pending = undefined;
  }

  /**
   * Feeds bytes. Returns the bytes after the end of the message when it
   * completed (or stopped) before the input's end, else undefined. Throws
   * the parser's error type.
   */
  execute(input: Buffer): Buffer | undefined {
    let data = input;
    let offset = 0;
    if (this.#pending !== undefined) {
      data = Buffer.concat([this.#pending, input]);
      this.#pending = undefined;
    }
    const length = data.length;
    while (offset < length) {
      switch (this.state) {
        case S_HEAD: {
          if (this.skipsEmptyLines)
            while (length - offset >= 2 && data[offset] === 13 && data[offset + 1] === 10)
              offset += 2;
          const end = data.indexOf(CRLFCRLF, offset);
          if (end === -1) {
            // Up to 3 bytes may be the start of the CRLFCRLF, which the limit does not count.
            if (length - offset > this.maxHeaderBytes + 3)
              this.fail('HPE_HEADER_OVERFLOW', `head larger than ${this.maxHeaderBytes} bytes`);
            // A head with bare CR or LF line ends never gets its CRLFCRLF: refused now, not at the timeout.
            this.#bareLineEnds(data, offset, length);
            this.#pending = Buffer.from(data.subarray(offset));
            return undefined;
          }
          if (end - offset > this.maxHeaderBytes)
            this.fail('HPE_HEADER_OVERFLOW', `head larger than ${this.maxHeaderBytes} bytes`);
          this.#bareLineEnds(data, offset, end);
          offset = this.head(data, offset, end);
          break;
        }
        case S_LENGTH: {
          const end = Math.min(length, offset + this.remaining);
          this.remaining -= end - offset;
          this.sink!.onBody(offset === 0 && end === length ? data : data.subarray(offset, end));
          offset = end;
          if (this.remaining === 0 && this.state === S_LENGTH) this.complete();
          break;
        }
        case S_CHUNK_SIZE:
          offset = this.#chunkSize(data, offset);
          break;
        case S_CHUNK_DATA: {
          const end = Math.min(length, offset + this.remaining);
          this.remaining -= end - offset;
          this.sink!.onBody(data.subarray(offset, end));
          offset = end;
          // The sink may have stopped the parser.
          if (this.remaining === 0 && this.state === S_CHUNK_DATA) this.state = S_CHUNK_END;
          break;
        }
        case S_CHUNK_END:
          if (length - offset < 2) {
            if (data[offset] !== 13) this.fail('HPE_STRICT', 'chunk data not followed by CRLF');
            this.#pending = Buffer.from(data.subarray(offset));
            return undefined;
          }
          if (data[offset] !== 13 || data[offset + 1] !== 10)
            this.fail('HPE_STRICT', 'chunk data not followed by CRLF');
          offset += 2;
          this.state = S_CHUNK_SIZE;
          break;
        case S_TRAILERS:
          offset = this.#trailerSection(data, offset);
          break;
        case S_UNTIL_CLOSE:
          this.sink!.onBody(offset === 0 ? data : data.subarray(offset));
          return undefined;
        default:
          // Done or stopped: what follows is not this message's.
          return data.subarray(offset);
      }
    }
    return undefined;
  }

  /** The message is complete: the sink hears it once. */
  protected complete(): void {
    if (this.state === S_STOPPED) return;
    this.state = S_DONE;
    const trailers = this.#trailers;
    this.#trailers = undefined;
    this.sink!.onComplete(trailers);
  }

  /** Chunked framing: the body starts with a chunk-size line. */
  protected chunked(): void {
    this.state = S_CHUNK_SIZE;
  }

  /** Parses one field line of a head or trailer section. */
  protected fieldLine(line: string, what: string): FieldLine {
    const colon = line.indexOf(':');
    if (colon <= 0) {
      const c = line.charCodeAt(0);
      this.fail(
        'HPE_INVALID_HEADER_TOKEN',
        c === 32 || c === 9 ? `obs-fold in ${what}` : `${what} line without a name and colon`,
      );
    }
    const name = line.slice(0, colon);
    if (!TOKEN.test(name))
      this.fail(
        'HPE_INVALID_HEADER_TOKEN',
        `bad ${what} name ${JSON.stringify(name.slice(0, 64))}`,
      );
    let start = colon + 1;
    let stop = line.length;
    while (start < stop && (line.charCodeAt(start) === 32 || line.charCodeAt(start) === 9)) start++;
    while (stop > start && (line.charCodeAt(stop - 1) === 32 || line.charCodeAt(stop - 1) === 9))
      stop--;
    const value =
      start === colon + 1 && stop === line.length ? line.slice(start) : line.slice(start, stop);
    if (BAD_FIELD_VALUE.test(value))
      this.fail('HPE_INVALID_HEADER_TOKEN', `control character in ${what} ${name}`);
    return { name, lower: lowerName(name), value };
  }

  /**
   * Collects a field that frames the message (Content-Length,
   * Transfer-Encoding, Connection) into `framing`; false for any other.
   */
  protected framingField(framing: Framing, lower: string, value: string): boolean {
    switch (lower) {
      case 'content-length':
        framing.contentLength = this.contentLength(value, framing.contentLength);
        return true;
      case 'transfer-encoding':
        framing.transferEncoding =
          framing.transferEncoding === undefined ? value : `${framing.transferEncoding}, ${value}`;
        return true;
      case 'connection':
        framing.connection =
          framing.connection === undefined ? value : `${framing.connection}, ${value}`;
        return true;
      default:
        return false;
    }
  }

  /** Refuses a Transfer-Encoding beside a Content-Length, or in HTTP/1.0 (RFC 9112 6.1). */
  protected checkTransferEncoding(framing: Framing, http10: boolean, what: string): void {
    if (framing.transferEncoding === undefined) return;
    if (framing.contentLength !== -1)
      this.fail('HPE_UNEXPECTED_CONTENT_LENGTH', 'content-length together with transfer-encoding');
    if (http10)
      this.fail('HPE_INVALID_TRANSFER_ENCODING', `transfer-encoding in an HTTP/1.0 ${what}`);
  }

  /** Parses a Content-Length value (a list of one repeated number is that number). */
  protected contentLength(value: string, previous: number): number {
    let length = previous;
    for (const part of value.split(',')) {
      const v = part.trim();
      if (!DIGITS.test(v))
        this.fail('HPE_INVALID_CONTENT_LENGTH', `bad content-length ${JSON.stringify(value)}`);
      const n = Number(v);
      if (length !== -1 && length !== n)
        this.fail('HPE_INVALID_CONTENT_LENGTH', 'differing content-length values');
      length = n;
    }
    return length;
  }

  /** Every line of a head ends in CRLF: a lone LF or CR in data[offset, end) is refused. */
  #bareLineEnds(data: Buffer, offset: number, end: number): void {
    for (let i = data.indexOf(10, offset); i !== -1 && i < end; i = data.indexOf(10, i + 1))
      if (i === offset || data[i - 1] !== 13) this.fail('HPE_CR_EXPECTED', 'bare LF in the head');
    for (let i = data.indexOf(13, offset); i !== -1 && i < end; i = data.indexOf(13, i + 1))
      if (i + 1 < data.length && data[i + 1] !== 10)
        this.fail('HPE_LF_EXPECTED', 'bare CR in the head');
  }

  #chunkSize(data: Buffer, offset: number): number {
    const eol = data.indexOf(CRLF, offset);
    if (eol === -1) {
      if (data.length - offset > MAX_CHUNK_LINE)
        this.fail('HPE_INVALID_CHUNK_SIZE', 'chunk-size line too long');
      if (data.indexOf(10, offset) !== -1)
        this.fail('HPE_INVALID_CHUNK_SIZE', 'bare LF in a chunk-size line');
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    if (eol - offset > MAX_CHUNK_LINE)
      this.fail('HPE_INVALID_CHUNK_SIZE', 'chunk-size line too long');
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
      this.fail('HPE_INVALID_CHUNK_SIZE', `bad chunk size ${JSON.stringify(line.slice(0, 32))}`);
    if (digits < line.length && !CHUNK_EXT.test(line.slice(digits)))
      this.fail('HPE_INVALID_CHUNK_SIZE', 'bad chunk extension');
    const n = Number.parseInt(size, 16);
    if (n === 0) {
      this.state = S_TRAILERS;
    } else {
      this.remaining = n;
      this.state = S_CHUNK_DATA;
    }
    return eol + 2;
  }

  #trailerSection(data: Buffer, offset: number): number {
    // Usually none: the last chunk is followed by CRLF at once.
    if (data.length - offset >= 2 && data[offset] === 13 && data[offset + 1] === 10) {
      this.complete();
      return offset + 2;
    }
    if (data.length - offset < 2) {
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    const end = data.indexOf(CRLFCRLF, offset);
    if (end === -1) {
      if (data.length - offset > this.maxHeaderBytes)
        this.fail('HPE_HEADER_OVERFLOW', 'trailers too large');
      this.#pending = Buffer.from(data.subarray(offset));
      return data.length;
    }
    if (end - offset > this.maxHeaderBytes) this.fail('HPE_HEADER_OVERFLOW', 'trailers too large');
    const trailers: FieldMap = Object.create(null);
    for (const line of data.toString('latin1', offset, end).split('\r\n')) {
      const { lower, value } = this.fieldLine(line, 'trailer');
      addField(trailers, lower, value);
    }
    this.#trailers = trailers;
    this.complete();
    return end + 4;
  }
}

export function addField(fields: FieldMap, lower: string, value: string): void {
  const previous = fields[lower];
  if (previous === undefined) fields[lower] = value;
  else if (typeof previous === 'string') fields[lower] = [previous, value];
  else previous.push(value);
}
