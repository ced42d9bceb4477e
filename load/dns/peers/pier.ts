// Pier's DNS as a peer. THE ONE PLACE its command line lives: adjust
// pierDnsCommand() when the CLI changes. Started as a user would, `node
// bin/pier.ts dns`, on the benchmark's manifests, forwarding to the fake
// upstream. If it does not start or does not answer, its rows say so.

import type { Peer } from '../../bench/benchmark.ts';
import { freePort, LOOPBACK } from '../../bench/ports.ts';
import { startProcess } from '../../bench/process.ts';
import { REPO_ROOT, repoVersion } from '../../bench/versions.ts';
import { type DnsFixture, waitForAnswer } from '../fixture.ts';

/** argv (after the node binary) for `pier dns` with N workers; cwd is the repo root. */
export function pierDnsCommand(o: {
  manifestsDir: string;
  port: number;
  workers: number;
  upstream: string;
}): string[] {
  return [
    'bin/pier.ts',
    'dns',
    '--manifests.path',
    o.manifestsDir,
    '--no-manifests.watch',
    '--dns.listen',
    `${LOOPBACK}:${o.port}`,
    '--dns.workers',
    String(o.workers),
    '--dns.forward.upstreams',
    o.upstream,
    '--admin.address',
    `${LOOPBACK}:0`,
    '--log.level',
    'warn',
  ];
}

export const pierPeer: Peer<DnsFixture> = {
  name: 'pier',
  label: 'Pier (`pier dns`)',
  version: repoVersion,
  async start({ scope, group, fixture, options, signal }) {
    const port = await freePort();
    const proc = await startProcess(
      scope,
      {
        name: 'pier dns',
        command: process.execPath,
        args: pierDnsCommand({
          manifestsDir: fixture.manifestsDir,
          port,
          workers: Number(group.params.workers),
          upstream: `${fixture.upstream.address}:${fixture.upstream.port}`,
        }),
        cwd: REPO_ROOT,
        env: { ...process.env, NODE_ENV: 'production' },
        ready: [{ kind: 'line', pattern: /DNS is running/ }],
        // 10 000 Services are read, validated and indexed before it listens.
        readyTimeoutMs: Math.max(options.readyTimeoutMs, 60_000),
      },
      signal,
    );
    await waitForAnswer('svc-0.ns-0.svc.cluster.local', port, options.readyTimeoutMs, proc);
    return { host: LOOPBACK, port, processes: [proc] };
  },
};
