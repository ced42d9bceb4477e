// nginx as a reverse proxy: `worker_processes` = the group's workers, an
// upstream block with a keepalive pool (HTTP/1.1, Connection cleared), and
// buffers large enough to hold a 1 MiB body in memory (buffering stays on,
// as by default, but never touches disk).

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Peer } from '../../bench/benchmark.ts';
import { freePort, LOOPBACK } from '../../bench/ports.ts';
import { startProcess } from '../../bench/process.ts';
import { makeTempDir } from '../../bench/temp-dir.ts';
import { nginxVersion } from '../backend.ts';
import type { GatewayFixture } from '../fixture.ts';
import { nginxArgs, nginxConfig } from '../nginx-config.ts';

export function nginxProxyConfig(
  dir: string,
  workers: number,
  port: number,
  backendPort: number,
): string {
  return nginxConfig({
    dir,
    workers,
    http: [
      'upstream backend {',
      `  server ${LOOPBACK}:${backendPort};`,
      '  keepalive 64;',
      '  keepalive_requests 1000000;',
      '}',
      'server {',
      `  listen ${LOOPBACK}:${port};`,
      '  client_max_body_size 2m;',
      // Buffer a 1 MiB body in memory, both ways: with the defaults (16k, 8 x 4k)
      // nginx spools every upload and download to a temp file on disk, which would
      // make the reference slow for a reason no tuned deployment has.
      '  client_body_buffer_size 2m;',
      '  proxy_buffer_size 16k;',
      '  proxy_buffers 64 16k;',
      '  location / {',
      '    proxy_pass http://backend;',
      '    proxy_http_version 1.1;',
      '    proxy_set_header Connection "";',
      '  }',
      '}',
    ],
  });
}

export const nginxPeer: Peer<GatewayFixture> = {
  name: 'nginx',
  label: 'nginx',
  version: nginxVersion,
  async start({ scope, group, fixture, options, signal }) {
    const workers = Number(group.params.workers);
    const dir = await makeTempDir(scope, 'nginx');
    const port = await freePort();
    const config = join(dir, 'nginx.conf');
    await writeFile(config, nginxProxyConfig(dir, workers, port, fixture.backend.port));
    const proc = await startProcess(
      scope,
      {
        name: 'nginx',
        command: 'nginx',
        args: nginxArgs(dir, config),
        ready: [{ kind: 'http', url: `http://${LOOPBACK}:${port}/small` }],
        readyTimeoutMs: options.readyTimeoutMs,
      },
      signal,
    );
    return { host: LOOPBACK, port, processes: [proc] };
  },
};
