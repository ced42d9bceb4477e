// What went wrong with an attempt, from the pool's error (undici's or Pier's) and whether the
// request had reached a connection (onRequestStart ran): the retry decision
// and the error response depend on it.

import type { GatewayErrorKey } from '../errors.ts';
import type { FailureKind } from './retry.ts';

const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EADDRNOTAVAIL',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
  'PIER_UPSTREAM_CONNECT_TIMEOUT',
  // The TLS handshake to the endpoint failed (BackendTLSPolicy): the request never left.
  'PIER_UPSTREAM_TLS',
]);

const TIMEOUT_CODES = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'PIER_UPSTREAM_STALLED',
]);

const PROTOCOL_CODES = new Set([
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'UND_ERR_RES_EXCEEDED_MAX_SIZE',
  'UND_ERR_HEADERS_OVERFLOW',
  'UND_ERR_NOT_SUPPORTED',
  'ERR_HTTP2_PROTOCOL_ERROR',
  'ERR_HTTP2_ERROR',
  'ERR_HTTP2_INVALID_HEADER_VALUE',
]);

export function classifyFailure(error: unknown, connected: boolean): FailureKind {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string') {
    if (CONNECT_CODES.has(code)) return 'connect';
    if (TIMEOUT_CODES.has(code)) return 'timeout';
    if (PROTOCOL_CODES.has(code) || code.startsWith('HPE_')) return 'protocol';
  }
  // Any other error before the request reached a connection is a failure to
  // get one; after, the connection broke under the request.
  return connected ? 'reset' : 'connect';
}

export function errorKeyOf(failure: FailureKind): GatewayErrorKey {
  switch (failure) {
    case 'connect':
      return 'UPSTREAM_CONNECT';
    case 'reset':
      return 'UPSTREAM_RESET';
    case 'timeout':
      return 'UPSTREAM_TIMEOUT';
    case 'protocol':
    case 'status':
      return 'UPSTREAM_PROTOCOL';
  }
}
