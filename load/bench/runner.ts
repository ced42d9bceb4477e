// Runs one benchmark: starts each peer per group, warms it up, runs the load
// tool N times, keeps the medians, and computes ratios. One peer failing (to
// start, or during load) fails its row and the benchmark goes on; only a
// missing load tool, bad options or an abort stop the whole run.
//
// Peers never run under load at the same time. By default each is started
// in its own scope and stopped before the next one starts. An interleaved
// benchmark starts a group's peers together (idle, they take no CPU), warms
// each up, then measures them in rounds, one run of each per round: on a
// shared machine whose background load drifts over minutes, the drift then
// falls on every peer alike instead of on whichever ran during it, and the
// ratios between peers stop moving with it.

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
import { createScope, type Scope, withScope } from './scope.ts';
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

function newRow(name: string, label: string, version: string): RowResult {
  return {
    peer: name,
    label,
    version,
    status: 'ok',
    samples: [],
    completed: 0,
    failed: 0,
    ratios: {},
  };
}

function failRow(row: RowResult, reason: string): RowResult {
  row.status = 'failed';
  row.reason = reason;
  return row;
}

/** One measured run of a started peer, added to its row; returns a reason when the row fails. */
async function measureRun(
  group: Group,
  target: PeerTarget,
  row: RowResult,
  run: number,
  options: RunOptions,
  io: RunnerIo,
): Promise<string | undefined> {
  const load = group.load(target, options.durationSec);
  row.command = load.argv.join(' ');
  const sample = await executeLoad(load, io.signal);
  checkAlive(target);
  if (sample.completed === 0) return `no request completed (${sample.failed} failed) in run ${run}`;
  row.samples.push(sample);
  row.completed += sample.completed;
  row.failed += sample.failed;
  return undefined;
}

/** Medians, and whether too many requests failed to compare the row. */
function finishRow(row: RowResult): RowResult {
  row.median = medianMetrics(row.samples);
  const rate = row.failed / Math.max(1, row.completed);
  if (rate > ERROR_RATE_LIMIT) {
    row.status = 'errors';
    row.reason = `${(rate * 100).toFixed(1)}% of requests failed (${row.failed} of ${row.completed}): not compared`;
  }
  return row;
}

interface Started<F> {
  peer: Peer<F>;
  row: RowResult;
  target?: PeerTarget;
}

/** Starts a peer and warms it up; a failure fails its row (the run goes on). */
async function startPeer<F>(
  started: Started<F>,
  scope: Scope,
  group: Group,
  fixture: F,
  options: RunOptions,
  io: RunnerIo,
): Promise<void> {
  try {
    started.target = await started.peer.start({
      scope,
      group,
      fixture,
      options,
      signal: io.signal,
    });
  } catch (error) {
    if (io.signal.aborted) throw error;
    failRow(started.row, `failed to start: ${messageOf(error)}`);
    return;
  }
  try {
    if (options.warmupSec > 0) {
      await executeLoad(group.load(started.target, options.warmupSec), io.signal);
      checkAlive(started.target);
    }
  } catch (error) {
    if (io.signal.aborted) throw error;
    failRow(started.row, `load failed: ${messageOf(error)}`);
  }
}

/** One run after another for one peer, then it stops. */
function measure<F>(
  started: Started<F>,
  group: Group,
  fixture: F,
  options: RunOptions,
  io: RunnerIo,
): Promise<RowResult> {
  const { row } = started;
  return withScope(async (scope) => {
    await startPeer(started, scope, group, fixture, options, io);
    if (row.status === 'failed') return row;
    try {
      for (let i = 1; i <= options.runs; i++) {
        const reason = await measureRun(group, started.target!, row, i, options, io);
        if (reason !== undefined) return failRow(row, reason);
      }
    } catch (error) {
      if (io.signal.aborted) throw error;
      return failRow(row, `load failed: ${messageOf(error)}`);
    }
    return finishRow(row);
  });
}

/** All of a group's peers started and warmed up, then measured in rounds. */
function measureInRounds<F>(
  all: Array<Started<F>>,
  group: Group,
  fixture: F,
  options: RunOptions,
  io: RunnerIo,
): Promise<RowResult[]> {
  return withScope(async (scope) => {
    for (const started of all) await startPeer(started, scope, group, fixture, options, io);
    for (let i = 1; i <= options.runs; i++) {
      for (const started of all) {
        const { row } = started;
        if (row.status === 'failed') continue;
        if (io.signal.aborted) throw BenchErrors.ABORTED('interrupted');
        try {
          const reason = await measureRun(group, started.target!, row, i, options, io);
          if (reason !== undefined) failRow(row, reason);
        } catch (error) {
          if (io.signal.aborted) throw error;
          failRow(row, `load failed: ${messageOf(error)}`);
        }
      }
      io.log(`  round ${i}/${options.runs} of ${group.title} done`);
    }
    return all.map(({ row }) => (row.status === 'failed' ? row : finishRow(row)));
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
      const all: Array<Started<F>> = group.peers.map((name) => {
        const peer = peers.find((p) => p.name === name)!;
        return { peer, row: newRow(peer.name, peer.label, peerVersions.get(name) ?? 'unknown') };
      });
      const report = (row: RowResult, label: string): void => {
        done++;
        io.log(
          `[${done}/${total}] ${group.title} | ${label}: ${summarizeRow(row, def.plotMetric)}`,
        );
      };
      let rows: RowResult[];
      if (def.interleaved === true) {
        if (io.signal.aborted) throw BenchErrors.ABORTED('interrupted');
        rows = await measureInRounds(all, group, setup.fixture, options, io);
        for (const { row, peer } of all) report(row, peer.label);
      } else {
        rows = [];
        for (const started of all) {
          if (io.signal.aborted) throw BenchErrors.ABORTED('interrupted');
          const row = await measure(started, group, setup.fixture, options, io);
          report(row, started.peer.label);
          rows.push(row);
        }
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
      ...(def.interleaved === true ? { interleaved: true } : {}),
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
