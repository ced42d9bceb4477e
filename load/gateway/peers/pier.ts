// Pier's gateway as a peer. THE ONE PLACE its command line lives: adjust
// pierCommand() when the CLI changes. It is started the way a user would,
// `node bin/pier.ts gateway`, from a manifests folder the harness writes
// (manifests.ts). If it does not start or does not route, its rows say so
// with the line of its output that explains it; no number is invented.

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { spliceStatus } from '../../../gateway/native/splice.ts';
import { GATEWAY_V8_FLAGS } from '../../../gateway/workers/v8-flags.ts';
import type { Peer } from '../../bench/benchmark.ts';
import { freePort, LOOPBACK } from '../../bench/ports.ts';
import { startProcess } from '../../bench/process.ts';
import { makeTempDir } from '../../bench/temp-dir.ts';
import { REPO_ROOT, repoVersion } from '../../bench/versions.ts';
import type { GatewayFixture } from '../fixture.ts';
import { gatewayManifests } from '../manifests.ts';

/** argv (after the node binary) to run Pier's gateway on a manifests dir with N workers; cwd is the repo root. */
export function pierCommand(manifestsDir: string, workers: number): string[] {
  return [
    // As a production gateway runs (gateway/workers/v8-flags.ts says why); workers get them anyway.
    ...GATEWAY_V8_FLAGS,
    'bin/pier.ts',
    'gateway',
    '--manifests.path',
    manifestsDir,
    '--gateway.workers',
    String(workers),
  ];
}

export const pierPeer: Peer<GatewayFixture> = {
  name: 'pier',
  label: 'Pier',
  // Whether its request bodies were spliced belongs to what was measured.
  version: async () => `${await repoVersion()}; request bodies by splice(2): ${spliceStatus()}`,
  async start({ scope, group, fixture, options, signal }) {
    const workers = Number(group.params.workers);
    const dir = await makeTempDir(scope, 'pier');
    const port = await freePort();
    await writeFile(
      join(dir, 'gateway.yaml'),
      gatewayManifests({ gatewayPort: port, backendPort: fixture.backend.port }),
    );
    const proc = await startProcess(
      scope,
      {
        name: 'pier gateway',
        command: process.execPath,
        args: pierCommand(dir, workers),
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          NODE_ENV: 'production',
          // Like the nginx and haproxy peers (access_log off): no per-request log lines.
          PIER_GATEWAY_ACCESS_LOG: 'off',
          // A free admin port, so a Pier running elsewhere on the host does not stop this one.
          PIER_ADMIN_ADDRESS: `${LOOPBACK}:0`,
        },
        // Routes load after the port opens: ready means a request is proxied, not only accepted.
        ready: [{ kind: 'http', url: `http://${LOOPBACK}:${port}/small` }],
        readyTimeoutMs: options.readyTimeoutMs,
      },
      signal,
    );
    return { host: LOOPBACK, port, processes: [proc] };
  },
};
