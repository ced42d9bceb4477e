// The gateway benchmark's parts, for real: the generated nginx and haproxy
// configs pass the tools' own checks, every peer proxies the three cases
// correctly through to the real backend (checked with curl), the manifests
// load in Pier's own manifest loader, and a short run of the benchmark
// itself yields rows and ratios. All traffic stays on 127.0.0.1.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { loadManifestText } from '../../src/sources/manifests/load.ts';
import type { Group, Peer, PeerTarget } from '../bench/benchmark.ts';
import { BenchErrors } from '../bench/errors.ts';
import { DEFAULTS } from '../bench/options.ts';
import { runCommand } from '../bench/process.ts';
import { runBenchmark } from '../bench/runner.ts';
import { type Scope, withScope } from '../bench/scope.ts';
import { makeTempDir } from '../bench/temp-dir.ts';
import { itNeeds, missingTools } from '../bench/testing.ts';
import { backendConfig, startBackend } from './backend.ts';
import { gatewayBenchmark } from './bench.ts';
import { ONE_MIB, SMALL_BODY } from './cases.ts';
import type { GatewayFixture } from './fixture.ts';
import { gatewayManifests, gatewayObjects } from './manifests.ts';
import { directPeer } from './peers/direct.ts';
import { fastifyHttpProxyPeer } from './peers/fastify-http-proxy.ts';
import { haproxyConfig, haproxyPeer } from './peers/haproxy.ts';
import { httpProxyPeer } from './peers/http-proxy.ts';
import { nginxPeer, nginxProxyConfig } from './peers/nginx.ts';
import { pierCommand } from './peers/pier.ts';
import { tcpRelayPeer } from './peers/tcp-relay.ts';

const needNginx = await missingTools(['nginx']);
const needHaproxy = await missingTools(['haproxy']);
const needCurl = await missingTools(['nginx', 'curl']);
const needWrk = await missingTools(['nginx', 'wrk']);

async function nginxTest(scope: Scope, config: (dir: string) => string): Promise<string> {
  const dir = await makeTempDir(scope, 'nginx-t');
  const file = join(dir, 'nginx.conf');
  await writeFile(file, config(dir));
  const result = await runCommand('nginx', ['-t', '-e', 'stderr', '-p', dir, '-c', file], {
    timeoutMs: 10_000,
  });
  return result.exit.code === 0 ? 'ok' : result.stderr;
}

describe('generated configs', () => {
  itNeeds(needNginx, 'the backend and nginx proxy configs pass nginx -t', async () => {
    await withScope(async (scope) => {
      expect(await nginxTest(scope, (dir) => backendConfig(dir, 18080))).toBe('ok');
      expect(await nginxTest(scope, (dir) => nginxProxyConfig(dir, 2, 18081, 18080))).toBe('ok');
    });
  });

  itNeeds(needHaproxy, 'the haproxy config passes haproxy -c', async () => {
    await withScope(async (scope) => {
      const file = join(await makeTempDir(scope, 'haproxy-c'), 'haproxy.cfg');
      await writeFile(file, haproxyConfig(2, 18081, 18080));
      const result = await runCommand('haproxy', ['-c', '-f', file], { timeoutMs: 10_000 });
      expect(`${result.exit.code} ${result.stderr}`).toMatch(/^0 /);
    });
  });
});

describe('manifests for Pier', () => {
  const ports = { gatewayPort: 18081, backendPort: 18080 };

  it('are Gateway API and Kubernetes YAML: Gateway on 127.0.0.1:<port>, route to a Service, its EndpointSlice at the backend', () => {
    const docs = parseAllDocuments(gatewayManifests(ports)).map(
      (d) => d.toJS() as Record<string, never>,
    );
    expect(docs.map((d) => `${d.apiVersion} ${d.kind}`)).toEqual([
      'v1 Namespace',
      'gateway.networking.k8s.io/v1 GatewayClass',
      'gateway.networking.k8s.io/v1 Gateway',
      'gateway.networking.k8s.io/v1 HTTPRoute',
      'v1 Service',
      'discovery.k8s.io/v1 EndpointSlice',
    ]);
    expect(docs).toEqual(JSON.parse(JSON.stringify(gatewayObjects(ports))));
    const [, , gateway, route, , slice] = docs as Array<Record<string, Record<string, unknown>>>;
    expect(gateway!.spec).toMatchObject({
      addresses: [{ type: 'IPAddress', value: '127.0.0.1' }],
      listeners: [{ protocol: 'HTTP', port: 18081 }],
    });
    expect(route!.spec).toMatchObject({
      parentRefs: [{ name: 'edge' }],
      rules: [{ backendRefs: [{ name: 'backend', port: 80 }] }],
    });
    expect(slice).toMatchObject({
      metadata: { labels: { 'kubernetes.io/service-name': 'backend' } },
      endpoints: [{ addresses: ['127.0.0.1'], conditions: { ready: true } }],
      ports: [{ port: 18080 }],
    });
  });

  it("load without a problem in Pier's manifest loader", () => {
    const loaded = loadManifestText('gateway.yaml', gatewayManifests(ports));
    expect(loaded.problems).toEqual([]);
    expect(loaded.skipped).toEqual([]);
    expect(loaded.objects).toHaveLength(6);
  });

  it('are passed to the one Pier command line, with the worker count', () => {
    expect(pierCommand('/tmp/m', 2)).toEqual([
      '--external-memory-accounted-in-global-limit',
      '--initial-old-space-size=128',
      'bin/pier.ts',
      'gateway',
      '--manifests.path',
      '/tmp/m',
      '--gateway.workers',
      '2',
    ]);
  });
});

async function curl(args: string[]): Promise<string> {
  const result = await runCommand('curl', ['-sS', '--max-time', '10', ...args], {
    timeoutMs: 15_000,
  });
  if (result.exit.code !== 0) throw new Error(`curl ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

/** The three cases through a started peer, as curl sees them. */
async function checkProxying(target: PeerTarget, uploadFile: string): Promise<void> {
  const base = `http://${target.host}:${target.port}`;
  expect(await curl([`${base}/small`])).toBe(SMALL_BODY);
  expect(
    await curl(['-o', '/dev/null', '-w', '%{http_code} %{size_download}', `${base}/download`]),
  ).toBe(`200 ${ONE_MIB}`);
  expect(
    await curl([
      '-w',
      ' %{http_code} %{size_upload}',
      '-H',
      'Content-Type: application/octet-stream',
      '--data-binary',
      `@${uploadFile}`,
      `${base}/upload`,
    ]),
  ).toBe(`ok\n 200 ${ONE_MIB}`);
}

function group(workers: number): Group {
  return {
    id: `t-w${workers}`,
    title: 't',
    params: { case: 'small', workers },
    peers: [],
    load: () => ({
      argv: [],
      timeoutMs: 0,
      parse: () => ({ metrics: {}, completed: 0, failed: 0 }),
    }),
  };
}

describe('peers proxy every case to the backend', () => {
  const cases: Array<[Peer<GatewayFixture>, number, string[]]> = [
    [directPeer, 1, []],
    [nginxPeer, 1, []],
    [nginxPeer, 2, []],
    [haproxyPeer, 2, ['haproxy']],
    [httpProxyPeer, 1, []],
    [httpProxyPeer, 2, []],
    [fastifyHttpProxyPeer, 1, []],
    [fastifyHttpProxyPeer, 2, []],
    [tcpRelayPeer, 1, []],
    [tcpRelayPeer, 2, []],
  ];
  for (const [peer, workers, extra] of cases) {
    itNeeds(
      [...needCurl, ...(extra.length > 0 ? needHaproxy : [])],
      `${peer.label}, ${workers} worker(s)`,
      async () => {
        await withScope(async (scope) => {
          const signal = new AbortController().signal;
          const options = { ...DEFAULTS, readyTimeoutMs: 15_000 };
          const backend = await startBackend(scope, { readyTimeoutMs: 10_000 });
          const dir = await makeTempDir(scope, 'upload');
          const uploadFile = join(dir, 'body');
          await writeFile(uploadFile, Buffer.alloc(ONE_MIB, 'u'));
          const target = await peer.start({
            scope,
            group: group(workers),
            fixture: { backend, scriptDir: dir },
            options,
            signal,
          });
          await checkProxying(target, uploadFile);
          for (const proc of target.processes) expect(proc.exit).toBeUndefined();
        });
      },
    );
  }
});

describe('the Node.js TCP relay', () => {
  it('is shown for scale, never the fastest Node.js peer Pier is compared with', () => {
    expect(tcpRelayPeer.family).toBeUndefined();
    expect(httpProxyPeer.family).toBe('node');
    expect(fastifyHttpProxyPeer.family).toBe('node');
  });
});

describe('the gateway benchmark', () => {
  itNeeds(
    needWrk,
    'runs a short plan: rows with numbers, ratios vs nginx, body throughput per case',
    async () => {
      const result = await runBenchmark(
        gatewayBenchmark,
        {
          ...DEFAULTS,
          runs: 1,
          durationSec: 1,
          warmupSec: 0,
          connections: 4,
          workers: [1],
          peers: ['direct', 'nginx'],
          cases: ['small', 'upload'],
        },
        { log: () => {}, signal: new AbortController().signal },
      );
      expect(result.groups.map((g) => g.id)).toEqual(['small-w1', 'upload-w1']);
      for (const g of result.groups) {
        expect(g.rows.map((r) => [r.peer, r.status])).toEqual([
          ['direct', 'ok'],
          ['nginx', 'ok'],
        ]);
        const nginx = g.rows[1]!;
        expect(nginx.ratios).toEqual({ rps: 1, p99: 1 });
        const bodyBytes = g.params.case === 'upload' ? ONE_MIB : Buffer.byteLength(SMALL_BODY);
        expect(nginx.median!.bodyMiBps).toBeCloseTo((nginx.median!.rps! * bodyBytes) / 2 ** 20, 6);
        // Pier was not selected: its comparisons are not made up.
        expect(g.comparisons).toEqual([]);
      }
      const upload = result.groups[1]!.rows[0]!;
      expect(upload.command).toMatch(/ -s \S+\/upload\.lua http:\/\/127\.0\.0\.1:\d+\/upload$/);
    },
  );

  itNeeds(needWrk, 'rejects an unknown case by name', async () => {
    const run = runBenchmark(
      gatewayBenchmark,
      { ...DEFAULTS, cases: ['huge'] },
      { log: () => {}, signal: new AbortController().signal },
    );
    await expect(run).rejects.toMatchObject({
      code: BenchErrors.codes.BAD_OPTION,
      message: expect.stringContaining('huge'),
    });
  });
});
