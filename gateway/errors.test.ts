import { describe, expect, it } from 'vitest';
import {
  type GatewayErrorKey,
  GatewayErrors,
  gatewayErrorCode,
  gatewayErrorResponses,
  gatewayErrorTable,
  isGatewayError,
  sendGatewayError,
} from './errors.ts';

/** Records what sendGatewayError does to a response. */
function sink(headersSent = false) {
  const calls: unknown[][] = [];
  return {
    calls,
    headersSent,
    writeHead(status: number, headers: string[]) {
      calls.push(['writeHead', status, [...headers]]);
    },
    end(chunk?: Buffer) {
      calls.push(['end', chunk?.toString()]);
    },
    destroy() {
      calls.push(['destroy']);
    },
  };
}

// key -> status, client body: the contract with clients and the router.
const table: [GatewayErrorKey, number, string][] = [
  ['NO_ROUTE', 404, '404 no route (PIER_GW_NO_ROUTE)\n'],
  ['NO_ENDPOINTS', 503, '503 no healthy upstream (PIER_GW_NO_ENDPOINTS)\n'],
  ['BACKEND_UNRESOLVED', 500, '500 backend not resolved (PIER_GW_BACKEND_UNRESOLVED)\n'],
  ['UPSTREAM_CONNECT', 502, '502 upstream connect error (PIER_GW_UPSTREAM_CONNECT)\n'],
  ['UPSTREAM_RESET', 502, '502 upstream connection reset (PIER_GW_UPSTREAM_RESET)\n'],
  ['UPSTREAM_PROTOCOL', 502, '502 invalid upstream response (PIER_GW_UPSTREAM_PROTOCOL)\n'],
  ['UPSTREAM_TIMEOUT', 504, '504 upstream request timeout (PIER_GW_UPSTREAM_TIMEOUT)\n'],
  ['REQUEST_TIMEOUT', 504, '504 request timeout (PIER_GW_REQUEST_TIMEOUT)\n'],
  ['UPGRADE_REJECTED', 400, '400 upgrade not allowed (PIER_GW_UPGRADE_REJECTED)\n'],
  ['BAD_REQUEST', 400, '400 bad request (PIER_GW_BAD_REQUEST)\n'],
];

describe('gateway error table', () => {
  it.each(table)('%s -> %i', (key, status, body) => {
    const r = gatewayErrorResponses[key];
    expect([r.status, r.body.toString(), r.code]).toEqual([status, body, gatewayErrorCode(key)]);
    expect(r.headers).toEqual([
      'content-type',
      'text/plain; charset=utf-8',
      'content-length',
      String(Buffer.byteLength(body)),
      'x-pier-error',
      r.code,
    ]);
    const raw = r.raw.toString('latin1');
    expect(raw.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    expect(raw).toContain('\r\nconnection: close\r\n');
    expect(raw.endsWith(`\r\n\r\n${body}`)).toBe(true);
  });

  it('gives every row, also rows added later, a well-formed response', () => {
    for (const key of Object.keys(gatewayErrorTable) as GatewayErrorKey[]) {
      const spec = gatewayErrorTable[key];
      const r = gatewayErrorResponses[key];
      expect(r.code, key).toBe(`PIER_GW_${key}`);
      expect(r.status >= 400 && r.status <= 599, key).toBe(true);
      expect(r.body.toString(), key).toBe(`${r.status} ${spec.body} (${r.code})\n`);
      expect(Number.isInteger(spec.grpcStatus) && spec.grpcStatus > 0, key).toBe(true);
    }
  });

  it('writes the plain-text form, the gRPC trailers-only form, or cuts a started response', () => {
    const plain = sink();
    sendGatewayError(plain, 'NO_ENDPOINTS');
    expect(plain.calls).toEqual([
      ['writeHead', 503, [...gatewayErrorResponses.NO_ENDPOINTS.headers]],
      ['end', '503 no healthy upstream (PIER_GW_NO_ENDPOINTS)\n'],
    ]);
    const grpc = sink();
    sendGatewayError(grpc, 'UPSTREAM_TIMEOUT', true);
    expect(grpc.calls).toEqual([
      [
        'writeHead',
        200,
        [
          'content-type',
          'application/grpc',
          'grpc-status',
          '4',
          'grpc-message',
          'upstream%20request%20timeout%20(PIER_GW_UPSTREAM_TIMEOUT)',
          'x-pier-error',
          'PIER_GW_UPSTREAM_TIMEOUT',
        ],
      ],
      ['end', undefined],
    ]);
    const started = sink(true);
    sendGatewayError(started, 'UPSTREAM_RESET');
    expect(started.calls).toEqual([['destroy']]);
  });

  it('throws errors with stable codes and operator messages', () => {
    const error = GatewayErrors.NO_ENDPOINTS('Service shop/web:80');
    expect(error.code).toBe('PIER_GW_NO_ENDPOINTS');
    expect(error.message).toContain('Service shop/web:80 has no ready endpoint');
    expect(isGatewayError(error, 'NO_ENDPOINTS')).toBe(true);
    expect(isGatewayError(error, 'NO_ROUTE')).toBe(false);
    expect(isGatewayError(new Error('x'), 'NO_ENDPOINTS')).toBe(false);
  });
});
