// The proxy benchmark's own tests: a short real run on namespaces (both
// layouts program the kernel and carry traffic), the report, and how targets
// are judged.

import { describe, expect, it } from 'vitest';
import { netnsRequirementsMissing } from '../../test/support/netns.ts';
import { evaluateTargets, type ProxyRow, runProxyBenchmark } from './bench.ts';
import { clusterIp, linearScript } from './fixture.ts';
import { renderProxyMarkdown } from './report.ts';

const missing = netnsRequirementsMissing({ tools: ['conntrack', 'sysctl'] });

describe('the proxy benchmark', () => {
  it('writes kube-proxy’s iptables layout with two rules per Service in one chain', () => {
    const script = linearScript(3, 2);
    const services = script.slice(script.indexOf('chain services {'));
    expect(services.match(/ip daddr 10\.96\.0\.\d+ tcp dport 80/g)).toHaveLength(6);
    expect(script).toContain(`ip daddr ${clusterIp(2)} tcp dport 80 goto svc-2`);
    expect(script).toContain('numgen random mod 2 0 meta l4proto tcp dnat ip to 10.244.2.1:8080');
  });

  it('judges the targets from the rows, and says what was not measured', () => {
    const row = (
      services: number,
      layout: 'pier' | 'linear',
      full: number,
      change: number,
      p50: number,
    ): ProxyRow => ({
      services,
      layout,
      fullSync: [full],
      fullNft: [full],
      changeSync: [change],
      changeNft: [change],
      fullPhases: [],
      changePhases: [],
      connect: { p50, p90: p50, p99: p50, mean: p50, samples: 1, failed: 0 },
      direct: { p50: 50, p90: 50, p99: 50, mean: 50, samples: 1, failed: 0 },
    });
    const options = {
      services: [1000, 10_000, 30_000],
      endpoints: 10,
      runs: 1,
      changes: 1,
      connects: 1,
      warmup: 0,
      targets: 1,
    };
    const targets = evaluateTargets(
      [
        row(1000, 'pier', 0.2, 0.01, 100),
        row(10_000, 'pier', 1.5, 0.05, 104),
        row(30_000, 'pier', 4, 0.06, 108),
        row(1000, 'linear', 0.3, 0, 100),
        row(30_000, 'linear', 9, 0, 250),
      ],
      options,
    );
    expect(targets.map((t) => [t.value, t.met])).toEqual([
      [1.5, true],
      [50, true],
      [1.08, true],
      [2.5, true],
    ]);
    const none = evaluateTargets([], options);
    expect(none.map((t) => t.met)).toEqual([undefined, undefined, undefined, undefined]);
    expect(none[0]?.reason).toBe('10k Services not measured');
  });

  it.skipIf(missing !== undefined && process.env.CI !== 'true')(
    `runs for real on a few Services${missing === undefined ? '' : ` (needs ${missing})`}`,
    async () => {
      if (missing !== undefined) throw new Error(`the proxy benchmark needs ${missing}`);
      const lines: string[] = [];
      const result = await runProxyBenchmark(
        {
          services: [20, 60],
          endpoints: 3,
          runs: 2,
          changes: 2,
          connects: 40,
          warmup: 5,
          targets: 10,
        },
        (line) => lines.push(line),
      );
      expect(result.rows.map((r) => [r.services, r.layout, r.error])).toEqual([
        [20, 'pier', undefined],
        [20, 'linear', undefined],
        [60, 'pier', undefined],
        [60, 'linear', undefined],
      ]);
      for (const r of result.rows) {
        expect(r.fullSync).toHaveLength(2);
        expect(r.connect, `${r.layout} ${r.services}`).toMatchObject({ samples: 40, failed: 0 });
        expect(r.direct, `${r.layout} ${r.services}`).toMatchObject({ samples: 40, failed: 0 });
        if (r.layout === 'pier') expect(r.changeSync).toHaveLength(2);
      }
      const md = renderProxyMarkdown(result);
      expect(md).toContain('## Sync time');
      expect(md).toContain('| 60 | Pier (verdict map + slot maps) |');
    },
    120_000,
  );
});
