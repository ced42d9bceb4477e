// dnsperf (Debian's dnsperf 2.x): the DNS load tool. Builds its command,
// bounded in time, and reads its summary, so every number in a result can
// be checked by running the same command by hand.

import type { LoadRun, Sample } from '../bench/benchmark.ts';
import { BenchErrors } from '../bench/errors.ts';

export interface DnsperfOptions {
  host: string;
  port: number;
  queryFile: string;
  /** Clients (UDP sockets) dnsperf acts as (`-c`). */
  clients: number;
  durationSec: number;
  /** Queries outstanding at once (`-q`). */
  outstanding: number;
}

export function dnsperfArgv(o: DnsperfOptions): string[] {
  return [
    'dnsperf',
    '-s',
    o.host,
    '-p',
    String(o.port),
    '-d',
    o.queryFile,
    '-c',
    String(o.clients),
    '-q',
    String(o.outstanding),
    '-l',
    String(o.durationSec),
    '-t',
    '2',
  ];
}

export interface DnsperfReport {
  sent: number;
  completed: number;
  lost: number;
  qps: number;
  /** Milliseconds. */
  avgLatency: number;
  maxLatency: number;
  stddevLatency: number;
  rcodes: Record<string, number>;
}

function need(text: string, re: RegExp, what: string): RegExpExecArray {
  const m = re.exec(text);
  if (m === null)
    throw BenchErrors.BAD_TOOL_OUTPUT(
      'dnsperf',
      `no ${what} line in: ${JSON.stringify(text.slice(0, 300))}`,
    );
  return m;
}

export function parseDnsperfOutput(text: string): DnsperfReport {
  const sent = need(text, /Queries sent:\s+(\d+)/, 'Queries sent');
  const completed = need(text, /Queries completed:\s+(\d+)/, 'Queries completed');
  const lost = need(text, /Queries lost:\s+(\d+)/, 'Queries lost');
  const qps = need(text, /Queries per second:\s+([\d.]+)/, 'Queries per second');
  const latency = need(
    text,
    /Average Latency \(s\):\s+([\d.]+) \(min [\d.]+, max ([\d.]+)\)/,
    'Average Latency',
  );
  const stddev = /Latency StdDev \(s\):\s+([\d.]+)/.exec(text);
  const rcodes: Record<string, number> = {};
  const codes = /Response codes:\s+(.+)/.exec(text);
  for (const part of codes?.[1]?.split(',') ?? []) {
    const m = /([A-Z]+) (\d+)/.exec(part.trim());
    if (m) rcodes[m[1]!] = Number(m[2]);
  }
  return {
    sent: Number(sent[1]),
    completed: Number(completed[1]),
    lost: Number(lost[1]),
    qps: Number(qps[1]),
    avgLatency: Number(latency[1]) * 1000,
    maxLatency: Number(latency[2]) * 1000,
    stddevLatency: Number(stddev?.[1] ?? 0) * 1000,
    rcodes,
  };
}

/**
 * One dnsperf run as the harness runs it; failures are lost queries plus
 * answers other than NOERROR (every name asked exists).
 */
export function dnsperfLoadRun(o: DnsperfOptions): LoadRun {
  return {
    argv: dnsperfArgv(o),
    timeoutMs: (o.durationSec + 15) * 1000,
    parse(stdout): Sample {
      const r = parseDnsperfOutput(stdout);
      const notNoerror = Object.entries(r.rcodes).reduce(
        (n, [code, count]) => n + (code === 'NOERROR' ? 0 : count),
        0,
      );
      return {
        metrics: { qps: r.qps, avg: r.avgLatency, stddev: r.stddevLatency, max: r.maxLatency },
        completed: r.completed,
        failed: r.lost + notNoerror,
      };
    },
  };
}
