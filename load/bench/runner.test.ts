import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import type { BenchmarkDefinition, Peer, RunOptions } from './benchmark.ts';
import { BenchErrors } from './errors.ts';
import { DEFAULTS } from './options.ts';
import { freePort, LOOPBACK } from './ports.ts';
import { startProcess } from './process.ts';
import type { BenchmarkResult } from './result.ts';
import { runBenchmark } from './runner.ts';
import { withScope } from './scope.ts';
import { makeTempDir } from './temp-dir.ts';
import { itNeeds, missingTools } from './testing.ts';
import { writeResults } from './write-results.ts';
import { wrkLoadRun } from './wrk.ts';

const missing = await missingTools(['wrk']);

/** A peer that is a real Node.js HTTP server on 127.0.0.1 answering `status`. */
function serverPeer(name: string, status: number): Peer<null> {
  return {
    name,
    label: `${name} server`,
    version: async () => `node ${process.versions.node}`,
    async start({ scope, options, signal }) {
      const port = await freePort();
      const proc = await startProcess(
        scope,
        {
          name,
          command: process.execPath,
          args: [
            '-e',
            `require('http').createServer((q, r) => { r.statusCode = ${status}; r.end('hello'); }).listen(${port}, '${LOOPBACK}')`,
          ],
          ready: [{ kind: 'port', host: LOOPBACK, port }],
          readyTimeoutMs: options.readyTimeoutMs,
        },
        signal,
      );
      return { host: LOOPBACK, port, processes: [proc] };
    },
  };
}

/** A peer whose process cannot start: it says why on stderr and exits. */
const brokenPeer: Peer<null> = {
  name: 'broken',
  label: 'broken server',
  version: async () => 'unknown: not built yet',
  async start({ scope, options, signal }) {
    await startProcess(
      scope,
      {
        name: 'broken',
        command: process.execPath,
        args: ['-e', "console.error('Error: no gateway subcommand yet'); process.exit(1)"],
        ready: [{ kind: 'port', host: LOOPBACK, port: 1 }],
        readyTimeoutMs: options.readyTimeoutMs,
      },
      signal,
    );
    throw new Error('unreachable');
  },
};

function definition(
  tools = [
    { name: 'wrk', label: 'wrk (load)', hint: 'apt-get install wrk', version: async () => 'test' },
  ],
): BenchmarkDefinition<null> {
  return {
    name: 'demo',
    title: 'Demo',
    description: [],
    notes: [],
    metrics: [
      { key: 'rps', label: 'req/s', unit: '', better: 'higher', digits: 0 },
      { key: 'p99', label: 'p99', unit: 'ms', better: 'lower', digits: 2 },
    ],
    reference: { peer: 'ref', metrics: ['rps', 'p99'] },
    plotMetric: 'rps',
    peers: [
      serverPeer('ref', 200),
      brokenPeer,
      serverPeer('other', 200),
      serverPeer('erroring', 500),
    ],
    tools,
    async setup({ options }) {
      return {
        fixture: null,
        groups: [
          {
            id: 'only',
            title: 'only group',
            params: {},
            peers: ['ref', 'broken', 'other', 'erroring'],
            load: (target, durationSec) =>
              wrkLoadRun({
                url: `http://${target.host}:${target.port}/`,
                threads: options.threads,
                connections: options.connections,
                durationSec,
              }),
          },
        ],
      };
    },
    comparisons: [
      {
        label: 'broken vs ref',
        metric: 'rps',
        subject: 'broken',
        reference: { peer: 'ref' },
        target: { op: '>=', value: 1 },
      },
      { label: 'other vs ref', metric: 'rps', subject: 'other', reference: { peer: 'ref' } },
    ],
  };
}

const options: RunOptions = {
  ...DEFAULTS,
  runs: 2,
  durationSec: 1,
  warmupSec: 0,
  connections: 4,
  readyTimeoutMs: 10_000,
};
const io = () => ({ log: () => {}, signal: new AbortController().signal });

describe('runBenchmark', () => {
  itNeeds(
    missing,
    'measures every peer with real wrk, fails only the broken one, and writes md, json and svg',
    async () => {
      const result = await runBenchmark(definition(), options, io());
      const [group] = result.groups;
      const byPeer = new Map(group!.rows.map((r) => [r.peer, r]));

      const ref = byPeer.get('ref')!;
      const other = byPeer.get('other')!;
      expect(ref.status).toBe('ok');
      expect(ref.samples).toHaveLength(2);
      expect(ref.median!.rps).toBeGreaterThan(0);
      expect(ref.command).toMatch(/^wrk -t1 -c4 -d1s --latency http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(ref.ratios).toEqual({ rps: 1, p99: 1 });
      expect(other.ratios.rps).toBeCloseTo(other.median!.rps! / ref.median!.rps!, 9);

      const broken = byPeer.get('broken')!;
      expect(broken.status).toBe('failed');
      expect(broken.reason).toBe(
        'failed to start: broken exited before it was ready (exit code 1): Error: no gateway subcommand yet',
      );
      expect(broken.version).toBe('unknown: not built yet');

      const erroring = byPeer.get('erroring')!;
      expect(erroring.status).toBe('errors');
      expect(erroring.failed).toBe(erroring.completed);
      expect(erroring.ratios).toEqual({ rps: null, p99: null });

      const [brokenVsRef, otherVsRef] = group!.comparisons;
      expect(brokenVsRef).toMatchObject({
        value: null,
        reason: 'broken failed to start',
        target: { op: '>=', value: 1 },
      });
      expect(brokenVsRef!.met).toBeUndefined();
      expect(otherVsRef!.value).toBeCloseTo(other.ratios.rps!, 9);

      await withScope(async (scope) => {
        const out = await makeTempDir(scope, 'results');
        const files = await writeResults(result, out);
        expect(files.map((f) => f.slice(out.length + 1))).toEqual([
          'demo.md',
          'demo.json',
          'demo.svg',
        ]);
        const json = JSON.parse(await readFile(join(out, 'demo.json'), 'utf8')) as BenchmarkResult;
        expect(json).toEqual(JSON.parse(JSON.stringify(result)));
        expect(await readFile(join(out, 'demo.md'), 'utf8')).toContain(
          'Error: no gateway subcommand yet',
        );
        expect(await readFile(join(out, 'demo.svg'), 'utf8')).toMatch(/^<svg /);
      });
    },
  );

  itNeeds(
    missing,
    'measures an interleaved group in rounds: one run of each peer per round, medians as before',
    async () => {
      const def = definition();
      const order: string[] = [];
      const setup = def.setup;
      def.interleaved = true;
      def.setup = async (ctx) => {
        const made = await setup(ctx);
        return {
          ...made,
          groups: made.groups.map((g) => ({
            ...g,
            load: (target, durationSec) => {
              order.push(String(target.port));
              return g.load(target, durationSec);
            },
          })),
        };
      };
      const logs: string[] = [];
      const result = await runBenchmark(
        def,
        { ...options, warmupSec: 0 },
        { log: (line) => logs.push(line), signal: new AbortController().signal },
      );
      expect(result.interleaved).toBe(true);
      const rows = result.groups[0]!.rows;
      const portOf = new Map(
        rows
          .filter((r) => r.command !== undefined)
          .map((r) => [/:(\d+)\/$/.exec(r.command!)![1]!, r.peer]),
      );
      // broken never started; the others ran once each per round, in the group's order.
      expect(order.map((port) => portOf.get(port))).toEqual([
        'ref',
        'other',
        'erroring',
        'ref',
        'other',
        'erroring',
      ]);
      const byPeer = new Map(rows.map((r) => [r.peer, r]));
      expect(byPeer.get('ref')!.samples).toHaveLength(2);
      expect(byPeer.get('broken')!.status).toBe('failed');
      expect(byPeer.get('erroring')!.status).toBe('errors');
      expect(byPeer.get('other')!.ratios.rps).toBeCloseTo(
        byPeer.get('other')!.median!.rps! / byPeer.get('ref')!.median!.rps!,
        9,
      );
      expect(logs.filter((l) => l.startsWith('  round '))).toHaveLength(2);
      expect(logs.filter((l) => /^\[\d\/4\]/.test(l))).toHaveLength(4);
    },
  );

  itNeeds(
    missing,
    'refuses a plan longer than --max-minutes before starting any peer',
    async () => {
      const run = runBenchmark(
        definition(),
        { ...options, durationSec: 600, runs: 20, maxMinutes: 1 },
        io(),
      );
      await expect(run).rejects.toMatchObject({
        code: BenchErrors.codes.BAD_OPTION,
        message: expect.stringContaining('--max-minutes'),
      });
    },
  );

  itNeeds(missing, 'rejects unknown peer names', async () => {
    const run = runBenchmark(definition(), { ...options, peers: ['ref', 'nope'] }, io());
    await expect(run).rejects.toMatchObject({
      code: BenchErrors.codes.BAD_OPTION,
      message: expect.stringContaining('nope'),
    });
  });

  itNeeds([], 'stops before starting anything when the load tool is missing', async () => {
    const def = definition([
      { name: 'no-such-load-tool', label: 'x', hint: 'install it', version: async () => '' },
    ]);
    await expect(runBenchmark(def, options, io())).rejects.toMatchObject({
      code: BenchErrors.codes.MISSING_TOOL,
      message: 'no-such-load-tool is not installed or not on PATH: install it',
    });
  });
});
