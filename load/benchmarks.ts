// Every benchmark `npm run bench` runs, in order (the one list, like
// CoreDNS's plugin.cfg). Modules load lazily: listing a benchmark starts
// nothing. To add one: write load/<name>/bench.ts exporting a
// BenchmarkDefinition, add an entry here, and a `bench:<name>` script
// (`node load/run.ts <name>`) to package.json. The Service proxy benchmark
// (load/proxy/run.ts) measures sync times rather than peers under load and
// has its own runner; `npm run bench` runs it after these.

import type { RunOptions } from './bench/benchmark.ts';
import type { BenchmarkResult } from './bench/result.ts';
import { type RunnerIo, runBenchmark } from './bench/runner.ts';

export type RunBenchmark = (options: RunOptions, io: RunnerIo) => Promise<BenchmarkResult>;

export interface BenchmarkEntry {
  name: string;
  summary: string;
  load(): Promise<RunBenchmark>;
}

export const benchmarks: BenchmarkEntry[] = [
  {
    name: 'gateway',
    summary: 'HTTP proxying: Pier vs nginx, haproxy, http-proxy, @fastify/http-proxy (wrk)',
    async load() {
      const { gatewayBenchmark } = await import('./gateway/bench.ts');
      return (options, io) => runBenchmark(gatewayBenchmark, options, io);
    },
  },
  {
    name: 'dns',
    summary: 'Cluster DNS: Pier vs knotd and unbound, cluster and cached names (dnsperf)',
    async load() {
      const { runDnsBenchmark } = await import('./dns/bench.ts');
      return runDnsBenchmark;
    },
  },
  {
    name: 'cni',
    summary:
      'Pod network: pier-cni ADD/DEL vs bridge + host-local; host-gw and vxlan vs a plain veth (iperf3)',
    async load() {
      const { cniBenchmark } = await import('./cni/bench.ts');
      return (options, io) => runBenchmark(cniBenchmark, options, io);
    },
  },
];
