// The responses the listener writes itself, before any route is looked up:
// a request the parser refused (400), headers too large or too many (431),
// too slow (408), a body chunk extension too large (413), CONNECT (405).
// Precomputed once, as the raw bytes written to a socket the engine gave up
// on and as writeHead() arguments; every one closes the connection.

import { ListenerErrors } from './errors.ts';

const codes = ListenerErrors.codes;

const REASONS: Record<number, [string, string, string]> = {
  400: ['Bad Request', 'bad request', codes.BAD_REQUEST],
  405: ['Method Not Allowed', 'method not allowed', codes.METHOD_NOT_ALLOWED],
  408: ['Request Timeout', 'request timeout', codes.REQUEST_TIMEOUT],
  413: ['Content Too Large', 'payload too large', codes.PAYLOAD_TOO_LARGE],
  431: [
    'Request Header Fields Too Large',
    'request header fields too large',
    codes.HEADERS_TOO_LARGE,
  ],
};

export interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly body: Buffer;
  /** Flat [name, value, ...] for writeHead. */
  readonly headers: readonly string[];
  /** The whole HTTP/1.1 response, for a socket the parser gave up on. */
  readonly raw: Buffer;
}

function build(status: number): Refusal {
  const [reason, text, code] = REASONS[status] ?? REASONS[400]!;
  const body = Buffer.from(`${status} ${text} (${code})\n`, 'latin1');
  const headers = Object.freeze([
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(body.length),
    'connection',
    'close',
    'x-pier-error',
    code,
  ]);
  let head = `HTTP/1.1 ${status} ${reason}\r\n`;
  for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  const raw = Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]);
  return Object.freeze({ status, code, body, headers, raw });
}

const refusals = new Map<number, Refusal>(
  Object.keys(REASONS).map((s) => [Number(s), build(Number(s))]),
);

/** The refusal for a status (400, 405, 408, 413, 431; anything else is 400). */
export function refusal(status: number): Refusal {
  return refusals.get(status) ?? refusals.get(400)!;
}

export function rawResponse(status: number): Buffer {
  return refusal(status).raw;
}
