// An incremental, strict HTTP/1.1 request parser (RFC 9112) for the
// listener's own HTTP/1.1 server (server-connection.ts): bytes from the
// client in, a head, body chunks and an end out. The head search, field
// lines and body walk are gateway/http1/message-parser.ts, shared with the
// upstream response parser; this file is the request line and the
// request's framing.
//
// A request is the security boundary: what this parser calls one request,
// the backend must see as one request. So on top of the shared rules it
// refuses, like llhttp in Node's strict mode: Content-Length together with
// Transfer-Encoding, differing or malformed Content-Lengths, a
// Transfer-Encoding whose last coding is not chunked, Transfer-Encoding in
// HTTP/1.0, methods Node does not know, whitespace or control characters in
// the target, versions other than HTTP/1.x, and an HTTP/1.1 request without
// Host. Every refusal is a RequestParseError with an llhttp-like code.
//
// Framing (RFC 9112 section 6.3): chunked when Transfer-Encoding ends in
// chunked; Content-Length; otherwise no body. An upgrade the server takes
// (onHead returns true) stops the parser: the rest is the new protocol's.

import { METHODS } from 'node:http';
import { hasToken } from '../../header-tokens.ts';
import {
  type BodySink,
  HttpParseError,
  MessageParser,
  newFraming,
  S_DONE,
  S_LENGTH,
  S_STOPPED,
} from '../../http1/message-parser.ts';

export class RequestParseError extends HttpParseError {
  override readonly name = 'RequestParseError';
  constructor(code: string, message: string) {
    super(code, `request: ${message}`);
  }
}

/** A request head as the parser saw it. */
export interface RequestHead {
  method: string;
  /** The request-target as sent (origin-, absolute-, authority- or asterisk-form). */
  target: string;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (also for a later 1.x). */
  versionMinor: number;
  /** Always 1: other versions are refused. */
  versionMajor: number;
  /** name, value, name, value... as sent. */
  rawHeaders: string[];
  /** The connection may carry another request after this one's response. */
  keepAlive: boolean;
  /** Connection: upgrade with an Upgrade header, or CONNECT. */
  upgrade: boolean;
  /** Expect: 100-continue. */
  expectContinue: boolean;
  /** An Expect header asking for anything else (answered 417). */
  expectOther: boolean;
  /** Content-Length, -1 when none; chunked bodies have none. */
  contentLength: number;
  chunked: boolean;
}

export interface RequestSink extends BodySink {
  /**
   * A request head. Return true to take the connection over (an upgrade or
   * CONNECT): the parser stops and execute() returns the bytes after the head.
   */
  onHead(head: RequestHead): boolean;
}

const KNOWN_METHODS = new Set(METHODS);
const VERSION = /^HTTP\/(\d)\.(\d)$/;
/** Control characters, space and DEL: never in a request-target. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it finds
const BAD_TARGET = /[\x00-\x20\x7f]/;

export class RequestParser extends MessageParser {
  constructor(maxHeaderBytes: number) {
    // RFC 9112 2.2: a stray CRLF after a body (old clients send one) is skipped.
    super(maxHeaderBytes, true);
  }

  protected fail(code: string, message: string): never {
    throw new RequestParseError(code, message);
  }

  /** Expects the next request's head. */
  reset(sink: RequestSink): void {
    this.begin(sink);
  }

  /** The request is complete (or the parser stopped): execute() returns what follows it. */
  get done(): boolean {
    return this.state === S_DONE || this.state === S_STOPPED;
  }

  /** Between requests: the head of the next has not begun. */
  get idle(): boolean {
    return this.state === S_DONE;
  }

  protected head(data: Buffer, offset: number, end: number): number {
    const sink = this.sink as RequestSink;
    const lines = data.toString('latin1', offset, end).split('\r\n');
    const line = lines[0]!;
    const sp1 = line.indexOf(' ');
    const sp2 = sp1 === -1 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 === -1 || line.indexOf(' ', sp2 + 1) !== -1)
      this.fail('HPE_INVALID_METHOD', `bad request line ${JSON.stringify(line.slice(0, 64))}`);
    const method = line.slice(0, sp1);
    if (!KNOWN_METHODS.has(method))
      this.fail('HPE_INVALID_METHOD', `unknown method ${JSON.stringify(method.slice(0, 32))}`);
    const target = line.slice(sp1 + 1, sp2);
    if (target.length === 0 || BAD_TARGET.test(target))
      this.fail('HPE_INVALID_URL', 'bad request-target');
    const version = VERSION.exec(line.slice(sp2 + 1));
    if (version === null)
      this.fail(
        'HPE_INVALID_VERSION',
        `bad version ${JSON.stringify(line.slice(sp2 + 1, sp2 + 17))}`,
      );
    if (version[1] !== '1')
      this.fail('HPE_INVALID_VERSION', `HTTP/${version[1]}.${version[2]} on an HTTP/1 connection`);
    // RFC 9110 6.2: a later 1.x is served as the highest this server speaks, 1.1.
    const versionMajor = 1;
    const versionMinor = version[2] === '0' ? 0 : 1;
    const http10 = versionMinor === 0;

    const rawHeaders: string[] = [];
    const framing = newFraming();
    let hasHost = false;
    let hasUpgrade = false;
    let expectContinue = false;
    let expectOther = false;
    for (let i = 1; i < lines.length; i++) {
      const { name, lower, value } = this.fieldLine(lines[i]!, 'header');
      rawHeaders.push(name, value);
      if (this.framingField(framing, lower, value)) continue;
      switch (lower) {
        case 'host':
          hasHost = true;
          break;
        case 'upgrade':
          hasUpgrade = true;
          break;
        case 'expect':
          if (value.toLowerCase() === '100-continue') expectContinue = true;
          else expectOther = true;
          break;
      }
    }
    if (!http10 && !hasHost) this.fail('HPE_MISSING_HOST', 'an HTTP/1.1 request without Host');

    const { contentLength, transferEncoding, connection } = framing;
    this.checkTransferEncoding(framing, http10, 'request');
    let chunked = false;
    if (transferEncoding !== undefined) {
      const codings = transferEncoding.split(',');
      // RFC 9112 6.3: a request whose last coding is not chunked cannot be framed.
      if (codings[codings.length - 1]!.trim().toLowerCase() !== 'chunked')
        this.fail('HPE_INVALID_TRANSFER_ENCODING', 'chunked is not the last transfer coding');
      for (let i = 0; i < codings.length - 1; i++)
        if (codings[i]!.trim().toLowerCase() === 'chunked')
          this.fail('HPE_INVALID_TRANSFER_ENCODING', 'chunked applied twice');
      chunked = true;
    }

    const connectionList = connection ?? '';
    const keepAlive = http10
      ? hasToken(connectionList, 'keep-alive')
      : !hasToken(connectionList, 'close');
    const upgrade = method === 'CONNECT' || (hasUpgrade && hasToken(connectionList, 'upgrade'));
    const head: RequestHead = {
      method,
      target,
      versionMajor,
      versionMinor,
      rawHeaders,
      keepAlive,
      upgrade,
      expectContinue,
      expectOther,
      contentLength,
      chunked,
    };

    if (chunked) this.chunked();
    else if (contentLength > 0) {
      this.remaining = contentLength;
      this.state = S_LENGTH;
    } else this.state = S_DONE;
    const state = this.state;
    if (sink.onHead(head)) {
      this.state = S_STOPPED;
      return end + 4;
    }
    // The sink may have stopped the parser.
    if (this.state !== state) return data.length;
    if (state === S_DONE) this.complete();
    return end + 4;
  }
}
