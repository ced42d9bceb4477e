// Runs one benchmark: starts each peer per group, warms it up, runs the load
// tool N times, keeps the medians, and computes ratios. One peer failing (to
// start, or during load) fails its row and the benchmark goes on; only a
// missing load tool, bad options or an abort stop the whole run.
//
// Every peer is started in its own scope and stopped before the next one
// starts, so peers never compete with each other for the two cores.

import { loadavg } from 'node:os';
import type {
  BenchmarkDefinition,
  Group,
  LoadRun,
  Peer,
  PeerTarget,
  RunOptions,
  Sample,
} from './benchmark.ts';
import { evaluateComparison, referenceRatios } from './compare.ts';
import { BenchErrors } from './errors.ts';
import { describeMachine } from './machine.ts';
import { describeExit, findExecutable, runCommand } from './process.ts';
import type { BenchmarkResult, GroupResult, RowResult } from './result.ts';
import { createScope, withScope } from './scope.ts';
import { medianMetrics } from './stats.ts';

/** Above this share of failed requests a row is reported but compared with nothing. */
export const ERROR_RATE_LIMIT = 0.01;
/** What starting and stopping a peer adds to its measured time, for the plan's estimate. */
const PEER_OVERHEAD_SEC = 2;

export interface RunnerIo {
  log(line: string): void;
  signal: AbortSignal;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Seconds the plan will take: every (group, peer) pair warms up and runs N times. */
export function estimateSec(groups: readonly Group[], options: RunOptions): number {
  const pairs = groups.reduce((n, g) => n + g.peers.length, 0);
  return pairs * (options.warmupSec + options.runs * options.durationSec + PEER_OVERHEAD_SEC);
}

/** Runs one load invocation to completion and reads it; throws when the tool fails or its output is unreadable. */
export async function executeLoad(run: LoadRun, signal: AbortSignal): Promise<Sample> {
  const [command, ...args] = run.argv;
  if (command === undefined) throw BenchErrors.BAD_OPTION('load command', '', 'a non-empty argv');
  const result = await runCommand(command, args, { timeoutMs: run.timeoutMs, signal });
  if (result.exit.code !== 0) {
    const line = `${result.stderr}\n${result.stdout}`.trim().split('\n')[0] ?? '';
    throw BenchErrors.COMMAND_FAILED(run.argv.join(' '), describeExit(result.exit), line.trim());
  }
  return run.parse(result.stdout, result.stderr);
}

function checkAlive(target: PeerTarget): void {
  for (const proc of target.processes) {
    if (proc.exit !== undefined) {
      const detail = proc.problem();
      throw new Error(
        `${proc.name} exited during the run (${describeExit(proc.exit)})${detail === '' ? '' : `: ${detail}`}`,
      );
    }
  }
}

async function measure<F>(
  peer: Peer<F>,
  version: string,
  group: Group,
  fixture: F,
  options: RunOptions,
  io: RunnerIo,
): Promise<RowResult> {
  const row: RowResult = {
    peer: peer.name,
    label: peer.label,
    version,
    status: 'ok',
    samples: [],
    completed: 0,
    failed: 0,
    ratios: {},
  };
  const fail = (reason: string): RowResult => {
    row.status = 'failed';
    row.reason = reason;
    return row;
  };
  return withScope(async (scope) => {
    let target: PeerTarget;
    try {
      target = await peer.start({ scope, group, fixture, options, signal: io.signal });
    } catch (error) {
      if (io.signal.aborted) throw error;
      return fail(`failed to start: ${messageOf(error)}`);
    }
    try {
      if (options.warmupSec > 0) {
        await executeLoad(group.load(target, options.warmupSec), io.signal);
        checkAlive(target);
      }
      for (let i = 0; i < options.runs; i++) {
        const run = group.load(target, options.durationSec);
        row.command = run.argv.join(' ');
        const sample = await executeLoad(run, io.signal);
        checkAlive(target);
        if (sample.completed === 0)
          return fail(`no request completed (${sample.failed} failed) in run ${i + 1}`);
        row.samples.push(sample);
        row.completed += sample.completed;
        row.failed += sample.failed;
      }
    } catch (error) {
      if (io.signal.aborted) throw error;
      return fail(`load failed: ${messageOf(error)}`);
    }
    row.median = medianMetrics(row.samples);
    const rate = row.failed / Math.max(1, row.completed);
    if (rate > ERROR_RATE_LIMIT) {
      row.status = 'errors';
      row.reason = `${(rate * 100).toFixed(1)}% of requests failed (${row.failed} of ${row.completed}): not compared`;
    }
    return row;
  });
}

/** Validates the options against this benchmark's peers and returns the peers to run. */
function selectPeers<F>(def: BenchmarkDefinition<F>, options: RunOptions): Array<Peer<F>> {
  if (options.peers === undefined) return def.peers;
  const known = def.peers.map((p) => p.name);
  for (const name of options.peers) {
    if (!known.includes(name))
      throw BenchErrors.BAD_OPTION('--peers', name, `one of ${known.join(', ')}`);
  }
  return def.peers.filter((p) => options.peers!.includes(p.name));
}

export async function runBenchmark<F>(
  def: BenchmarkDefinition<F>,
  options: RunOptions,
  io: RunnerIo,
): Promise<BenchmarkResult> {
  const started = Date.now();
  for (const tool of def.tools) {
    if ((await findExecutable(tool.name)) === undefined)
      throw BenchErrors.MISSING_TOOL(tool.name, tool.hint);
  }
  const peers = selectPeers(def, options);
  const machine = await describeMachine();
  const versions: Record<string, string> = {};
  for (const tool of def.tools) versions[tool.label] = await tool.version();
  const peerVersions = new Map<string, string>();
  for (const peer of peers) peerVersions.set(peer.name, await peer.version());

  const root = createScope();
  try {
    const setup = await def.setup({ scope: root, options, signal: io.signal });
    Object.assign(versions, setup.versions ?? {});
    const selected = new Set(peers.map((p) => p.name));
    const groups = setup.groups
      .map((g) => ({ ...g, peers: g.peers.filter((name) => selected.has(name)) }))
      .filter((g) => g.peers.length > 0);

    const estimate = estimateSec(groups, options);
    if (estimate > options.maxMinutes * 60) {
      throw BenchErrors.BAD_OPTION(
        '--max-minutes',
        String(options.maxMinutes),
        `at least ${Math.ceil(estimate / 60)} for this plan, or fewer runs, a shorter duration, fewer peers or cases`,
      );
    }
    const total = groups.reduce((n, g) => n + g.peers.length, 0);
    io.log(
      `${def.name}: ${groups.length} groups, ${total} peer runs, about ${Math.ceil(estimate / 60)} min`,
    );

    const results: GroupResult[] = [];
    let done = 0;
    for (const group of groups) {
      const rows: RowResult[] = [];
      for (const name of group.peers) {
        if (io.signal.aborted) throw BenchErrors.ABORTED('interrupted');
        const peer = peers.find((p) => p.name === name)!;
        done++;
        const row = await measure(
          peer,
          peerVersions.get(name) ?? 'unknown',
          group,
          setup.fixture,
          options,
          io,
        );
        io.log(
          `[${done}/${total}] ${group.title} | ${peer.label}: ${summarizeRow(row, def.plotMetric)}`,
        );
        rows.push(row);
      }
      const ratios = referenceRatios(rows, def.reference.peer, def.reference.metrics);
      for (const row of rows) row.ratios = ratios.get(row.peer) ?? {};
      const comparisons = def.comparisons
        .filter((c) => group.peers.includes(c.subject))
        .map((c) => evaluateComparison(c, rows, def.metrics));
      results.push({ id: group.id, title: group.title, params: group.params, rows, comparisons });
    }

    const { outDir: _outDir, ...shownOptions } = options;
    return {
      name: def.name,
      title: def.title,
      description: def.description,
      notes: def.notes,
      date: new Date(started).toISOString(),
      elapsedSec: Math.round((Date.now() - started) / 1000),
      machine,
      loadAverageAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
      versions,
      options: shownOptions,
      metrics: def.metrics,
      reference: def.reference,
      plotMetric: def.plotMetric,
      groups: results,
    };
  } finally {
    await root.close();
  }
}

function summarizeRow(row: RowResult, metric: string): string {
  if (row.status === 'failed') return row.reason ?? 'failed';
  const value = row.median?.[metric];
  const shown = value === undefined ? 'n/a' : `${Math.round(value)} ${metric}`;
  return row.status === 'errors' ? `${shown} (${row.reason})` : shown;
}
