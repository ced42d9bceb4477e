// The request line and header block an HTTP/1.1 request goes upstream with,
// checked as it is written: a name that is not a token, or a CR, LF or other
// control character in the target or a value, refuses the request (the
// bytes would split it into two). The gateway's own headers are well formed;
// this is the last guard for values that come from clients over HTTP/2 or
// from route configuration.
//
// Framing is the pool's: a Content-Length among the headers is sent as given
// and the body must match it; a stream body without one goes chunked.

import { BAD_FIELD_VALUE, TOKEN } from '../../header-tokens.ts';
import type { UpstreamDispatchOptions } from '../dispatcher.ts';

export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  readonly code = 'PIER_UPSTREAM_INVALID_REQUEST';
}

// Names already checked: most requests repeat the same few dozen. Bounded,
// so names a client makes up cannot grow it.
const checkedNames = new Set<string>();
const CHECKED_NAMES_MAX = 1024;

function checkName(name: string): void {
  if (checkedNames.has(name)) return;
  if (!TOKEN.test(name))
    throw new InvalidRequestError(`invalid header name ${JSON.stringify(name.slice(0, 64))}`);
  if (checkedNames.size < CHECKED_NAMES_MAX) checkedNames.add(name);
}

/** CR, LF and NUL are what could split or truncate a request; Node's parsers keep the rest out. */
function splits(value: string): boolean {
  return value.indexOf('\r') !== -1 || value.indexOf('\n') !== -1 || value.indexOf('\0') !== -1;
}

/** The request-target: visible ASCII and obs-text, no spaces or controls. */
const BAD_TARGET = /[^\x21-\x7e\x80-\xff]/;

export interface RequestHead {
  /** latin1 text of the request line and headers, ending with the empty line. */
  text: string;
  /** The Content-Length sent, -1 when none (a body then goes chunked). */
  contentLength: number;
}

/** Serialises options into a request head; `host` is added when the headers have none. Throws InvalidRequestError. */
export function requestHead(options: UpstreamDispatchOptions, host: string): RequestHead {
  const { method, path, headers } = options;
  if (!TOKEN.test(method))
    throw new InvalidRequestError(`invalid method ${JSON.stringify(method)}`);
  if (path.length === 0 || BAD_TARGET.test(path))
    throw new InvalidRequestError(`invalid request target ${JSON.stringify(path.slice(0, 64))}`);
  let text = `${method} ${path} HTTP/1.1\r\n`;
  let hasHost = false;
  let contentLength = -1;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    checkName(name);
    if (splits(value)) throw new InvalidRequestError(`invalid value of header ${name}`);
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') hasHost = true;
        break;
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (contentLength !== -1 || !/^\d{1,15}$/.test(value))
            throw new InvalidRequestError('invalid or repeated content-length');
          contentLength = Number(value);
        }
        break;
      case 17:
      case 10:
      case 7: {
        // transfer-encoding, connection, upgrade: framing and the connection are the pool's.
        const l = name.toLowerCase();
        if (l === 'transfer-encoding' || l === 'connection' || l === 'upgrade')
          throw new InvalidRequestError(`header ${name} is the pool's to send`);
        break;
      }
    }
    text += `${name}: ${value}\r\n`;
  }
  if (!hasHost) text += `host: ${host}\r\n`;
  const body = options.body;
  if (options.upgrade !== undefined) {
    if (BAD_FIELD_VALUE.test(options.upgrade) || options.upgrade === '')
      throw new InvalidRequestError('invalid upgrade protocol');
    text += `connection: upgrade\r\nupgrade: ${options.upgrade}\r\n`;
  } else if (body !== null && !Buffer.isBuffer(body) && contentLength === -1) {
    text += 'transfer-encoding: chunked\r\n';
  } else if (Buffer.isBuffer(body) && contentLength === -1) {
    contentLength = body.length;
    text += `content-length: ${contentLength}\r\n`;
  } else if (body === null && contentLength === -1 && methodExpectsBody(method)) {
    // As Node and undici do: a POST without a body says so, or some servers wait for one.
    text += 'content-length: 0\r\n';
  }
  if (body === null && contentLength > 0 && options.upgrade === undefined)
    throw new InvalidRequestError(`no body for content-length ${contentLength}`);
  if (Buffer.isBuffer(body) && body.length !== contentLength)
    throw new InvalidRequestError(
      `body of ${body.length} bytes for content-length ${contentLength}`,
    );
  return { text: `${text}\r\n`, contentLength };
}

function methodExpectsBody(method: string): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}
