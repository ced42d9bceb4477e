// The DNS benchmark's parts, for real: dnsperf's report is read as dnsperf
// writes it; knotd and unbound load the generated zone and configs and
// answer the same as Pier for the same names; unbound forwards to the fake
// upstream; the manifests load in Pier's own loader; a short run of the
// benchmark yields rows and ratios. All traffic stays on 127.0.0.1.

import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dig } from '../../agent/dns/testing/dig.ts';
import { startFakeUpstream } from '../../agent/dns/testing/fake-upstream.ts';
import { loadManifestText } from '../../src/sources/manifests/load.ts';
import type { Group } from '../bench/benchmark.ts';
import { DEFAULTS } from '../bench/options.ts';
import { runCommand } from '../bench/process.ts';
import { runBenchmark } from '../bench/runner.ts';
import { withScope } from '../bench/scope.ts';
import { makeTempDir } from '../bench/temp-dir.ts';
import { itNeeds, missingTools } from '../bench/testing.ts';
import { dnsBenchmark } from './bench.ts';
import { clusterObjects, externalRecords, manifestsYaml, SERVICES, zoneFile } from './data.ts';
import { dnsperfLoadRun, parseDnsperfOutput } from './dnsperf.ts';
import type { DnsFixture } from './fixture.ts';
import { knotdPeer } from './peers/knotd.ts';
import { pierDnsCommand } from './peers/pier.ts';
import { unboundConfig, unboundPeer } from './peers/unbound.ts';

const needKnot = await missingTools(['knotd', 'dig']);
const needUnbound = await missingTools(['unbound', 'unbound-checkconf', 'dig']);
const needAll = await missingTools(['dnsperf', 'knotd', 'dig']);

const SAMPLE = `DNS Performance Testing Tool
Version 2.10.0

[Status] Command line: dnsperf -s 127.0.0.1 -p 5398 -d cq.txt -c 2 -l 1 -t 2
[Status] Testing complete (time limit)

Statistics:

  Queries sent:         101027
  Queries completed:    101020 (99.99%)
  Queries lost:         7 (0.01%)

  Response codes:       NOERROR 101000 (99.98%), NXDOMAIN 20 (0.02%)
  Average packet size:  request 49, response 49
  Run time (s):         1.000820
  Queries per second:   100944.225735

  Average Latency (s):  0.000942 (min 0.000022, max 0.005441)
  Latency StdDev (s):   0.000220
`;

describe('dnsperf', () => {
  it("reads dnsperf's report", () => {
    const r = parseDnsperfOutput(SAMPLE);
    expect({
      ...r,
      avgLatency: r.avgLatency.toFixed(3),
      maxLatency: r.maxLatency.toFixed(3),
      stddevLatency: r.stddevLatency.toFixed(3),
    }).toEqual({
      sent: 101027,
      completed: 101020,
      lost: 7,
      qps: 100944.225735,
      avgLatency: '0.942',
      maxLatency: '5.441',
      stddevLatency: '0.220',
      rcodes: { NOERROR: 101000, NXDOMAIN: 20 },
    });
    // Lost queries and answers other than NOERROR count as failures.
    expect(
      dnsperfLoadRun({
        host: '127.0.0.1',
        port: 1,
        queryFile: 'q',
        clients: 1,
        outstanding: 1,
        durationSec: 1,
      }).parse(SAMPLE, ''),
    ).toMatchObject({
      completed: 101020,
      failed: 27,
    });
  });
});

describe('the data', () => {
  const objects = clusterObjects();
  it("loads without a problem in Pier's manifest loader", () => {
    const loaded = loadManifestText('cluster.yaml', manifestsYaml(objects));
    expect(loaded.problems).toEqual([]);
    expect(loaded.objects).toHaveLength(SERVICES + 100);
  });

  it('is passed to the one Pier command line', () => {
    expect(
      pierDnsCommand({ manifestsDir: '/m', port: 5300, workers: 2, upstream: '127.0.0.1:5301' }),
    ).toEqual([
      'bin/pier.ts',
      'dns',
      '--manifests.path',
      '/m',
      '--no-manifests.watch',
      '--dns.listen',
      '127.0.0.1:5300',
      '--dns.workers',
      '2',
      '--dns.forward.upstreams',
      '127.0.0.1:5301',
      '--admin.address',
      '127.0.0.1:0',
      '--log.level',
      'warn',
    ]);
  });

  const peerGroup = (workers: number) =>
    ({ id: 't', title: 't', params: { case: 'cluster', workers }, peers: [] }) as unknown as Group;

  const startWith = async (peer: typeof knotdPeer, check: (port: number) => Promise<void>) => {
    await withScope(async (scope) => {
      const dir = await makeTempDir(scope, 'dns-test');
      const zone = join(dir, 'cluster.local.zone');
      await writeFile(zone, zoneFile(objects));
      const upstream = await startFakeUpstream({ records: externalRecords() });
      scope.defer(() => upstream.close());
      const fixture: DnsFixture = {
        upstream,
        manifestsDir: dir,
        zoneFile: zone,
        queries: { cluster: '', cached: '' },
      };
      const target = await peer.start({
        scope,
        group: peerGroup(1),
        fixture,
        options: DEFAULTS,
        signal: new AbortController().signal,
      });
      await check(target.port);
    });
  };

  itNeeds(needKnot, 'knotd serves the zone file with the records Pier has', async () => {
    await startWith(knotdPeer, async (port) => {
      const r = await dig({ address: '127.0.0.1', port }, [
        'svc-1234.ns-34.svc.cluster.local',
        'A',
      ]);
      expect(r.answer).toEqual(['svc-1234.ns-34.svc.cluster.local. 5 IN A 10.96.4.210']);
      const srv = await dig({ address: '127.0.0.1', port }, [
        '_http._tcp.svc-7.ns-7.svc.cluster.local',
        'SRV',
      ]);
      expect(srv.answer).toEqual([
        '_http._tcp.svc-7.ns-7.svc.cluster.local. 5 IN SRV 0 100 80 svc-7.ns-7.svc.cluster.local.',
      ]);
    });
  });

  itNeeds(
    needUnbound,
    "unbound's config passes unbound-checkconf; it serves the zone and forwards to the fake upstream",
    async () => {
      await withScope(async (scope) => {
        const file = join(await makeTempDir(scope, 'unbound-checkconf'), 'unbound.conf');
        await writeFile(
          file,
          unboundConfig({
            dir: tmpdir(),
            port: 5300,
            workers: 2,
            zoneFile: '/dev/null',
            upstream: '127.0.0.1:5301',
          }),
        );
        const check = await runCommand('unbound-checkconf', [file], { timeoutMs: 10_000 });
        expect(`${check.exit.code} ${check.stderr}`).toMatch(/^0 /);
      });
      await startWith(unboundPeer, async (port) => {
        const r = await dig({ address: '127.0.0.1', port }, ['svc-0.ns-0.svc.cluster.local', 'A']);
        expect(r.answer).toEqual(['svc-0.ns-0.svc.cluster.local. 5 IN A 10.96.0.0']);
        const ext = await dig({ address: '127.0.0.1', port }, ['host-7.example.com', 'A']);
        expect(ext.answer).toEqual(['host-7.example.com. 3600 IN A 198.18.0.7']);
      });
    },
  );
});

describe('a short run', () => {
  itNeeds(
    needAll,
    'measures Pier and knotd on the cluster names and gives the ratio',
    async () => {
      const result = await runBenchmark(
        dnsBenchmark,
        {
          ...DEFAULTS,
          runs: 1,
          durationSec: 1,
          warmupSec: 0,
          workers: [1],
          peers: ['pier', 'knotd'],
          cases: ['cluster'],
        },
        { log: () => {}, signal: new AbortController().signal },
      );
      const group = result.groups[0]!;
      expect(group.rows.map((r) => [r.peer, r.status, r.reason])).toEqual([
        ['pier', 'ok', undefined],
        ['knotd', 'ok', undefined],
      ]);
      expect(group.rows[0]!.median?.qps).toBeGreaterThan(0);
      expect(
        group.comparisons.find((c) => c.label === 'Pier vs knotd, queries/s')?.value,
      ).toBeGreaterThan(0);
    },
    120_000,
  );
});
