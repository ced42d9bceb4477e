import { describe, expect, it } from 'vitest';
import { classifyFailure, errorKeyOf } from './failure.ts';

// undici's error code (or none), whether the attempt had reached a
// connection -> the failure kind -> the client's error response.
const cases: [code: string | undefined, connected: boolean, kind: string, key: string][] = [
  ['ECONNREFUSED', false, 'connect', 'UPSTREAM_CONNECT'],
  ['EHOSTUNREACH', false, 'connect', 'UPSTREAM_CONNECT'],
  ['UND_ERR_CONNECT_TIMEOUT', false, 'connect', 'UPSTREAM_CONNECT'],
  ['ENOTFOUND', false, 'connect', 'UPSTREAM_CONNECT'],
  // A failed TLS handshake (BackendTLSPolicy) is a connect failure, however the pool reported it.
  ['PIER_UPSTREAM_TLS', true, 'connect', 'UPSTREAM_CONNECT'],
  // A connect-class code wins even when undici already reported a start.
  ['ECONNREFUSED', true, 'connect', 'UPSTREAM_CONNECT'],
  ['UND_ERR_HEADERS_TIMEOUT', true, 'timeout', 'UPSTREAM_TIMEOUT'],
  ['UND_ERR_BODY_TIMEOUT', true, 'timeout', 'UPSTREAM_TIMEOUT'],
  ['UND_ERR_RES_CONTENT_LENGTH_MISMATCH', true, 'protocol', 'UPSTREAM_PROTOCOL'],
  ['UND_ERR_HEADERS_OVERFLOW', true, 'protocol', 'UPSTREAM_PROTOCOL'],
  ['HPE_INVALID_CONSTANT', true, 'protocol', 'UPSTREAM_PROTOCOL'],
  ['ERR_HTTP2_PROTOCOL_ERROR', true, 'protocol', 'UPSTREAM_PROTOCOL'],
  ['UND_ERR_SOCKET', true, 'reset', 'UPSTREAM_RESET'],
  ['ECONNRESET', true, 'reset', 'UPSTREAM_RESET'],
  ['EPIPE', true, 'reset', 'UPSTREAM_RESET'],
  [undefined, true, 'reset', 'UPSTREAM_RESET'],
  // Anything unknown before a connection was had: no connection could be had.
  ['UND_ERR_SOCKET', false, 'connect', 'UPSTREAM_CONNECT'],
  [undefined, false, 'connect', 'UPSTREAM_CONNECT'],
];

describe('classifyFailure', () => {
  it.each(cases)('%s connected=%s -> %s -> %s', (code, connected, kind, key) => {
    const error = Object.assign(new Error('boom'), code === undefined ? {} : { code });
    const failure = classifyFailure(error, connected);
    expect(failure).toBe(kind);
    expect(errorKeyOf(failure)).toBe(key);
  });

  it('survives values that are not errors', () => {
    expect(classifyFailure(null, true)).toBe('reset');
    expect(classifyFailure('text', false)).toBe('connect');
    expect(classifyFailure({ code: 42 }, true)).toBe('reset');
  });

  it('maps a held-back status to a protocol error (never sent as such)', () => {
    expect(errorKeyOf('status')).toBe('UPSTREAM_PROTOCOL');
  });
});
