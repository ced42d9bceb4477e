// Ratios against named references, and comparisons held against targets.
// Only rows with status `ok` take part: a peer that failed, or answered with
// errors, has no number a ratio could honestly use.

import type { Comparison, MetricDef, PeerSelector } from './benchmark.ts';
import type { ComparisonResult, RowResult } from './result.ts';

/** subject / reference, or null when either is missing or the reference is 0. */
export function ratio(subject: number | undefined, reference: number | undefined): number | null {
  if (subject === undefined || reference === undefined || reference === 0) return null;
  return subject / reference;
}

function usable(
  row: RowResult | undefined,
  metric: string,
): row is RowResult & { median: Record<string, number> } {
  return row !== undefined && row.status === 'ok' && row.median?.[metric] !== undefined;
}

/** Each row's ratios to the reference row, in the given metrics. */
export function referenceRatios(
  rows: readonly RowResult[],
  referencePeer: string,
  metrics: readonly string[],
): Map<string, Record<string, number | null>> {
  const reference = rows.find((r) => r.peer === referencePeer);
  const out = new Map<string, Record<string, number | null>>();
  for (const row of rows) {
    const ratios: Record<string, number | null> = {};
    for (const metric of metrics) {
      ratios[metric] =
        usable(row, metric) && usable(reference, metric)
          ? ratio(row.median[metric], reference.median[metric])
          : null;
    }
    out.set(row.peer, ratios);
  }
  return out;
}

export interface Resolved {
  row?: RowResult;
  /** The chosen peer's name, or the selector's label when none could be chosen. */
  name: string;
  reason?: string;
}

/** Resolves a selector among measured rows: a named peer, or the best of several by a metric. */
export function resolveSelector(
  selector: PeerSelector,
  rows: readonly RowResult[],
  metrics: readonly MetricDef[],
): Resolved {
  if ('peer' in selector) {
    const row = rows.find((r) => r.peer === selector.peer);
    if (row === undefined)
      return { name: selector.peer, reason: `${selector.peer} was not measured` };
    return { row, name: row.peer };
  }
  const def = metrics.find((m) => m.key === selector.by);
  const candidates = rows.filter((r) => selector.bestOf.includes(r.peer) && usable(r, selector.by));
  if (def === undefined) return { name: selector.label, reason: `unknown metric ${selector.by}` };
  if (candidates.length === 0)
    return { name: selector.label, reason: `no ${selector.label} was measured without errors` };
  const sign = def.better === 'higher' ? 1 : -1;
  let best = candidates[0]!;
  for (const row of candidates) {
    if (sign * (row.median![selector.by]! - best.median![selector.by]!) > 0) best = row;
  }
  return { row: best, name: best.peer };
}

/** Why a row has no usable number, short: `pier failed to start` (the row itself has the detail). */
function describeRow(row: RowResult | undefined, name: string): string {
  if (row === undefined) return `${name} was not measured`;
  if (row.status === 'errors') return `${name} had too many failed requests`;
  const reason = row.reason ?? row.status;
  const colon = reason.indexOf(':');
  return `${name} ${colon === -1 ? reason : reason.slice(0, colon)}`;
}

export function evaluateComparison(
  comparison: Comparison,
  rows: readonly RowResult[],
  metrics: readonly MetricDef[],
): ComparisonResult {
  const base = { label: comparison.label, metric: comparison.metric, subject: comparison.subject };
  const withTarget = comparison.target === undefined ? {} : { target: comparison.target };
  const reference = resolveSelector(comparison.reference, rows, metrics);
  const subject = rows.find((r) => r.peer === comparison.subject);
  if (!usable(subject, comparison.metric)) {
    return {
      ...base,
      ...withTarget,
      reference: reference.name,
      value: null,
      reason: describeRow(subject, comparison.subject),
    };
  }
  if (reference.row === undefined || !usable(reference.row, comparison.metric)) {
    return {
      ...base,
      ...withTarget,
      reference: reference.name,
      value: null,
      reason: reference.reason ?? describeRow(reference.row, reference.name),
    };
  }
  const value = ratio(subject.median[comparison.metric], reference.row.median[comparison.metric]);
  if (value === null) {
    return {
      ...base,
      ...withTarget,
      reference: reference.name,
      value,
      reason: `${reference.name} measured 0`,
    };
  }
  const result: ComparisonResult = { ...base, ...withTarget, reference: reference.name, value };
  if (comparison.target !== undefined)
    result.met = meets(value, comparison.target.op, comparison.target.value);
  return result;
}

export function meets(value: number, op: '>=' | '<=', target: number): boolean {
  return op === '>=' ? value >= target : value <= target;
}
