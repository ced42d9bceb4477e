// load/results/proxy.md: the proxy benchmark's result as a page: machine,
// versions, what was measured, a table per measure, and the targets.

import { cell } from '../bench/report-markdown.ts';
import { median } from '../bench/stats.ts';
import { medianPhases, type ProxyResult, type ProxyRow } from './bench.ts';

const LAYOUT = {
  pier: 'Pier (verdict map + slot maps)',
  linear: 'iptables-mode layout (one rule per Service, in nft)',
} as const;

function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.map(cell).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ];
}

const fmt = (value: number, digits: number) =>
  Number.isFinite(value)
    ? value.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
const spread = (values: readonly number[], scale: number, digits: number) =>
  values.length === 0
    ? '–'
    : `${fmt(median(values) * scale, digits)} (${fmt(Math.min(...values) * scale, digits)}–${fmt(Math.max(...values) * scale, digits)})`;
const count = (n: number) => n.toLocaleString('en');

export function renderProxyMarkdown(result: ProxyResult): string {
  const o = result.options;
  const m = result.machine;
  const lines: string[] = [
    '# Service proxy benchmark',
    '',
    `Run ${result.date} in ${result.elapsedSec} s with \`npm run bench:proxy\`. Generated: run it again rather than editing.`,
    '',
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}, kernel ${m.kernel}, Node.js ${m.node}. ` +
      `Load average ${m.loadAverage} at the start, ${result.loadAverageAtEnd} at the end` +
      (Math.max(m.loadAverage, result.loadAverageAtEnd) > m.cores
        ? ` (**above the core count: other work competed, the numbers are noisy**).`
        : '.'),
    '',
    `Versions: ${Object.entries(result.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '## What is measured',
    '',
    `N Services (${o.services.map(count).join(', ')}) of one TCP port, ${o.endpoints} endpoints each, programmed into the nftables of a node namespace two ways:`,
    '',
    `- **Pier**: the real proxier (agent/service-proxy), fed by a memory Store through its informer. A *full sync* is a new proxier's first sync, which replaces the table in one transaction (what an agent restart does); ${o.runs} runs. A *one-Service change* replaces one endpoint of one Service and lets the proxier sync it (marker check, build, plan, one \`nft -f\`, conntrack); ${o.changes} changes spread over the Services.`,
    "- **iptables-mode layout**: the same Services as kube-proxy's iptables mode lays them out (KUBE-SERVICES: two rules per Service, one chain per Service with `numgen` rules), written in nft so both run on the same kernel; its sync is the whole table replaced, as `iptables-restore` does.",
    '',
    `Connect latency: ${count(o.connects)} new TCP connections (after ${count(o.warmup)} unmeasured), one after another, from a pod namespace through the node namespace to ClusterIPs of ${o.targets} Services spread evenly over the N, each timed from \`connect()\` to the end of the handshake: the first packet is the one the DNAT rules decide on. Each layout is measured alone in the kernel. Interleaved with them, in 10 alternating chunks, as many connections to the server over a veth of their own, past no node and no table (*direct*): the baseline that takes the machine's drifting background load out of the comparison across N. Times in microseconds.`,
    '',
    '## Sync time',
    '',
    'Median (min–max). `nft -f` is the kernel transaction alone, inside the sync.',
    '',
  ];
  const rowsOf = (layout: ProxyRow['layout']) => result.rows.filter((r) => r.layout === layout);
  lines.push(
    ...table(
      [
        'Services',
        'layout',
        'full sync (s)',
        'of which nft -f (s)',
        'one change (ms)',
        'of which nft -f (ms)',
        'note',
      ],
      [...rowsOf('pier'), ...rowsOf('linear')]
        .sort((a, b) => a.services - b.services)
        .map((r) => [
          count(r.services),
          LAYOUT[r.layout],
          spread(r.fullSync, 1, 3),
          spread(r.fullNft, 1, 3),
          r.layout === 'pier' ? spread(r.changeSync, 1000, 1) : 'n/a (whole table)',
          r.layout === 'pier' ? spread(r.changeNft, 1000, 1) : '',
          r.error ?? '',
        ]),
    ),
    '',
    "Where Pier's sync time goes (medians, ms): reading the marker back (once per sync period, so usually 0 for a change), building the ruleset from the informer, planning the script, the `nft -f` transaction, `conntrack -D`.",
    '',
    ...table(
      ['Services', 'sync', 'check', 'build', 'plan', 'nft -f', 'conntrack'],
      result.rows
        .filter((r) => r.layout === 'pier' && r.error === undefined)
        .flatMap((r) =>
          (
            [
              ['full', r.fullPhases],
              ['one change', r.changePhases],
            ] as const
          )
            .filter(([, list]) => list.length > 0)
            .map(([kind, list]) => {
              const p = medianPhases(list);
              return [
                count(r.services),
                kind,
                fmt(p.check * 1000, 1),
                fmt(p.build * 1000, 1),
                fmt(p.plan * 1000, 1),
                fmt(p.apply * 1000, 1),
                fmt(p.conntrack * 1000, 1),
              ];
            }),
        ),
    ),
    '',
    '## Connect latency',
    '',
  );
  lines.push(
    ...table(
      [
        'Services',
        'layout',
        'p50 (µs)',
        'p90 (µs)',
        'p99 (µs)',
        'mean (µs)',
        'direct p50 (µs)',
        'p50 / direct',
        'connections',
        'failed',
      ],
      result.rows
        .filter((r) => r.connect !== undefined)
        .sort((a, b) => a.services - b.services || a.layout.localeCompare(b.layout))
        .map((r) => {
          const c = r.connect!;
          const d = r.direct;
          return [
            count(r.services),
            LAYOUT[r.layout],
            fmt(c.p50, 0),
            fmt(c.p90, 0),
            fmt(c.p99, 0),
            fmt(c.mean, 0),
            d === undefined ? '–' : fmt(d.p50, 0),
            d === undefined || d.p50 <= 0 ? '–' : `${fmt(c.p50 / d.p50, 2)} x`,
            count(c.samples),
            String(c.failed + (d?.failed ?? 0)),
          ];
        }),
    ),
    '',
    '## Targets',
    '',
    'Findings, not test results: a target not met is reported, not hidden.',
    '',
    ...table(
      ['target', 'measured', 'goal', 'verdict', 'note'],
      result.targets.map((t) => [
        t.label,
        t.value === null
          ? `n/a (${t.reason ?? 'not measured'})`
          : `${fmt(t.value, t.unit === 'x' ? 2 : t.unit === 's' ? 3 : 1)} ${t.unit}`,
        `${t.op} ${t.target} ${t.unit}`,
        t.met === undefined ? 'not measured' : t.met ? 'met' : 'not met',
        t.note ?? '',
      ]),
    ),
    '',
    '## Reading it',
    '',
    "- Pier's per-packet work does not depend on N: one verdict-map lookup picks the Service's chain, one slot-map lookup its endpoint. The iptables layout walks its Service rules in order, so its connect latency grows with N (on average half the rules are passed).",
    '- Only the first packet of a connection meets these rules; later packets follow conntrack. The difference is per new connection.',
    "- The namespaces share the machine's cores with the measuring process: compare the two layouts within a run, and runs only on the same machine.",
    '',
  );
  return lines.join('\n');
}
