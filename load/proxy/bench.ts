// The Service proxy benchmark (issue 6), on network namespaces made for the
// run (test/support/netns.ts; removed afterwards, also on failure):
//
//   ns c  eth0 10.244.1.5  --veth--  ns n (the node: the tables under test)
//   ns s  eth0 192.168.90.2 --veth-- ns n 192.168.90.1; the endpoints
//         10.244.2.1..E are addresses on s, one TCP server on port 8080
//
// For each Service count N (1k, 10k, 30k; E endpoints each):
//   Pier: the real proxier (memory Store, informer, real nft in ns n)
//     full sync: a new proxier's first sync, which replaces the table in one
//       transaction (an agent restart); `runs` times
//     one change: one Service's endpoint replaced; `changes` times
//   kube-proxy's iptables layout, in nft (fixture.ts): the whole table
//     replaced (its sync), `runs` times
//   then, for each layout alone in the kernel: `connects` new TCP
//   connections from ns c to ClusterIPs spread evenly over the N Services,
//   one after the other, each timed to the end of its handshake.
//
// Sync times are what the proxier reports for its sync (marker check, build,
// plan, nft transaction, conntrack); `nft -f` is also shown alone.

import { loadavg } from 'node:os';
import { execPath } from 'node:process';
import { createMemoryLogger } from '../../agent/logger.ts';
import { createNftables } from '../../agent/nftables/nft.ts';
import { createNftReader } from '../../agent/nftables/read.ts';
import type { Nftables } from '../../agent/nftables.ts';
import { createConntrack } from '../../agent/service-proxy/conntrack.ts';
import { createNftablesProxier } from '../../agent/service-proxy/nftables-proxier.ts';
import type { ServiceProxy, SyncReport } from '../../agent/service-proxy.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import type { Store } from '../../src/store.ts';
import { createNetnsScope, type NetnsScope } from '../../test/support/netns.ts';
import { describeMachine, type Machine } from '../bench/machine.ts';
import { median } from '../bench/stats.ts';
import { commandVersion, REPO_ROOT, repoVersion } from '../bench/versions.ts';
import {
  changedSlice,
  clusterIp,
  endpointIp,
  LINEAR_TABLE,
  linearScript,
  POD_NETWORK,
  SERVER_ADDRESSES,
  SERVICE_PORT,
  serviceObjects,
  TARGET_PORT,
} from './fixture.ts';

export const PIER_TABLE = 'pier_services';
const TOOL = `${REPO_ROOT}/load/proxy/connect-latency.ts`;
const BASELINE_CLIENT = '10.99.0.1';
const BASELINE_SERVER = '10.99.0.2';

export interface ProxyBenchOptions {
  services: number[];
  endpoints: number;
  /** Full syncs per layout and count. */
  runs: number;
  /** One-Service changes per count (Pier). */
  changes: number;
  /** Measured connections per layout and count. */
  connects: number;
  warmup: number;
  /** Distinct Services the connections go to, evenly spread over the N. */
  targets: number;
}

export const DEFAULT_OPTIONS: ProxyBenchOptions = {
  services: [1000, 10_000, 30_000],
  endpoints: 10,
  runs: 3,
  changes: 7,
  connects: 2000,
  warmup: 200,
  targets: 100,
};

export interface LatencyStats {
  p50: number;
  p90: number;
  p99: number;
  mean: number;
  samples: number;
  failed: number;
  /** What the failed connections met, by kind and address. */
  errors?: Record<string, number>;
}

export interface ProxyRow {
  services: number;
  layout: 'pier' | 'linear';
  /** Seconds, one per run. */
  fullSync: number[];
  /** Seconds of the `nft -f` alone, one per full sync. */
  fullNft: number[];
  /** Seconds, one per change (Pier only). */
  changeSync: number[];
  changeNft: number[];
  /** Pier: seconds per step of each full sync and each change (the proxier's own report). */
  fullPhases: SyncReport['phases'][];
  changePhases: SyncReport['phases'][];
  /** Microseconds: connections to the Services. */
  connect?: LatencyStats;
  /** Microseconds: the same number to the server over its own veth, interleaved (the baseline). */
  direct?: LatencyStats;
  error?: string;
}

export interface ProxyTarget {
  label: string;
  value: number | null;
  unit: string;
  op: '<' | '<=' | '>';
  target: number;
  met?: boolean;
  reason?: string;
  note?: string;
}

export interface ProxyResult {
  name: 'proxy';
  date: string;
  elapsedSec: number;
  machine: Machine;
  loadAverageAtEnd: number;
  versions: Record<string, string>;
  options: ProxyBenchOptions;
  rows: ProxyRow[];
  targets: ProxyTarget[];
}

export function latencyStats(samples: readonly number[], failed: number): LatencyStats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length);
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), mean, samples: sorted.length, failed };
}

type Phases = SyncReport['phases'];

export function medianPhases(list: readonly Phases[]): Phases {
  const of = (k: keyof Phases) => median(list.map((p) => p[k]));
  return {
    check: of('check'),
    build: of('build'),
    plan: of('plan'),
    apply: of('apply'),
    conntrack: of('conntrack'),
  };
}

const phasesText = (p: Phases) =>
  `(${Object.entries(p)
    .map(([k, v]) => `${k} ${(v * 1000).toFixed(1)}`)
    .join(', ')} ms)`;

/** Times each apply() of an Nftables port. */
function timedNftables(inner: Nftables, seconds: number[]): Nftables {
  return {
    ...inner,
    async apply(script, options) {
      const started = performance.now();
      await inner.apply(script, options);
      seconds.push((performance.now() - started) / 1000);
    },
  };
}

async function makeTopology(scope: NetnsScope): Promise<void> {
  for (const ns of ['n', 'c', 's']) await scope.create(ns);
  await scope.ip('n', [
    `link add v-c type veth peer name eth0 netns ${scope.path('c')}`,
    'addr add 10.244.1.1/24 dev v-c',
    'link set dev v-c up',
    `link add v-s type veth peer name eth0 netns ${scope.path('s')}`,
    'addr add 192.168.90.1/24 dev v-s',
    'link set dev v-s up',
    'route add 10.244.2.0/24 via 192.168.90.2',
  ]);
  await scope.run('n', ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  await scope.ip('c', [
    'addr add 10.244.1.5/24 dev eth0',
    'link set dev eth0 up',
    'route add default via 10.244.1.1',
    // The baseline's path: straight to the server, past no node and no table.
    `link add eth1 type veth peer name eth1 netns ${scope.path('s')}`,
    `addr add ${BASELINE_CLIENT}/24 dev eth1`,
    'link set dev eth1 up',
  ]);
  const endpoints = Array.from(
    { length: SERVER_ADDRESSES },
    (_, j) => `addr add ${endpointIp(j)}/32 dev lo`,
  );
  await scope.ip('s', [
    'addr add 192.168.90.2/24 dev eth0',
    'link set dev eth0 up',
    'route add default via 192.168.90.1',
    `addr add ${BASELINE_SERVER}/24 dev eth1`,
    'link set dev eth1 up',
    ...endpoints,
  ]);
}

async function startServer(scope: NetnsScope): Promise<void> {
  const child = scope.spawn('s', [execPath, TOOL, 'serve', String(TARGET_PORT)]);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the test server exited (${code})`)));
  });
}

/**
 * Connections to the Services, and as many to the server over a veth of its
 * own (no node, no table: the iptables layout would charge even those its
 * rule walk) in alternating chunks: the baseline takes out the machine's
 * background load, which drifts between the minutes apart that N=1k and
 * N=30k are measured.
 */
async function measureConnects(
  scope: NetnsScope,
  services: number,
  options: ProxyBenchOptions,
): Promise<{ connect: LatencyStats; direct: LatencyStats }> {
  const targets = Array.from({ length: Math.min(options.targets, services) }, (_, k) =>
    clusterIp(Math.floor(((k + 0.5) * services) / Math.min(options.targets, services))),
  );
  const result = await scope.exec(
    'c',
    [
      execPath,
      TOOL,
      'connect',
      String(options.connects),
      String(options.warmup),
      String(SERVICE_PORT),
      targets.join(','),
      String(TARGET_PORT),
      BASELINE_SERVER,
      '10',
    ],
    { timeoutMs: 120_000 + options.connects * 100 },
  );
  if (result.code !== 0) throw new Error(`connect-latency: ${result.stderr.trim() || result.code}`);
  const parsed = JSON.parse(result.stdout) as {
    samplesUs: number[];
    failed: number;
    errors: Record<string, number>;
    baseUs: number[];
    baseFailed: number;
  };
  const connect = latencyStats(parsed.samplesUs, parsed.failed);
  const direct = latencyStats(parsed.baseUs, parsed.baseFailed);
  return parsed.failed + parsed.baseFailed > 0
    ? { connect: { ...connect, errors: parsed.errors }, direct }
    : { connect, direct };
}

async function loadStore(services: number, endpoints: number): Promise<Store> {
  const store = createMemoryStore({ changeLogLength: 1000 });
  const objects = serviceObjects(services, endpoints);
  for (const s of objects.services) await store.apply(s);
  for (const s of objects.slices) await store.apply(s);
  return store;
}

async function benchPier(
  scope: NetnsScope,
  services: number,
  options: ProxyBenchOptions,
  log: (line: string) => void,
): Promise<ProxyRow> {
  const row: ProxyRow = {
    services,
    layout: 'pier',
    fullSync: [],
    fullNft: [],
    changeSync: [],
    changeNft: [],
    fullPhases: [],
    changePhases: [],
  };
  const store = await loadStore(services, options.endpoints);
  let proxy: ServiceProxy | undefined;
  try {
    const nftSeconds: number[] = [];
    let reports: SyncReport[] = [];
    const make = () =>
      createNftablesProxier(
        {
          nodeName: 'bench-node',
          table: PIER_TABLE,
          clusterCidr: POD_NETWORK,
          masqueradeBit: 14,
          minSyncIntervalMs: 0,
          syncPeriodMs: 3_600_000,
          fullSyncPeriodMs: 3_600_000,
          netns: scope.path('n'),
        },
        {
          store,
          nftables: timedNftables(createNftables({ timeoutMs: 300_000 }), nftSeconds),
          reader: createNftReader(),
          conntrack: createConntrack(),
          logger: createMemoryLogger(),
          observeSync: (r) => reports.push(r),
        },
      );
    for (let run = 0; run < options.runs; run++) {
      await proxy?.stop();
      reports = [];
      nftSeconds.length = 0;
      proxy = make();
      await proxy.start();
      const report = reports[0];
      if (report === undefined || !report.ok || !report.full)
        throw new Error(`the first sync did not apply: ${JSON.stringify(report)}`);
      row.fullSync.push(report.seconds);
      row.fullNft.push(nftSeconds[0] ?? Number.NaN);
      row.fullPhases.push(report.phases);
      log(
        `  pier ${services}: full sync ${report.seconds.toFixed(3)} s ${phasesText(report.phases)}`,
      );
    }
    for (let c = 0; c < options.changes; c++) {
      reports = [];
      nftSeconds.length = 0;
      const i = Math.floor(((c + 0.5) * services) / options.changes);
      await store.apply(changedSlice(i, options.endpoints, c));
      const deadline = Date.now() + 60_000;
      while (reports.length === 0) {
        if (Date.now() > deadline) throw new Error('no sync after a change within 60 s');
        await new Promise((r) => setTimeout(r, 2));
      }
      const report = reports[0] as SyncReport;
      if (!report.ok || report.full)
        throw new Error(`a change was not synced incrementally: ${JSON.stringify(report)}`);
      row.changeSync.push(report.seconds);
      row.changeNft.push(nftSeconds[0] ?? Number.NaN);
      row.changePhases.push(report.phases);
    }
    log(
      `  pier ${services}: one change ${(median(row.changeSync) * 1000).toFixed(1)} ms ${phasesText(medianPhases(row.changePhases))}`,
    );
    Object.assign(row, await measureConnects(scope, services, options));
    log(
      `  pier ${services}: connect p50 ${row.connect?.p50.toFixed(0)} µs (direct ${row.direct?.p50.toFixed(0)} µs)`,
    );
  } catch (error) {
    row.error = (error as Error).message;
    log(`  pier ${services}: failed: ${row.error}`);
  } finally {
    await proxy?.stop();
    await store.close();
    await scope.exec('n', ['nft', 'delete', 'table', 'ip', PIER_TABLE]);
  }
  return row;
}

async function benchLinear(
  scope: NetnsScope,
  services: number,
  options: ProxyBenchOptions,
  log: (line: string) => void,
): Promise<ProxyRow> {
  const row: ProxyRow = {
    services,
    layout: 'linear',
    fullSync: [],
    fullNft: [],
    changeSync: [],
    changeNft: [],
    fullPhases: [],
    changePhases: [],
  };
  const nft = createNftables({ timeoutMs: 600_000 });
  try {
    for (let run = 0; run < options.runs; run++) {
      const started = performance.now();
      const script = linearScript(services, options.endpoints);
      const built = performance.now();
      await nft.apply(script, { netns: scope.path('n') });
      const done = performance.now();
      row.fullSync.push((done - started) / 1000);
      row.fullNft.push((done - built) / 1000);
      log(`  linear ${services}: full sync ${((done - started) / 1000).toFixed(3)} s`);
    }
    Object.assign(row, await measureConnects(scope, services, options));
    log(
      `  linear ${services}: connect p50 ${row.connect?.p50.toFixed(0)} µs (direct ${row.direct?.p50.toFixed(0)} µs)`,
    );
  } catch (error) {
    row.error = (error as Error).message;
    log(`  linear ${services}: failed: ${row.error}`);
  } finally {
    await scope.exec('n', ['nft', 'delete', 'table', 'ip', LINEAR_TABLE]);
  }
  return row;
}

function rowOf(rows: ProxyRow[], layout: ProxyRow['layout'], services: number) {
  return rows.find((r) => r.layout === layout && r.services === services && r.error === undefined);
}

/** The issue's targets, held against what was measured; never asserted. */
export function evaluateTargets(rows: ProxyRow[], options: ProxyBenchOptions): ProxyTarget[] {
  const out: ProxyTarget[] = [];
  const check = (t: Omit<ProxyTarget, 'met'>): ProxyTarget =>
    t.value === null
      ? t
      : {
          ...t,
          met:
            t.op === '<'
              ? t.value < t.target
              : t.op === '>'
                ? t.value > t.target
                : t.value <= t.target,
        };
  const tenK = rowOf(rows, 'pier', 10_000);
  out.push(
    check({
      label: 'Pier: 10k Services fully synced',
      value: tenK === undefined ? null : median(tenK.fullSync),
      unit: 's',
      op: '<',
      target: 2,
      ...(tenK === undefined ? { reason: '10k Services not measured' } : {}),
    }),
    check({
      label: 'Pier: one changed Service synced (10k Services)',
      value: tenK === undefined ? null : median(tenK.changeSync) * 1000,
      unit: 'ms',
      op: '<',
      target: 100,
      ...(tenK === undefined ? { reason: '10k Services not measured' } : {}),
    }),
  );
  const smallest = Math.min(...options.services);
  const largest = Math.max(...options.services);
  for (const layout of ['pier', 'linear'] as const) {
    // Each p50 over its interleaved direct baseline: the Service layer's share, free of drift.
    const relative = (r: ProxyRow | undefined) =>
      r?.connect === undefined || r.direct === undefined || r.direct.p50 <= 0
        ? undefined
        : r.connect.p50 / r.direct.p50;
    const low = relative(rowOf(rows, layout, smallest));
    const high = relative(rowOf(rows, layout, largest));
    const value = low === undefined || high === undefined ? null : high / low;
    const lowRaw = rowOf(rows, layout, smallest)?.connect?.p50;
    const highRaw = rowOf(rows, layout, largest)?.connect?.p50;
    // Pier's latency must stay flat; the iptables layout's is expected to grow.
    out.push(
      check({
        label: `${layout === 'pier' ? 'Pier: connect p50 stays flat' : 'iptables layout: connect p50 grows'}, ${largest.toLocaleString('en')} vs ${smallest.toLocaleString('en')} Services (each over its direct baseline)`,
        value,
        ...(lowRaw === undefined || highRaw === undefined
          ? {}
          : { note: `without the baseline: ${(highRaw / lowRaw).toFixed(2)} x` }),
        unit: 'x',
        op: layout === 'pier' ? '<=' : '>',
        target: 1.1,
        ...(value === null ? { reason: 'not measured at both counts' } : {}),
      }),
    );
  }
  return out;
}

export async function runProxyBenchmark(
  options: ProxyBenchOptions,
  log: (line: string) => void,
): Promise<ProxyResult> {
  const started = Date.now();
  const machine = await describeMachine();
  const versions: Record<string, string> = {
    pier: await repoVersion(),
    nft: await commandVersion('nft', ['--version'], /nftables v(\S+)/),
    kernel: machine.kernel,
  };
  const scope = createNetnsScope('bp');
  const rows: ProxyRow[] = [];
  try {
    await makeTopology(scope);
    await startServer(scope);
    for (const services of options.services) {
      log(`${services.toLocaleString('en')} Services x ${options.endpoints} endpoints`);
      rows.push(await benchPier(scope, services, options, log));
      rows.push(await benchLinear(scope, services, options, log));
    }
  } finally {
    await scope.cleanup();
  }
  return {
    name: 'proxy',
    date: new Date(started).toISOString(),
    elapsedSec: Math.round((Date.now() - started) / 1000),
    machine,
    loadAverageAtEnd: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    versions,
    options,
    rows,
    targets: evaluateTargets(rows, options),
  };
}
