// The gateway benchmark: wrk against one nginx backend on 127.0.0.1, through
// each proxy in turn, with the same number of workers for every proxy. The
// questions it answers are the targets for Pier's gateway:
// >= 1.5x the fastest Node.js proxy's requests/s, >= 0.4x nginx's, and a p99
// at most 3x nginx's, at the same worker count.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GATEWAY_V8_FLAGS } from '../../gateway/workers/v8-flags.ts';
import type { BenchmarkDefinition, Group, Sample } from '../bench/benchmark.ts';
import { BenchErrors } from '../bench/errors.ts';
import { makeTempDir } from '../bench/temp-dir.ts';
import { commandVersion } from '../bench/versions.ts';
import { wrkLoadRun } from '../bench/wrk.ts';
import { nginxVersion, startBackend } from './backend.ts';
import { type GatewayCase, gatewayCases } from './cases.ts';
import type { GatewayFixture } from './fixture.ts';
import { directPeer } from './peers/direct.ts';
import { fastifyHttpProxyPeer } from './peers/fastify-http-proxy.ts';
import { haproxyPeer } from './peers/haproxy.ts';
import { httpProxyPeer } from './peers/http-proxy.ts';
import { nginxPeer } from './peers/nginx.ts';
import { pierPeer } from './peers/pier.ts';
import { tcpRelayPeer } from './peers/tcp-relay.ts';

/** Report order; `direct` is the ceiling, nginx the reference, the TCP relay Node.js's ceiling. */
const peers = [
  directPeer,
  pierPeer,
  nginxPeer,
  haproxyPeer,
  httpProxyPeer,
  fastifyHttpProxyPeer,
  tcpRelayPeer,
];
const NODE_PEERS = peers.filter((p) => p.family === 'node').map((p) => p.name);

function workersTitle(n: number): string {
  return n === 1 ? '1 worker' : `${n} workers`;
}

/** Adds the body throughput a case moves to wrk's sample. */
function withBodyRate(sample: Sample, c: GatewayCase): Sample {
  const rps = sample.metrics.rps ?? 0;
  return { ...sample, metrics: { ...sample.metrics, bodyMiBps: (rps * c.bodyBytes) / 2 ** 20 } };
}

export const gatewayBenchmark: BenchmarkDefinition<GatewayFixture> = {
  name: 'gateway',
  title: 'Gateway benchmark: HTTP/1.1 proxying on loopback',
  description: [
    'wrk sends HTTP/1.1 keep-alive requests to 127.0.0.1 through each proxy to one backend: ' +
      'nginx from Debian with one worker of its own, answering GET /small with a short text, ' +
      'GET /download with a 1 MiB file, and POST /upload (a 1 MiB body sent by a wrk Lua script) by ' +
      'reading the body and answering "ok". Every proxy runs with the same number of workers: ' +
      'worker processes for nginx, Pier and the Node.js peers (node:cluster), threads for haproxy ' +
      '(haproxy 2.5+ has no worker processes). A row is one proxy under one condition; its numbers ' +
      'are medians of the measured runs.',
    'Peers: **direct** (wrk straight to the backend: the ceiling, measured once per case), ' +
      `**Pier** (\`node ${GATEWAY_V8_FLAGS.join(' ')} bin/pier.ts gateway\` on generated Gateway API manifests: the V8 flags its workers run with; ` +
      "its defaults, so the upload's bodies are moved by the kernel, splice(2), when its addon is built: Versions says), **nginx** " +
      '(reverse proxy, upstream keepalive pool, 1 MiB bodies buffered in memory), **haproxy** (http mode, ' +
      '`http-reuse always`), **http-proxy** (npm, keep-alive agent) and **@fastify/http-proxy** ' +
      '(npm, its default undici pool), both Node.js peers under the same Node 24 as Pier, and for scale ' +
      '**Node.js TCP relay** (`load/gateway/peers/tcp-relay-server.ts`, not compared with Pier: each client ' +
      "connection relayed to an upstream connection of its own, bytes passed on unread, with Pier's V8 flags " +
      'and write batching). It does no HTTP work at all: a yardstick for what moving the bytes through ' +
      "Node.js's sockets costs here. Its reads, as Node's by default, each get a new buffer; Pier's upstream " +
      'reads go into reused buffers, so Pier can pass it.',
    ...gatewayCases
      .filter((c) => c.lua !== undefined)
      .map(
        (c) =>
          `The ${c.title}'s wrk script (\`${c.name}.lua\` in the commands below):\n\n\`\`\`lua\n${c.lua}\`\`\``,
      ),
  ],
  metrics: [
    { key: 'rps', label: 'req/s', unit: '', better: 'higher', digits: 0 },
    { key: 'p50', label: 'p50', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower', digits: 2 },
    { key: 'bodyMiBps', label: 'body MiB/s', unit: '', better: 'higher', digits: 1 },
  ],
  reference: { peer: 'nginx', metrics: ['rps', 'p99'] },
  plotMetric: 'rps',
  peers,
  tools: [
    {
      name: 'wrk',
      label: 'wrk (load)',
      hint: 'install the Debian package `wrk` (apt-get install wrk)',
      version: () => commandVersion('wrk', ['-v'], /wrk (?:debian\/)?(\S+)/),
    },
    {
      name: 'nginx',
      label: 'nginx (backend)',
      hint: 'the backend is nginx: install the Debian package `nginx`',
      version: nginxVersion,
    },
  ],
  comparisons: [
    {
      label: 'Pier vs fastest Node.js peer, req/s',
      metric: 'rps',
      subject: 'pier',
      reference: { bestOf: NODE_PEERS, by: 'rps', label: 'fastest Node.js peer' },
      target: { op: '>=', value: 1.5 },
    },
    {
      label: 'Pier vs nginx, req/s',
      metric: 'rps',
      subject: 'pier',
      reference: { peer: 'nginx' },
      target: { op: '>=', value: 0.4 },
    },
    {
      label: 'Pier p99 vs nginx p99',
      metric: 'p99',
      subject: 'pier',
      reference: { peer: 'nginx' },
      target: { op: '<=', value: 3 },
    },
  ],
  // Proxies sit idle side by side; rounds keep the shared machine's drifting load off the ratios.
  interleaved: true,
  notes: [
    "`req/s vs nginx` above 1 is faster than nginx; `p99 vs nginx` below 1 is a shorter tail than nginx's. " +
      'Ratios compare peers at the same worker count and case, measured in the same rounds on the same machine.',
    'The targets (Pier >= 1.5x the fastest Node.js peer, >= 0.4x nginx, p99 <= 3x nginx) are shown beside the ' +
      'ratios; nothing asserts them. A row that failed, or where more than 1% of requests failed, has no ratio.',
    'wrk, the backend and the proxy share the machine (2 cores here, nothing pinned): absolute numbers are ' +
      "this machine's; the ratios are the result. `direct` bounds what any proxy can reach.",
    '`body MiB/s` is req/s times the body one request moves (the answer for GETs, the upload for POST).',
    "Latencies are wrk's (`--latency`), per request, in ms; with 50 connections they include queueing.",
  ],
  async setup({ scope, options, signal }) {
    const known = gatewayCases.map((c) => c.name);
    for (const name of options.cases ?? []) {
      if (!known.includes(name))
        throw BenchErrors.BAD_OPTION('--cases', name, `one of ${known.join(', ')}`);
    }
    const cases = gatewayCases.filter(
      (c) => options.cases === undefined || options.cases.includes(c.name),
    );
    const backend = await startBackend(scope, { readyTimeoutMs: options.readyTimeoutMs, signal });
    const scriptDir = await makeTempDir(scope, 'wrk');
    for (const c of cases) {
      if (c.lua !== undefined) await writeFile(join(scriptDir, `${c.name}.lua`), c.lua);
    }
    const groups: Group[] = [];
    for (const c of cases) {
      options.workers.forEach((workers, i) => {
        groups.push({
          id: `${c.name}-w${workers}`,
          title: `${c.title} (${c.method} ${c.path}), ${workersTitle(workers)}`,
          params: { case: c.name, workers },
          peers: peers.filter((p) => p.name !== 'direct' || i === 0).map((p) => p.name),
          load(target, durationSec) {
            const run = wrkLoadRun({
              url: `http://${target.host}:${target.port}${c.path}`,
              threads: options.threads,
              connections: options.connections,
              durationSec,
              ...(c.lua === undefined ? {} : { script: join(scriptDir, `${c.name}.lua`) }),
            });
            return {
              ...run,
              parse: (stdout, stderr) => withBodyRate(run.parse(stdout, stderr), c),
            };
          },
        });
      });
    }
    return { fixture: { backend, scriptDir }, groups };
  },
};
