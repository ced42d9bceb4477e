// What a benchmark is, for the harness (load/bench/runner.ts): peers to start,
// groups of conditions to measure them under, a load command per group, and
// the ratios to report. A benchmark module (load/<name>/bench.ts) exports one
// BenchmarkDefinition and is listed in load/benchmarks.ts.
//
// Benchmarks are not tests: nothing here asserts a time. They report medians
// and ratios against named references, side by side on the same machine.

import type { ManagedProcess } from './process.ts';
import type { Scope } from './scope.ts';

export interface MetricDef {
  key: string;
  /** Column header: `req/s`, `p99`. */
  label: string;
  /** Unit shown after values: `ms`, `MiB/s`, '' for plain counts. */
  unit: string;
  better: 'higher' | 'lower';
  digits: number;
}

/** One run of the load tool, reduced to numbers. */
export interface Sample {
  metrics: Record<string, number>;
  /** Requests (queries, transfers) that completed. */
  completed: number;
  /** Socket errors plus unexpected answers (non-2xx). */
  failed: number;
}

/** One invocation of a load tool: the exact argv (shown in the report) and how to read its output. */
export interface LoadRun {
  argv: string[];
  /** Hard bound: past it the tool is killed and the run fails. */
  timeoutMs: number;
  parse(stdout: string, stderr: string): Sample;
}

/** Where a started peer takes load. */
export interface PeerTarget {
  host: string;
  port: number;
  /** Checked after each run: a peer that died mid-measurement fails its row. */
  processes: ManagedProcess[];
}

export interface Group {
  /** Stable id, used in JSON and file names: `small-w1`. */
  id: string;
  title: string;
  /** The conditions, as data: `{ case: 'small', workers: 1 }`. */
  params: Record<string, string | number>;
  /** Peer names measured in this group, in report order. */
  peers: string[];
  load(target: PeerTarget, durationSec: number): LoadRun;
}

export interface RunOptions {
  runs: number;
  durationSec: number;
  warmupSec: number;
  connections: number;
  threads: number;
  workers: number[];
  /** Only these peers (names); undefined: all. */
  peers?: string[];
  /** Only these cases (benchmark-defined names); undefined: all. */
  cases?: string[];
  readyTimeoutMs: number;
  outDir: string;
  /** A run whose plan takes longer than this refuses to start. */
  maxMinutes: number;
}

export interface PeerContext<F> {
  scope: Scope;
  group: Group;
  fixture: F;
  options: RunOptions;
  signal: AbortSignal;
}

export interface Peer<F> {
  /** Stable id: `nginx`, `http-proxy`. */
  name: string;
  /** Table label: `nginx (reverse proxy, keepalive upstream)`. */
  label: string;
  /** Peers of one family compete for "fastest of" references: `node`. */
  family?: string;
  /** Version string for the report; never throws (`unknown: <why>`). */
  version(): Promise<string>;
  /** Starts the peer for one group, registering everything it starts on ctx.scope. */
  start(ctx: PeerContext<F>): Promise<PeerTarget>;
}

/** A peer named directly, or the best of several by a metric ("fastest Node.js peer"). */
export type PeerSelector = { peer: string } | { bestOf: string[]; by: string; label: string };

export interface Target {
  op: '>=' | '<=';
  value: number;
}

export interface Comparison {
  /** `Pier vs fastest Node.js peer (req/s)`. */
  label: string;
  metric: string;
  subject: string;
  reference: PeerSelector;
  /** The goal the ratio is held against; shown beside it, never asserted. */
  target?: Target;
}

export interface Tool {
  /** The executable, looked up on PATH. */
  name: string;
  /** How the report names it: `wrk (load)`. */
  label: string;
  /** What to do when it is missing. */
  hint: string;
  version(): Promise<string>;
}

export interface SetupContext {
  scope: Scope;
  options: RunOptions;
  signal: AbortSignal;
}

export interface Setup<F> {
  fixture: F;
  groups: Group[];
  /** Versions of shared fixtures not already named as tools, for the report. */
  versions?: Record<string, string>;
}

export interface BenchmarkDefinition<F = unknown> {
  name: string;
  title: string;
  /** Markdown paragraphs: what is measured and how. */
  description: string[];
  metrics: MetricDef[];
  /** Every row shows its ratio to this peer, in these metrics. */
  reference: { peer: string; metrics: string[] };
  /** The metric bars in the plot show. */
  plotMetric: string;
  peers: Array<Peer<F>>;
  /** Tools the whole benchmark needs (the load tool): missing one stops the run before it starts. */
  tools: Tool[];
  setup(ctx: SetupContext): Promise<Setup<F>>;
  comparisons: Comparison[];
  /** Markdown bullets on reading the results. */
  notes: string[];
  /**
   * A group's peers are all started, then measured in rounds (one run of
   * each per round) instead of one peer after another: for peers that can
   * sit side by side, idle, while another is under load (runner.ts).
   */
  interleaved?: boolean;
}
