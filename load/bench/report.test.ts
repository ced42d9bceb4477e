import { describe, expect, it } from 'vitest';
import { barWidth, escapeXml, renderSvg } from './chart-svg.ts';
import { cell, loadLine, renderMarkdown } from './report-markdown.ts';
import type { BenchmarkResult, RowResult } from './result.ts';

function row(peer: string, rps: number | undefined, extra: Partial<RowResult> = {}): RowResult {
  return {
    peer,
    label: peer,
    version: `${peer} 1.0`,
    status: rps === undefined ? 'failed' : 'ok',
    samples: rps === undefined ? [] : [{ metrics: { rps, p99: 2 }, completed: 10, failed: 0 }],
    completed: rps === undefined ? 0 : 10,
    failed: 0,
    ...(rps === undefined
      ? {}
      : {
          median: { rps, p99: 2 },
          command: `wrk -t1 -c50 -d5s --latency http://127.0.0.1:1/${peer}`,
        }),
    ratios: {},
    ...extra,
  };
}

const result: BenchmarkResult = {
  name: 'demo',
  title: 'Demo benchmark',
  description: ['What it measures.'],
  notes: ['How to read it.'],
  date: '2026-11-29T12:00:00.000Z',
  elapsedSec: 42,
  machine: {
    cpu: 'Test CPU',
    cores: 2,
    memoryGiB: 24,
    os: 'Debian GNU/Linux 12 (bookworm)',
    kernel: '6.1.0',
    arch: 'x64',
    node: 'v24.21.0',
    loadAverage: 0.5,
  },
  versions: { 'wrk (load)': '4.1.0' },
  options: {
    runs: 3,
    durationSec: 5,
    warmupSec: 1,
    connections: 50,
    threads: 1,
    workers: [1, 2],
    readyTimeoutMs: 15000,
    maxMinutes: 15,
  },
  metrics: [
    { key: 'rps', label: 'req/s', unit: '', better: 'higher', digits: 0 },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower', digits: 2 },
  ],
  reference: { peer: 'ref', metrics: ['rps'] },
  plotMetric: 'rps',
  groups: [
    {
      id: 'g1',
      title: 'group <one> & more',
      params: { workers: 1 },
      rows: [
        row('ref', 20000, { ratios: { rps: 1 } }),
        row('half', 10000, { ratios: { rps: 0.5 } }),
        row('broken', undefined, { reason: 'failed to start: Error: no | pipes' }),
      ],
      comparisons: [
        {
          label: 'half vs ref',
          metric: 'rps',
          subject: 'half',
          reference: 'ref',
          value: 0.5,
          target: { op: '>=', value: 0.4 },
          met: true,
        },
        {
          label: 'broken vs ref',
          metric: 'rps',
          subject: 'broken',
          reference: 'ref',
          value: null,
          reason: 'broken failed to start',
          target: { op: '>=', value: 1.5 },
        },
      ],
    },
  ],
};

describe('markdown report', () => {
  const md = renderMarkdown(result);

  it('names the machine, the date, the settings and every version', () => {
    expect(md).toContain('# Demo benchmark');
    expect(md).toContain('2026-11-29T12:00:00.000Z');
    expect(md).toContain('| CPU | Test CPU (2 cores, x64) |');
    expect(md).toContain('| load average (1 min) | 0.5 at start |');
    expect(md).toContain('3 measured run(s) per row');
    expect(md).toContain('| wrk (load) | 4.1.0 |');
    for (const peer of ['ref', 'half', 'broken']) expect(md).toContain(`| ${peer} | ${peer} 1.0 |`);
  });

  it('shows each row with its numbers and ratio, and a failed row with its reason', () => {
    expect(md).toContain('| peer | req/s | p99 | req/s vs ref | failed requests | note |');
    expect(md).toContain('| half | 10,000 | 2.00 ms | 0.50x | 0 |  |');
    expect(md).toContain(
      '| broken **failed** | – | – | – | – | failed to start: Error: no \\| pipes |',
    );
  });

  it('holds comparisons against their targets without judging what was not measured', () => {
    expect(md).toContain('| half vs ref (vs ref) | 0.50x | >= 0.4x | met |');
    expect(md).toContain(
      '| broken vs ref (vs ref) | n/a (broken failed to start) | >= 1.5x | not measured |',
    );
  });

  it('gives the exact load command of every row', () => {
    expect(md).toContain('wrk -t1 -c50 -d5s --latency http://127.0.0.1:1/half');
    expect(md).toContain('(not run: the peer failed to start)');
    expect(md).toContain('![rps per peer](demo.svg)');
  });

  it('keeps table cells on one line', () => {
    expect(cell('a|b\nc')).toBe('a\\|b c');
  });
});

/** Checks that every tag opened is closed, in order (enough to catch a broken template). */
function balanced(svg: string): boolean {
  const stack: string[] = [];
  for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
    const [, closing, name, selfClosing] = m;
    if (selfClosing === '/') continue;
    if (closing === '/') {
      if (stack.pop() !== name) return false;
    } else stack.push(name!);
  }
  return stack.length === 0;
}

describe('load average line', () => {
  it.each([
    [0.5, undefined, 2, '0.5 at start'],
    [0.5, 1.5, 2, '0.5 at start, 1.5 at end'],
    [
      4,
      10.7,
      2,
      '4 at start, 10.7 at end: above the 2 cores, so other work competed with the benchmark; expect noisy numbers',
    ],
    [
      3,
      undefined,
      2,
      '3 at start: above the 2 cores, so other work competed with the benchmark; expect noisy numbers',
    ],
  ])('start %f, end %s, %d cores', (start, end, cores, expected) =>
    expect(loadLine(start, end, cores)).toBe(expected),
  );
});

describe('svg chart', () => {
  const svg = renderSvg(result);

  it('is one well-formed svg element with text escaped', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('group &lt;one&gt; &amp; more');
    expect(svg).not.toContain('group <one>');
  });

  it('draws bars in proportion to the values, and names a failed peer instead of drawing one', () => {
    const widths = [...svg.matchAll(/<rect x="\d+" y="\d+" width="(\d+)"/g)].map((m) =>
      Number(m[1]),
    );
    expect(widths).toHaveLength(2);
    expect(widths[1]).toBe(widths[0]! / 2);
    expect(svg).toContain(
      'class="failed">failed to start<title>failed to start: Error: no | pipes</title></text>',
    );
  });

  it.each([
    [10, 10, 200, 200],
    [5, 10, 200, 100],
    [0, 10, 200, 0],
    [0.001, 10, 200, 1], // still visible
    [5, 0, 200, 0],
  ])('barWidth(%f, max %f, %d px) = %d', (value, max, px, expected) =>
    expect(barWidth(value, max, px)).toBe(expected),
  );

  it('escapes all five XML specials', () => {
    expect(escapeXml(`<a href="x">'&'</a>`)).toBe(
      '&lt;a href=&quot;x&quot;&gt;&apos;&amp;&apos;&lt;/a&gt;',
    );
  });
});
