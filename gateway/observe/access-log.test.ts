import { describe, expect, it } from 'vitest';
import { accessLine, encodeStatic } from './access-log.ts';

const record = {
  method: 'GET',
  path: '/a?q="x"\n',
  status: 200,
  bytesSent: 12,
  bytesReceived: -1,
  totalMs: 1.23456,
  upstreamMs: 1.1,
  endpoint: '10.0.0.7:8080',
  attempts: 2,
  clientIp: '192.0.2.1',
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  errorCode: undefined,
  clientAborted: false,
};
const fixed = encodeStatic({
  gateway: 'demo/edge',
  listener: 'http',
  port: 8080,
  route: 'HTTPRoute demo/web rule 0',
  service: 'demo/web:80',
});

describe('access log lines', () => {
  it('are one JSON object per line with every field', () => {
    const line = accessLine(fixed, record);
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      msg: 'access',
      gateway: 'demo/edge',
      listener: 'http',
      port: 8080,
      route: 'HTTPRoute demo/web rule 0',
      service: 'demo/web:80',
      endpoint: '10.0.0.7:8080',
      method: 'GET',
      path: '/a?q="x"\n',
      status: 200,
      bytes_sent: 12,
      bytes_received: -1,
      duration_ms: 1.23,
      upstream_ms: 1.1,
      attempts: 2,
      client: '192.0.2.1',
      traceparent: record.traceparent,
      error: null,
      aborted: false,
    });
  });

  it('write null for what did not happen, and cut very long paths', () => {
    const line = JSON.parse(
      accessLine(fixed, {
        ...record,
        endpoint: undefined,
        errorCode: 'PIER_GW_NO_ROUTE',
        upstreamMs: -1,
        path: `/${'x'.repeat(5000)}`,
      }),
    );
    expect(line.endpoint).toBeNull();
    expect(line.error).toBe('PIER_GW_NO_ROUTE');
    expect(line.upstream_ms).toBe(-1);
    expect(line.path.length).toBe(1027);
  });
});
