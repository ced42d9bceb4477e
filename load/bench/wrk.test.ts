import { describe, expect, it } from 'vitest';
import { BenchErrors } from './errors.ts';
import {
  parseWrkBytes,
  parseWrkOutput,
  parseWrkTime,
  wrkArgv,
  wrkBodyScript,
  wrkLoadRun,
} from './wrk.ts';

// Real `wrk --latency` reports (Debian wrk 4.1.0), captured on loopback.
const OK = `Running 1s test @ http://127.0.0.1:18081/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   404.83us    1.36ms  23.58ms   96.48%
    Req/Sec    56.53k    26.77k   76.83k    81.82%
  Latency Distribution
     50%  125.00us
     75%  234.00us
     90%  643.00us
     99%    5.27ms
  61571 requests in 1.10s, 7.46MB read
Requests/sec:  55994.00
Transfer/sec:      6.78MB
`;

const NON_2XX = `Running 1s test @ http://127.0.0.1:18081/e
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   167.10us  189.78us   4.19ms   95.79%
    Req/Sec    67.46k    17.90k   76.62k    81.82%
  Latency Distribution
     50%  116.00us
     75%  184.00us
     90%  261.00us
     99%    0.87ms
  73688 requests in 1.10s, 10.26MB read
  Non-2xx or 3xx responses: 73688
Requests/sec:  66993.54
Transfer/sec:      9.33MB
`;

const SOCKET_ERRORS = `Running 1s test @ http://127.0.0.1:18083/
  1 threads and 10 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   397.05us  752.18us  15.72ms   94.43%
    Req/Sec    36.48k    14.03k   49.42k    81.82%
  Latency Distribution
     50%  203.00us
     75%  343.00us
     90%  665.00us
     99%    3.23ms
  39930 requests in 1.10s, 4.84MB read
  Socket errors: connect 0, read 814, write 0, timeout 0
Requests/sec:  36313.93
Transfer/sec:      4.40MB
`;

const SECONDS = `Running 3s test @ http://127.0.0.1:18083/slow
  1 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.50s     2.87us   2.50s    50.00%
    Req/Sec     1.00      0.00     1.00    100.00%
  Latency Distribution
     50%    2.50s 
     75%    2.50s 
     90%    2.50s 
     99%    2.50s 
  4 requests in 3.02s, 492.00B read
Requests/sec:      1.33
Transfer/sec:     163.00B
`;

const NOTHING_ANSWERED = `Running 1s test @ http://127.0.0.1:18084/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     0.00us    0.00us   0.00us    -nan%
    Req/Sec     0.00      0.00     0.00      -nan%
  Latency Distribution
     50%    0.00us
     75%    0.00us
     90%    0.00us
     99%    0.00us
  0 requests in 1.01s, 0.00B read
  Socket errors: connect 0, read 5340, write 0, timeout 0
Requests/sec:      0.00
Transfer/sec:       0.00B
`;

describe('parseWrkOutput', () => {
  // report -> requests, rps, p50 ms, p99 ms, errors {connect, read, write, timeout, status}
  const table: Array<[string, string, number, number, number, number, number[]]> = [
    ['ok', OK, 61571, 55994, 0.125, 5.27, [0, 0, 0, 0, 0]],
    ['non-2xx', NON_2XX, 73688, 66993.54, 0.116, 0.87, [0, 0, 0, 0, 73688]],
    ['socket errors', SOCKET_ERRORS, 39930, 36313.93, 0.203, 3.23, [0, 814, 0, 0, 0]],
    ['seconds', SECONDS, 4, 1.33, 2500, 2500, [0, 0, 0, 0, 0]],
    ['nothing answered', NOTHING_ANSWERED, 0, 0, 0, 0, [0, 5340, 0, 0, 0]],
  ];
  it.each(table)('%s', (_name, text, requests, rps, p50, p99, errors) => {
    const report = parseWrkOutput(text);
    expect(report.requests).toBe(requests);
    expect(report.requestsPerSec).toBe(rps);
    expect(report.latency.p50).toBeCloseTo(p50, 6);
    expect(report.latency.p99).toBeCloseTo(p99, 6);
    const e = report.errors;
    expect([e.connect, e.read, e.write, e.timeout, e.status]).toEqual(errors);
  });

  it('reads totals, transfer and the latency line', () => {
    const report = parseWrkOutput(OK);
    expect(report.durationSec).toBeCloseTo(1.1, 6);
    expect(report.bytesRead).toBeCloseTo(7.46 * 2 ** 20, 0);
    expect(report.transferPerSec).toBeCloseTo(6.78 * 2 ** 20, 0);
    expect(report.latency.avg).toBeCloseTo(0.40483, 6);
    expect(report.latency.stdev).toBeCloseTo(1.36, 6);
    expect(report.latency.max).toBeCloseTo(23.58, 6);
    expect(report.latency.p75).toBeCloseTo(0.234, 6);
    expect(report.latency.p90).toBeCloseTo(0.643, 6);
  });

  it('rejects output without a report, naming what is missing', () => {
    for (const text of [
      '',
      'unable to connect to 127.0.0.1:1 Connection refused',
      OK.replace(/^Requests\/sec.*$/m, ''),
    ]) {
      expect(() => parseWrkOutput(text)).toThrow(
        expect.objectContaining({ code: BenchErrors.codes.BAD_TOOL_OUTPUT }),
      );
    }
    expect(() => parseWrkOutput(OK.replace('99%    5.27ms', '99%    soon'))).toThrow(/not a time/);
  });
});

describe('wrk units', () => {
  it.each([
    ['456.00us', 0.456],
    ['1.23ms', 1.23],
    ['1.02s', 1020],
    ['1.50m', 90_000],
  ])('time %s = %f ms', (text, ms) => expect(parseWrkTime(text)).toBeCloseTo(ms, 9));

  it.each([
    ['512.00B', 512],
    ['1.00KB', 1024],
    ['30.00MB', 30 * 2 ** 20],
    ['2.00GB', 2 * 2 ** 30],
  ])('size %s = %d bytes', (text, bytes) => expect(parseWrkBytes(text)).toBe(bytes));
});

describe('wrk commands', () => {
  it('builds the argv the report shows', () => {
    expect(
      wrkArgv({ url: 'http://127.0.0.1:8080/small', threads: 1, connections: 50, durationSec: 5 }),
    ).toEqual(['wrk', '-t1', '-c50', '-d5s', '--latency', 'http://127.0.0.1:8080/small']);
    expect(
      wrkArgv({
        url: 'http://127.0.0.1:1/u',
        threads: 2,
        connections: 8,
        durationSec: 1,
        script: '/t/u.lua',
        timeoutSec: 4,
      }),
    ).toEqual([
      'wrk',
      '-t2',
      '-c8',
      '-d1s',
      '--latency',
      '--timeout',
      '4s',
      '-s',
      '/t/u.lua',
      'http://127.0.0.1:1/u',
    ]);
  });

  it('reduces a report to a sample: failures are socket errors plus error answers', () => {
    const run = wrkLoadRun({
      url: 'http://127.0.0.1:1/',
      threads: 1,
      connections: 1,
      durationSec: 5,
    });
    expect(run.timeoutMs).toBeGreaterThan(5000);
    const sample = run.parse(SOCKET_ERRORS, '');
    expect(sample.completed).toBe(39930);
    expect(sample.failed).toBe(814);
    expect(sample.metrics.rps).toBe(36313.93);
    expect(sample.metrics.p99).toBeCloseTo(3.23, 6);
    expect(sample.metrics.readMiBps).toBeCloseTo(4.4, 6);
    expect(run.parse(NON_2XX, '').failed).toBe(73688);
  });

  it('writes a Lua script that sets method, body and content type', () => {
    const lua = wrkBodyScript('POST', 1024);
    expect(lua).toContain('wrk.method = "POST"');
    expect(lua).toContain('wrk.body = string.rep("x", 1024)');
    expect(lua).toContain('wrk.headers["Content-Type"] = "application/octet-stream"');
  });
});
