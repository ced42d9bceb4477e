// An incremental, strict HTTP/1.1 response parser (RFC 9112) for the
// gateway's upstream connections: bytes from the socket in, a head, body
// chunks and an end out. The head, its field lines and the body walk are
// gateway/http1/message-parser.ts, shared with the listener's request
// parser; this file is the status line and the response's framing.
//
// Strict where a lenient parser would let a backend smuggle a second
// response or split one: on top of the shared rules, Content-Length with
// Transfer-Encoding, differing Content-Lengths, a Transfer-Encoding whose
// last coding is not chunked on a message that must be framed, and a 101
// the request did not ask for are errors (code HPE_*, like llhttp's, so the
// forwarder classifies them as protocol errors).
//
// Framing (RFC 9112 section 6.3): no body for HEAD, 1xx, 204 and 304;
// chunked when Transfer-Encoding ends in chunked; Content-Length; otherwise
// until the connection closes (then the connection is not reused).

import { BAD_FIELD_VALUE, hasToken } from '../../header-tokens.ts';
import {
  addField,
  type BodySink,
  HttpParseError,
  MessageParser,
  newFraming,
  S_DONE,
  S_LENGTH,
  S_STOPPED,
  S_UNTIL_CLOSE,
} from '../../http1/message-parser.ts';
import type { ResponseHeaders } from '../dispatcher.ts';

export class ResponseParseError extends HttpParseError {
  override readonly name = 'ResponseParseError';
  constructor(code: string, message: string) {
    super(code, `upstream response: ${message}`);
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

export interface ResponseSink extends BodySink {
  /** A final (>= 200) response head; 1xx heads other than 101 are skipped. */
  onHead(head: ResponseHead): void;
  /** The 101 the request asked for: `rest` is the first bytes of the new protocol. */
  onUpgrade(head: ResponseHead, rest: Buffer): void;
  /** The response is complete; trailers when the body was chunked and had some. */
  onComplete(trailers: ResponseHeaders | undefined): void;
}

function keepAliveTimeout(value: string): number {
  const match = /(?:^|[,;\s])timeout\s*=\s*(\d{1,9})/i.exec(value);
  return match === null ? -1 : Number(match[1]) * 1000;
}

export interface ResponseParserOptions {
  /** The most bytes a head (or the trailers) may have; default 64 KiB. */
  maxHeaderBytes?: number;
}

export class ResponseParser extends MessageParser {
  #noBody = false;
  #upgrade = false;
  /** Bytes came after the response was complete: the connection cannot be reused. */
  extraBytes = false;

  constructor(options: ResponseParserOptions = {}) {
    super(options.maxHeaderBytes ?? 64 * 1024, false);
  }

  protected fail(code: string, message: string): never {
    throw new ResponseParseError(code, message);
  }

  /** Expects the response to a request: HEAD has no body; `upgrade` allows a 101. */
  reset(method: string, upgrade: boolean, sink: ResponseSink): void {
    this.begin(sink);
    this.#noBody = method === 'HEAD';
    this.#upgrade = upgrade;
    this.extraBytes = false;
  }

  /** Feeds bytes read from the socket. Throws ResponseParseError. */
  override execute(input: Buffer): undefined {
    const rest = super.execute(input);
    if (rest !== undefined && rest.length > 0 && this.state === S_DONE) this.extraBytes = true;
    return undefined;
  }

  /**
   * The connection's read side ended. A body delimited by the close is then
   * complete; any other unfinished response is an error.
   */
  finish(): void {
    if (this.state === S_UNTIL_CLOSE) {
      this.complete();
      return;
    }
    if (this.state === S_DONE || this.state === S_STOPPED) return;
    this.state = S_STOPPED;
    throw new ResponseParseError(
      'PIER_UPSTREAM_CLOSED',
      'the connection closed before the response was complete',
    );
  }

  protected head(data: Buffer, offset: number, end: number): number {
    const sink = this.sink as ResponseSink;
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
      this.fail('HPE_INVALID_STATUS', `bad status line ${JSON.stringify(statusLine.slice(0, 64))}`);
    const http10 = statusLine.charCodeAt(7) === 48;
    const statusCode = Number(statusLine.slice(9, 12));
    if (!(statusCode >= 100 && statusCode <= 999) || !/^\d{3}$/.test(statusLine.slice(9, 12)))
      this.fail('HPE_INVALID_STATUS', `bad status code ${JSON.stringify(statusLine.slice(9, 12))}`);
    const statusMessage = statusLine.length > 13 ? statusLine.slice(13) : '';
    if (BAD_FIELD_VALUE.test(statusMessage))
      this.fail('HPE_INVALID_STATUS', 'control character in reason');

    const headers: ResponseHeaders = Object.create(null);
    const framing = newFraming();
    let keepAliveHint: string | undefined;
    for (let i = 1; i < lines.length; i++) {
      const { lower, value } = this.fieldLine(lines[i]!, 'header');
      addField(headers as Record<string, string | string[]>, lower, value);
      if (!this.framingField(framing, lower, value) && lower === 'keep-alive')
        keepAliveHint = value;
    }
    const { contentLength, transferEncoding, connection } = framing;

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
        if (!this.#upgrade)
          this.fail('HPE_UNEXPECTED_101', 'a 101 for a request that asked no upgrade');
        this.state = S_STOPPED;
        head.keepAlive = false;
        sink.onUpgrade(head, data.subarray(next));
        return data.length;
      }
      // 100 Continue, 102, 103 Early Hints: the final response follows.
      return next;
    }

    this.checkTransferEncoding(framing, http10, 'response');
    if (this.#noBody || statusCode === 204 || statusCode === 304) {
      this.state = S_DONE;
    } else if (transferEncoding !== undefined) {
      const codings = transferEncoding.split(',').map((c) => c.trim().toLowerCase());
      const chunked = codings.indexOf('chunked');
      if (chunked !== -1 && chunked !== codings.length - 1)
        this.fail('HPE_INVALID_TRANSFER_ENCODING', 'chunked is not the last transfer coding');
      if (chunked !== -1) {
        this.chunked();
      } else {
        // Not chunked last: the body runs until the connection closes.
        head.keepAlive = false;
        this.state = S_UNTIL_CLOSE;
      }
    } else if (contentLength >= 0) {
      this.remaining = contentLength;
      this.state = contentLength === 0 ? S_DONE : S_LENGTH;
    } else {
      head.keepAlive = false;
      this.state = S_UNTIL_CLOSE;
    }
    const state = this.state;
    sink.onHead(head);
    // The sink may have stopped the parser (the request was aborted).
    if (this.state !== state) return data.length;
    if (state === S_DONE) this.complete();
    return next;
  }
}
