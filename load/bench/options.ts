// The harness's command line: `node load/run.ts [benchmark...] [--runs 3] ...`.
// Every option is bounded, so no run can ask for an unbounded amount of time
// or load; a bad value is one clear line (PIER_BENCH_BAD_OPTION), not a crash.

import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { RunOptions } from './benchmark.ts';
import { BenchErrors } from './errors.ts';
import { REPO_ROOT } from './versions.ts';

export const DEFAULTS: RunOptions = {
  runs: 3,
  durationSec: 5,
  warmupSec: 1,
  connections: 50,
  threads: 1,
  workers: [1, 2],
  readyTimeoutMs: 15_000,
  outDir: resolve(REPO_ROOT, 'load', 'results'),
  maxMinutes: 15,
};

export const USAGE = `usage: node load/run.ts [benchmark...] [options]   (no benchmark: all of them)

  --runs N            measured runs per row, the median is reported (1-20, default ${DEFAULTS.runs})
  --duration T        length of one run: 5s, 1m (1s-10m, default ${DEFAULTS.durationSec}s)
  --warmup T          an unmeasured run before the measured ones (0s-60s, default ${DEFAULTS.warmupSec}s)
  --connections N     load tool connections (1-10000, default ${DEFAULTS.connections})
  --threads N         load tool threads (1-64, default ${DEFAULTS.threads})
  --workers N,M       proxy worker processes, one group each (1-64, default ${DEFAULTS.workers.join(',')})
  --peers a,b         only these peers (default: all)
  --cases a,b         only these cases (default: all)
  --ready-timeout T   how long a peer may take to answer (1s-120s, default ${DEFAULTS.readyTimeoutMs / 1000}s)
  --max-minutes N     refuse plans estimated longer than this (default ${DEFAULTS.maxMinutes})
  --out DIR           where <name>.md/.json/.svg go (default load/results)
  --help`;

export interface CommandLine {
  benchmarks: string[];
  options: RunOptions;
  help: boolean;
}

/** `5s` -> 5, `1m` -> 60, `500ms` -> 0.5, `7` -> 7 (seconds). */
export function parseDuration(
  option: string,
  text: string,
  minSec: number,
  maxSec: number,
): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const expected = `a duration from ${minSec}s to ${maxSec}s, like 5s or 1m`;
  if (m === null) throw BenchErrors.BAD_OPTION(option, text, expected);
  const scale = m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1;
  const sec = Number(m[1]) * scale;
  if (!(sec >= minSec && sec <= maxSec)) throw BenchErrors.BAD_OPTION(option, text, expected);
  return sec;
}

export function parseInteger(option: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(Number.isSafeInteger(n) && n >= min && n <= max)) {
    throw BenchErrors.BAD_OPTION(option, text, `a whole number from ${min} to ${max}`);
  }
  return n;
}

function parseList(option: string, text: string): string[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (items.length === 0) throw BenchErrors.BAD_OPTION(option, text, 'a comma-separated list');
  return items;
}

export function parseCommandLine(argv: string[]): CommandLine {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        runs: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        connections: { type: 'string' },
        threads: { type: 'string' },
        workers: { type: 'string' },
        peers: { type: 'string' },
        cases: { type: 'string' },
        'ready-timeout': { type: 'string' },
        'max-minutes': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean' },
      },
    });
  } catch (error) {
    throw BenchErrors.BAD_OPTION(
      'command line',
      argv.join(' '),
      `${(error as Error).message}\n${USAGE}`,
    );
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const str = (key: string): string | undefined =>
    typeof v[key] === 'string' ? (v[key] as string) : undefined;
  const options: RunOptions = { ...DEFAULTS, workers: [...DEFAULTS.workers] };
  const runs = str('runs');
  if (runs !== undefined) options.runs = parseInteger('--runs', runs, 1, 20);
  const duration = str('duration');
  if (duration !== undefined) options.durationSec = parseDuration('--duration', duration, 1, 600);
  const warmup = str('warmup');
  if (warmup !== undefined) options.warmupSec = parseDuration('--warmup', warmup, 0, 60);
  const connections = str('connections');
  if (connections !== undefined)
    options.connections = parseInteger('--connections', connections, 1, 10_000);
  const threads = str('threads');
  if (threads !== undefined) options.threads = parseInteger('--threads', threads, 1, 64);
  if (options.threads > options.connections) {
    throw BenchErrors.BAD_OPTION(
      '--threads',
      String(options.threads),
      `at most --connections (${options.connections})`,
    );
  }
  const workers = str('workers');
  if (workers !== undefined) {
    options.workers = [
      ...new Set(parseList('--workers', workers).map((w) => parseInteger('--workers', w, 1, 64))),
    ];
  }
  const peers = str('peers');
  if (peers !== undefined) options.peers = parseList('--peers', peers);
  const cases = str('cases');
  if (cases !== undefined) options.cases = parseList('--cases', cases);
  const ready = str('ready-timeout');
  if (ready !== undefined)
    options.readyTimeoutMs = parseDuration('--ready-timeout', ready, 1, 120) * 1000;
  const maxMinutes = str('max-minutes');
  if (maxMinutes !== undefined)
    options.maxMinutes = parseInteger('--max-minutes', maxMinutes, 1, 600);
  const out = str('out');
  if (out !== undefined) options.outDir = resolve(out);
  return { benchmarks: parsed.positionals, options, help: v.help === true };
}
