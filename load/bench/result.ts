// The shape of a benchmark's results: what runner.ts produces, what
// <name>.json holds and what the markdown and SVG renderers read.

import type { MetricDef, RunOptions, Sample, Target } from './benchmark.ts';
import type { Machine } from './machine.ts';

export type RowStatus = 'ok' | 'errors' | 'failed';

export interface RowResult {
  peer: string;
  label: string;
  version: string;
  /** ok: measured; errors: measured, but too many failed requests to compare; failed: no number. */
  status: RowStatus;
  /** Why the row is not ok: `failed to start: ...`, `3.2% of requests failed`. */
  reason?: string;
  /** Median of each metric over the measured runs. */
  median?: Record<string, number>;
  samples: Sample[];
  completed: number;
  failed: number;
  /** The exact load command of the measured runs. */
  command?: string;
  /** Ratio of this row's median to the reference peer's, per reference metric; null when not comparable. */
  ratios: Record<string, number | null>;
}

export interface ComparisonResult {
  label: string;
  metric: string;
  subject: string;
  /** The peer the selector resolved to (`http-proxy`), or its label when none did. */
  reference: string;
  value: number | null;
  /** Why value is null. */
  reason?: string;
  target?: Target;
  /** Whether value meets target; undefined without a target or a value. */
  met?: boolean;
}

export interface GroupResult {
  id: string;
  title: string;
  params: Record<string, string | number>;
  rows: RowResult[];
  comparisons: ComparisonResult[];
}

export interface BenchmarkResult {
  name: string;
  title: string;
  description: string[];
  notes: string[];
  /** ISO 8601, when the run started. */
  date: string;
  elapsedSec: number;
  machine: Machine;
  /** 1-minute load average when the run ended; with machine.loadAverage, shows whether other work competed. */
  loadAverageAtEnd?: number;
  /** Load tools and shared fixtures: `{ wrk: '4.1.0', 'backend nginx': '1.22.1' }`. */
  versions: Record<string, string>;
  options: Omit<RunOptions, 'outDir'>;
  /** A group's peers were measured in rounds, one run of each per round (runner.ts). */
  interleaved?: boolean;
  metrics: MetricDef[];
  reference: { peer: string; metrics: string[] };
  plotMetric: string;
  groups: GroupResult[];
}
