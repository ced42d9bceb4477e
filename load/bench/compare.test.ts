import { describe, expect, it } from 'vitest';
import type { Comparison, MetricDef } from './benchmark.ts';
import { evaluateComparison, referenceRatios, resolveSelector } from './compare.ts';
import type { RowResult } from './result.ts';
import { median, medianMetrics } from './stats.ts';

const metrics: MetricDef[] = [
  { key: 'rps', label: 'req/s', unit: '', better: 'higher', digits: 0 },
  { key: 'p99', label: 'p99', unit: 'ms', better: 'lower', digits: 2 },
];

/** A row in the table's own terms: `peer: rps, p99` or `peer: failed` / `peer: errors`. */
function row(spec: string): RowResult {
  const [peer, rest] = spec.split(': ') as [string, string];
  const base: RowResult = {
    peer,
    label: peer,
    version: '1',
    status: 'ok',
    samples: [],
    completed: 100,
    failed: 0,
    ratios: {},
  };
  if (rest === 'failed')
    return { ...base, status: 'failed', reason: 'failed to start: boom: details' };
  const [rps, p99, status] = rest.split(', ');
  return {
    ...base,
    status: status === 'errors' ? 'errors' : 'ok',
    ...(status === 'errors' ? { reason: '5.0% of requests failed' } : {}),
    median: { rps: Number(rps), p99: Number(p99) },
  };
}

describe('median', () => {
  it.each([
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
    [[10, 10, 1000], 10],
  ])('median(%j) = %f', (values, expected) => expect(median(values)).toBe(expected));

  it('has no median of nothing', () => expect(() => median([])).toThrow(RangeError));

  it('takes each metric on its own', () => {
    const samples = [
      { metrics: { rps: 100, p99: 9 }, completed: 1, failed: 0 },
      { metrics: { rps: 300, p99: 1 }, completed: 1, failed: 0 },
      { metrics: { rps: 200, p99: 5 }, completed: 1, failed: 0 },
    ];
    expect(medianMetrics(samples)).toEqual({ rps: 200, p99: 5 });
  });
});

describe('ratios against the reference', () => {
  it('divides every usable row by the reference row', () => {
    const rows = ['nginx: 1000, 2', 'pier: 500, 4', 'slow: 100, 8, errors', 'gone: failed'].map(
      row,
    );
    const ratios = referenceRatios(rows, 'nginx', ['rps', 'p99']);
    expect(ratios.get('nginx')).toEqual({ rps: 1, p99: 1 });
    expect(ratios.get('pier')).toEqual({ rps: 0.5, p99: 2 });
    expect(ratios.get('slow')).toEqual({ rps: null, p99: null });
    expect(ratios.get('gone')).toEqual({ rps: null, p99: null });
  });

  it('has no ratios when the reference failed', () => {
    const ratios = referenceRatios(['nginx: failed', 'pier: 500, 4'].map(row), 'nginx', ['rps']);
    expect(ratios.get('pier')).toEqual({ rps: null });
  });
});

describe('selectors', () => {
  const rows = ['a: 300, 9', 'b: 900, 1, errors', 'c: 500, 3', 'd: failed'].map(row);
  it.each([
    [{ bestOf: ['a', 'b', 'c', 'd'], by: 'rps', label: 'fastest' }, 'c'], // b has errors, d failed
    [{ bestOf: ['a', 'c'], by: 'p99', label: 'shortest tail' }, 'c'], // lower is better
    [{ bestOf: ['a'], by: 'rps', label: 'only a' }, 'a'],
    [{ peer: 'b' }, 'b'],
  ])('%j picks %s', (selector, expected) => {
    expect(resolveSelector(selector, rows, metrics).name).toBe(expected);
  });

  it('names the selector when nothing qualifies', () => {
    const resolved = resolveSelector(
      { bestOf: ['b', 'd'], by: 'rps', label: 'fastest Node.js peer' },
      rows,
      metrics,
    );
    expect(resolved.row).toBeUndefined();
    expect(resolved.name).toBe('fastest Node.js peer');
    expect(resolved.reason).toMatch(/no fastest Node.js peer was measured/);
  });
});

describe('comparisons against targets', () => {
  const vsFastest: Comparison = {
    label: 'pier vs fastest node',
    metric: 'rps',
    subject: 'pier',
    reference: { bestOf: ['n1', 'n2'], by: 'rps', label: 'fastest Node.js peer' },
    target: { op: '>=', value: 1.5 },
  };
  const p99: Comparison = {
    label: 'pier p99 vs nginx',
    metric: 'p99',
    subject: 'pier',
    reference: { peer: 'nginx' },
    target: { op: '<=', value: 3 },
  };

  // rows -> comparison -> [value, met, reference]
  const table: Array<[string[], Comparison, number | null, boolean | undefined, string]> = [
    [['pier: 300, 6', 'n1: 100, 1', 'n2: 200, 1', 'nginx: 600, 2'], vsFastest, 1.5, true, 'n2'],
    [['pier: 250, 6', 'n1: 100, 1', 'n2: 200, 1', 'nginx: 600, 2'], vsFastest, 1.25, false, 'n2'],
    [['pier: 300, 6', 'n1: 100, 1', 'n2: 200, 1', 'nginx: 600, 2'], p99, 3, true, 'nginx'],
    [['pier: 300, 7', 'nginx: 600, 2'], p99, 3.5, false, 'nginx'],
    [['pier: failed', 'n1: 100, 1'], vsFastest, null, undefined, 'n1'],
    [['pier: 300, 6', 'nginx: failed'], p99, null, undefined, 'nginx'],
    [
      ['pier: 300, 6', 'n1: failed', 'n2: 1, 1, errors'],
      vsFastest,
      null,
      undefined,
      'fastest Node.js peer',
    ],
  ];
  it.each(table)('%j: %j -> %s', (rows, comparison, value, met, reference) => {
    const result = evaluateComparison(comparison, rows.map(row), metrics);
    if (value === null) expect(result.value).toBeNull();
    else expect(result.value).toBeCloseTo(value, 9);
    expect(result.met).toBe(met);
    expect(result.reference).toBe(reference);
    expect(result.target).toEqual(comparison.target);
    if (value === null) expect(result.reason).toBeTruthy();
  });

  it('says briefly why a failed subject has no ratio', () => {
    const result = evaluateComparison(vsFastest, ['pier: failed', 'n1: 100, 1'].map(row), metrics);
    expect(result.reason).toBe('pier failed to start');
  });
});
