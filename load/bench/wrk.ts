// wrk (Debian's wrk 4.x): the HTTP load tool. Builds its command, runs it
// bounded in time, and reads its text report, the one users know from
// `wrk --latency`, so every number in a result can be checked by running
// the same command by hand.

import type { LoadRun } from './benchmark.ts';
import { BenchErrors } from './errors.ts';

export interface WrkOptions {
  url: string;
  threads: number;
  connections: number;
  durationSec: number;
  /** A Lua script file (`-s`), e.g. one that sets the method and body. */
  script?: string;
  /** wrk's own per-request timeout (`--timeout`), seconds; slower requests count as timeouts. */
  timeoutSec?: number;
}

export interface WrkReport {
  requests: number;
  durationSec: number;
  bytesRead: number;
  requestsPerSec: number;
  /** Bytes read per second. */
  transferPerSec: number;
  /** Milliseconds. */
  latency: {
    avg: number;
    stdev: number;
    max: number;
    p50: number;
    p75: number;
    p90: number;
    p99: number;
  };
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
}

/** wrk's argv for these options; `--latency` always, for p50/p99. */
export function wrkArgv(options: WrkOptions): string[] {
  const argv = [
    'wrk',
    `-t${options.threads}`,
    `-c${options.connections}`,
    `-d${options.durationSec}s`,
    '--latency',
  ];
  if (options.timeoutSec !== undefined) argv.push('--timeout', `${options.timeoutSec}s`);
  if (options.script !== undefined) argv.push('-s', options.script);
  argv.push(options.url);
  return argv;
}

/** A hard bound for one wrk run: its duration plus time to connect, report and exit. */
export function wrkTimeoutMs(durationSec: number): number {
  return (durationSec + 15) * 1000;
}

const TIME_UNITS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const BINARY_UNITS: Record<string, number> = {
  '': 1,
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
  P: 2 ** 50,
};

/** `1.23ms` -> 1.23, `456.00us` -> 0.456, `1.02s` -> 1020. */
export function parseWrkTime(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (m === null) throw BenchErrors.BAD_TOOL_OUTPUT('wrk', `not a time: ${JSON.stringify(text)}`);
  return Number(m[1]) * TIME_UNITS[m[2]!]!;
}

/** `30.00MB` -> bytes (wrk's binary units, 1024-based); `512.00B` -> 512. */
export function parseWrkBytes(text: string): number {
  const m = /^([\d.]+)([KMGTP]?)B$/.exec(text.trim());
  if (m === null) throw BenchErrors.BAD_TOOL_OUTPUT('wrk', `not a size: ${JSON.stringify(text)}`);
  return Number(m[1]) * BINARY_UNITS[m[2]!]!;
}

function need(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (m === null)
    throw BenchErrors.BAD_TOOL_OUTPUT(
      'wrk',
      `no ${what} line in: ${JSON.stringify(text.slice(0, 300))}`,
    );
  return m;
}

/** Reads `wrk --latency` output. Throws BAD_TOOL_OUTPUT when a line it needs is missing. */
export function parseWrkOutput(text: string): WrkReport {
  const latencyLine = need(
    text,
    /^\s*Latency\s+(\S+)\s+(\S+)\s+(\S+)\s+\S+%\s*$/m,
    'Latency stats',
  );
  const pct = (p: number) =>
    parseWrkTime(
      need(text, new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+(\\S+)\\s*$`, 'm'), `${p}% latency`)[1]!,
    );
  const totals = need(text, /^\s*(\d+) requests in (\S+), (\S+) read\s*$/m, '"requests in"');
  const rps = need(text, /^Requests\/sec:\s+([\d.]+)\s*$/m, 'Requests/sec');
  const transfer = need(text, /^Transfer\/sec:\s+(\S+)\s*$/m, 'Transfer/sec');
  const socket =
    /^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)\s*$/m.exec(text);
  const status = /^\s*Non-2xx or 3xx responses: (\d+)\s*$/m.exec(text);
  return {
    requests: Number(totals[1]),
    durationSec: parseWrkTime(totals[2]!) / 1000,
    bytesRead: parseWrkBytes(totals[3]!),
    requestsPerSec: Number(rps[1]),
    transferPerSec: parseWrkBytes(transfer[1]!),
    latency: {
      avg: parseWrkTime(latencyLine[1]!),
      stdev: parseWrkTime(latencyLine[2]!),
      max: parseWrkTime(latencyLine[3]!),
      p50: pct(50),
      p75: pct(75),
      p90: pct(90),
      p99: pct(99),
    },
    errors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
      status: Number(status?.[1] ?? 0),
    },
  };
}

/** Failed requests in a report: socket errors plus answers wrk counts as errors (status >= 400). */
export function wrkFailures(report: WrkReport): number {
  const e = report.errors;
  return e.connect + e.read + e.write + e.timeout + e.status;
}

/**
 * One wrk run as the harness runs it: the exact argv, bounded in time, and
 * its report reduced to a Sample (rps, p50, p75, p90, p99, avg in ms; readMiBps).
 */
export function wrkLoadRun(options: WrkOptions): LoadRun {
  return {
    argv: wrkArgv(options),
    timeoutMs: wrkTimeoutMs(options.durationSec),
    parse(stdout) {
      const report = parseWrkOutput(stdout);
      const { p50, p75, p90, p99, avg } = report.latency;
      return {
        metrics: {
          rps: report.requestsPerSec,
          p50,
          p75,
          p90,
          p99,
          avg,
          readMiBps: report.transferPerSec / 2 ** 20,
        },
        completed: report.requests,
        failed: wrkFailures(report),
      };
    },
  };
}

/**
 * A wrk Lua script that sends every request with this method and a body of
 * `bytes` bytes (built once per thread, so the load tool spends its time
 * sending, not building).
 */
export function wrkBodyScript(
  method: string,
  bytes: number,
  contentType = 'application/octet-stream',
): string {
  return [
    '-- Generated by load/bench/wrk.ts: every request carries the same body.',
    `wrk.method = ${JSON.stringify(method)}`,
    `wrk.body = string.rep("x", ${bytes})`,
    `wrk.headers["Content-Type"] = ${JSON.stringify(contentType)}`,
    '',
  ].join('\n');
}
