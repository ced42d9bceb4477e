// load/results/<name>.svg: one small horizontal bar chart per group, each on
// its own scale (a 1 MiB download and a tiny GET differ by 100x), peers in
// the same colour in every panel. Hand-written SVG: no plotting package.

import type { MetricDef } from './benchmark.ts';
import { formatMetric } from './format.ts';
import type { BenchmarkResult, GroupResult } from './result.ts';

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#9c755f',
  '#bab0ac',
];

const COLUMNS = 2;
const PANEL_WIDTH = 520;
const LABEL_WIDTH = 190;
const VALUE_WIDTH = 110;
const BAR_HEIGHT = 18;
const BAR_GAP = 6;
const PANEL_TOP = 28; // title line
const PANEL_PAD = 16;
const HEADER = 44;

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

function panelHeight(group: GroupResult): number {
  return PANEL_TOP + group.rows.length * (BAR_HEIGHT + BAR_GAP) + PANEL_PAD;
}

/** Bar length for value on a scale whose largest value fills maxWidth. */
export function barWidth(value: number, max: number, maxWidth: number): number {
  if (!(max > 0) || !(value > 0)) return 0;
  return Math.max(1, Math.round((value / max) * maxWidth));
}

function panel(
  group: GroupResult,
  metric: MetricDef,
  colors: Map<string, string>,
  x: number,
  y: number,
): string[] {
  const barMax = PANEL_WIDTH - LABEL_WIDTH - VALUE_WIDTH;
  const values = group.rows.map((r) =>
    r.status === 'failed' ? undefined : r.median?.[metric.key],
  );
  const max = Math.max(0, ...values.filter((v): v is number => v !== undefined));
  const out = [
    `<g transform="translate(${x},${y})">`,
    `<text x="0" y="16" class="title">${escapeXml(group.title)}</text>`,
  ];
  group.rows.forEach((row, i) => {
    const top = PANEL_TOP + i * (BAR_HEIGHT + BAR_GAP);
    const mid = top + BAR_HEIGHT / 2 + 4;
    out.push(
      `<text x="${LABEL_WIDTH - 8}" y="${mid}" class="label">${escapeXml(row.label)}</text>`,
    );
    const value = values[i];
    if (value === undefined) {
      // The panel has room for a few words; the full reason is the tooltip (and in the .md).
      const reason = row.reason ?? 'failed';
      const short = reason.includes(':') ? reason.slice(0, reason.indexOf(':')) : reason;
      out.push(
        `<text x="${LABEL_WIDTH}" y="${mid}" class="failed">${escapeXml(short)}<title>${escapeXml(reason)}</title></text>`,
      );
      return;
    }
    const width = barWidth(value, max, barMax);
    const color = colors.get(row.peer) ?? PALETTE[0]!;
    const faded = row.status === 'errors' ? ' fill-opacity="0.35"' : '';
    out.push(
      `<rect x="${LABEL_WIDTH}" y="${top}" width="${width}" height="${BAR_HEIGHT}" fill="${color}"${faded}><title>${escapeXml(
        `${row.label}: ${formatMetric(value, metric)}`,
      )}</title></rect>`,
      `<text x="${LABEL_WIDTH + width + 6}" y="${mid}" class="value">${escapeXml(
        formatMetric(value, metric) + (row.status === 'errors' ? ' (errors)' : ''),
      )}</text>`,
    );
  });
  out.push('</g>');
  return out;
}

export function renderSvg(result: BenchmarkResult): string {
  const metric = result.metrics.find((m) => m.key === result.plotMetric) ?? {
    key: result.plotMetric,
    label: result.plotMetric,
    unit: '',
    better: 'higher',
    digits: 0,
  };
  const colors = new Map<string, string>();
  for (const group of result.groups) {
    for (const row of group.rows) {
      if (!colors.has(row.peer)) colors.set(row.peer, PALETTE[colors.size % PALETTE.length]!);
    }
  }
  const body: string[] = [];
  let y = HEADER;
  for (let i = 0; i < result.groups.length; i += COLUMNS) {
    const line = result.groups.slice(i, i + COLUMNS);
    line.forEach((group, j) => {
      body.push(...panel(group, metric, colors, PANEL_PAD + j * PANEL_WIDTH, y));
    });
    y += Math.max(...line.map(panelHeight));
  }
  const width = PANEL_PAD * 2 + COLUMNS * PANEL_WIDTH;
  const height = y + PANEL_PAD;
  const better = metric.better === 'higher' ? 'longer is better' : 'shorter is better';
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    '<style>.title{font-weight:bold;font-size:13px}.label{text-anchor:end}.value{fill:#333}.failed{fill:#b00;font-style:italic}.head{font-size:15px;font-weight:bold}.sub{fill:#555}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${PANEL_PAD}" y="20" class="head">${escapeXml(`${result.title}: ${metric.label} (median, ${better})`)}</text>`,
    `<text x="${PANEL_PAD}" y="36" class="sub">${escapeXml(
      `${result.date} · ${result.machine.cpu} · ${result.machine.cores} cores · each panel on its own scale`,
    )}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}
