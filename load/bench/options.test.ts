import { describe, expect, it } from 'vitest';
import { BenchErrors } from './errors.ts';
import { DEFAULTS, parseCommandLine, parseDuration } from './options.ts';

describe('command line', () => {
  it('defaults: every benchmark, 3 runs of 5 s, wrk -t1 -c50, workers 1 and 2', () => {
    const { benchmarks, options, help } = parseCommandLine([]);
    expect(benchmarks).toEqual([]);
    expect(help).toBe(false);
    expect(options).toEqual(DEFAULTS);
    expect(options).toMatchObject({
      runs: 3,
      durationSec: 5,
      threads: 1,
      connections: 50,
      workers: [1, 2],
    });
  });

  it('reads every option, in both spellings', () => {
    const { benchmarks, options } = parseCommandLine([
      'gateway',
      '--runs=5',
      '--duration',
      '10s',
      '--warmup=0s',
      '--connections=100',
      '--threads=2',
      '--workers=2,1,2',
      '--peers=nginx,pier',
      '--cases=small',
      '--ready-timeout=30s',
      '--max-minutes=60',
      '--out=/tmp/x',
    ]);
    expect(benchmarks).toEqual(['gateway']);
    expect(options).toEqual({
      runs: 5,
      durationSec: 10,
      warmupSec: 0,
      connections: 100,
      threads: 2,
      workers: [2, 1],
      peers: ['nginx', 'pier'],
      cases: ['small'],
      readyTimeoutMs: 30_000,
      maxMinutes: 60,
      outDir: '/tmp/x',
    });
  });

  it.each([
    ['--runs=0'],
    ['--runs=21'],
    ['--runs=two'],
    ['--duration=0s'],
    ['--duration=11m'],
    ['--duration=fast'],
    ['--warmup=-1s'],
    ['--connections=0'],
    ['--threads=8', '--connections=4'],
    ['--workers=0'],
    ['--workers=,'],
    ['--peers='],
    ['--max-minutes=0'],
    ['--unknown=1'],
  ])('rejects %s with a clear error', (...argv) => {
    expect(() => parseCommandLine(argv)).toThrow(
      expect.objectContaining({ code: BenchErrors.codes.BAD_OPTION }),
    );
  });

  it.each([
    ['5s', 5],
    ['5', 5],
    ['1m', 60],
    ['1500ms', 1.5],
  ])('duration %s = %f s', (text, sec) => expect(parseDuration('--d', text, 1, 600)).toBe(sec));
});
