// load/results/<name>.md: a result as a page a reviewer can read without the
// JSON: the machine, the versions, the exact load commands, a table per
// group and the comparisons held against their targets.

import type { MetricDef } from './benchmark.ts';
import { formatMetric, formatNumber, formatRatio } from './format.ts';
import type { BenchmarkResult, ComparisonResult, GroupResult, RowResult } from './result.ts';

/** Table cell text: one line, pipes escaped. */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replace(/\|/g, '\\|');
}

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

function metricDef(result: BenchmarkResult, key: string): MetricDef | undefined {
  return result.metrics.find((m) => m.key === key);
}

function rowCells(result: BenchmarkResult, row: RowResult): string[] {
  const metrics = result.metrics.map((m) =>
    row.status === 'failed' ? '–' : formatMetric(row.median?.[m.key], m),
  );
  const ratios = result.reference.metrics.map((key) =>
    row.status === 'failed' ? '–' : formatRatio(row.ratios[key]),
  );
  const errors =
    row.status === 'failed'
      ? '–'
      : row.failed === 0
        ? '0'
        : `${row.failed} of ${formatNumber(row.completed, 0)}`;
  const name = row.status === 'failed' ? `${row.label} **failed**` : row.label;
  return [name, ...metrics, ...ratios, errors, row.reason ?? ''];
}

export function comparisonValue(c: ComparisonResult): string {
  return c.value === null ? `n/a (${c.reason ?? 'not measured'})` : formatRatio(c.value);
}

export function comparisonVerdict(c: ComparisonResult): string {
  if (c.target === undefined) return '';
  if (c.met === undefined) return 'not measured';
  return c.met ? 'met' : 'not met';
}

function groupSection(result: BenchmarkResult, group: GroupResult): string[] {
  const refLabel = result.reference.peer;
  const header = [
    'peer',
    ...result.metrics.map((m) => m.label),
    ...result.reference.metrics.map((k) => `${metricDef(result, k)?.label ?? k} vs ${refLabel}`),
    'failed requests',
    'note',
  ];
  const lines = [
    `### ${group.title}`,
    '',
    ...table(
      header,
      group.rows.map((r) => rowCells(result, r)),
    ),
  ];
  if (group.comparisons.length > 0) {
    lines.push(
      '',
      ...table(
        ['comparison', 'ratio', 'target', 'verdict'],
        group.comparisons.map((c) => [
          `${c.label} (vs ${c.reference})`,
          comparisonValue(c),
          c.target === undefined ? '' : `${c.target.op} ${c.target.value}x`,
          comparisonVerdict(c),
        ]),
      ),
    );
  }
  return lines;
}

/** The load averages, and a warning when other work competed with the run for the cores. */
export function loadLine(start: number, end: number | undefined, cores: number): string {
  const shown = end === undefined ? `${start} at start` : `${start} at start, ${end} at end`;
  const busy = Math.max(start, end ?? 0) > cores;
  return busy
    ? `${shown}: above the ${cores} cores, so other work competed with the benchmark; expect noisy numbers`
    : shown;
}

export function renderMarkdown(result: BenchmarkResult): string {
  const m = result.machine;
  const o = result.options;
  const versionRows: string[][] = Object.entries(result.versions).map(([k, v]) => [k, v]);
  const seen = new Set<string>();
  for (const group of result.groups) {
    for (const row of group.rows) {
      if (seen.has(row.peer)) continue;
      seen.add(row.peer);
      versionRows.push([row.label, row.version]);
    }
  }
  const summary: string[][] = [];
  for (const group of result.groups) {
    for (const c of group.comparisons) {
      summary.push([
        group.title,
        c.label,
        comparisonValue(c),
        c.target === undefined ? '' : `${c.target.op} ${c.target.value}x`,
        comparisonVerdict(c),
      ]);
    }
  }
  const filters = [
    o.peers === undefined ? '' : `peers: ${o.peers.join(', ')}`,
    o.cases === undefined ? '' : `cases: ${o.cases.join(', ')}`,
  ].filter((s) => s !== '');

  const lines: string[] = [
    `# ${result.title}`,
    '',
    `Measured ${result.date} in ${result.elapsedSec} s by \`load/run.ts ${result.name}\` (load/bench/). ` +
      'Generated file: run the benchmark again rather than editing it.',
    '',
    ...result.description.flatMap((p) => [p, '']),
    '## Machine',
    '',
    ...table(
      ['', ''],
      [
        ['CPU', `${m.cpu} (${m.cores} cores, ${m.arch})`],
        ['memory', `${formatNumber(m.memoryGiB, 1)} GiB`],
        ['OS', `${m.os}, kernel ${m.kernel}`],
        ['Node.js (harness)', m.node],
        ['load average (1 min)', loadLine(m.loadAverage, result.loadAverageAtEnd, m.cores)],
      ],
    ),
    '',
    '## Settings',
    '',
    `- ${o.runs} measured run(s) per row, the median of each metric shown; ${o.durationSec} s per run, ` +
      `after a ${o.warmupSec} s warm-up run that is not counted.`,
    ...(result.interleaved === true
      ? [
          "- A group's peers are started together and measured in rounds, one run of each per round " +
            "(never two under load at once), so a drift in the machine's background load falls on all of them alike.",
        ]
      : []),
    `- load: ${o.threads} thread(s), ${o.connections} connections; proxy workers: ${o.workers.join(', ')}.`,
    ...(filters.length > 0 ? [`- only ${filters.join('; ')} (a partial run).`] : []),
    '',
    '## Versions',
    '',
    ...table(['peer or tool', 'version'], versionRows),
    '',
  ];
  if (summary.length > 0) {
    lines.push(
      '## Targets',
      '',
      ...table(['group', 'comparison', 'ratio', 'target', 'verdict'], summary),
      '',
    );
  }
  lines.push('## Results', '');
  for (const group of result.groups) lines.push(...groupSection(result, group), '');
  lines.push(`![${result.plotMetric} per peer](${result.name}.svg)`, '');
  lines.push('## Load commands', '', 'The exact command of the measured runs, per row:', '');
  for (const group of result.groups) {
    lines.push(`**${group.title}**`, '', '```');
    for (const row of group.rows)
      lines.push(`# ${row.label}`, row.command ?? '(not run: the peer failed to start)');
    lines.push('```', '');
  }
  if (result.notes.length > 0) {
    lines.push('## Reading the numbers', '', ...result.notes.map((n) => `- ${n}`), '');
  }
  return lines.join('\n');
}
