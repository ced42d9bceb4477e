// The assembly's own answers (convention 9), beside gateway/errors.ts which
// holds the routing and forwarding ones: each with a stable code, a short
// plain body for the client and a message for the operator.

import { STATUS_CODES } from 'node:http';
import { errorTable } from '../../src/errors.ts';

export const AssemblyErrors = errorTable('GW', {
  MISDIRECTED_REQUEST: (sni: string, host: string) =>
    `a TLS connection for ${sni} asked for host ${host}, which another listener serves: the client must open a connection for that name (421)`,
  FILTER_NOT_SUPPORTED: (route: string, why: string) =>
    `${route} has a filter Pier cannot run (${why}): its requests get 500 until the filter is removed or supported`,
  RULE_POLICY: (route: string, why: string) =>
    `${route} cannot be served as written (${why}): its requests get 500; fix the route's filters, timeouts or retry`,
  SYNC_FAILED: (why: string) =>
    `applying the Store's objects failed (${why}); the gateway keeps serving the previous configuration and retries`,
});

export interface LocalReply {
  readonly status: number;
  readonly code: string;
  readonly body: Buffer;
  /** Flat [name, value, ...] for writeHead. */
  readonly headers: readonly string[];
}

export function localReply(status: number, text: string, code: string): LocalReply {
  const body = Buffer.from(`${status} ${text} (${code})\n`, 'latin1');
  return Object.freeze({
    status,
    code,
    body,
    headers: Object.freeze([
      'content-type',
      'text/plain; charset=utf-8',
      'content-length',
      String(body.length),
      'x-pier-error',
      code,
    ]),
  });
}

export const MISDIRECTED = localReply(
  421,
  'misdirected request',
  AssemblyErrors.codes.MISDIRECTED_REQUEST,
);
export const FILTER_NOT_SUPPORTED = localReply(
  500,
  'filter not supported',
  AssemblyErrors.codes.FILTER_NOT_SUPPORTED,
);

/** An HTTP/1.1 response as bytes, for a socket the 'upgrade' event handed over (it then closes). */
export function rawReply(status: number, headers: readonly string[], body?: Buffer): Buffer {
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Response'}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  head += 'connection: close\r\n\r\n';
  const bytes = Buffer.from(head, 'latin1');
  return body === undefined ? bytes : Buffer.concat([bytes, body]);
}
