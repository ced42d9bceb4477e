// The backend every peer proxies to: nginx from Debian, one worker, on
// 127.0.0.1. It answers GET /small with a short text, GET /download with a
// 1 MiB file (sendfile), and POST /upload by reading the whole body, then
// answering "ok".

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, LOOPBACK } from '../bench/ports.ts';
import { type ManagedProcess, startProcess } from '../bench/process.ts';
import type { Scope } from '../bench/scope.ts';
import { makeTempDir } from '../bench/temp-dir.ts';
import { commandVersion } from '../bench/versions.ts';
import { ONE_MIB, SMALL_BODY } from './cases.ts';
import { nginxArgs, nginxConfig } from './nginx-config.ts';

export interface Backend {
  host: string;
  port: number;
  process: ManagedProcess;
}

export function nginxVersion(): Promise<string> {
  return commandVersion('nginx', ['-v'], /nginx\/(\S+)/);
}

/**
 * The backend's nginx config for a port and a dir holding www/download.
 *
 * A bare `return` would answer an upload before reading it (nginx discards the
 * body afterwards), which is not what an upload endpoint does and lets a proxy
 * finish early. So /upload goes through nginx's proxy module, which reads the
 * whole body into memory first, then asks this same server's /uploaded for
 * the answer without sending the body on.
 */
export function backendConfig(dir: string, port: number): string {
  // `return` takes a quoted string; the body has no quotes or backslashes, only a newline.
  const body = SMALL_BODY.replace(/\n/g, '\\n');
  return nginxConfig({
    dir,
    workers: 1,
    http: [
      'sendfile on;',
      'tcp_nopush on;',
      'tcp_nodelay on;',
      'default_type application/octet-stream;',
      'upstream self {',
      `  server ${LOOPBACK}:${port};`,
      '  keepalive 16;',
      '  keepalive_requests 1000000;',
      '}',
      'server {',
      `  listen ${LOOPBACK}:${port};`,
      `  root ${dir}/www;`,
      `  location = /small { default_type text/plain; return 200 "${body}"; }`,
      '  location = /download { }',
      '  location = /upload {',
      '    client_max_body_size 2m;',
      '    client_body_buffer_size 2m;',
      '    proxy_http_version 1.1;',
      '    proxy_set_header Connection "";',
      '    proxy_pass_request_body off;',
      '    proxy_set_header Content-Length "";',
      '    proxy_pass http://self/uploaded;',
      '  }',
      '  location = /uploaded { default_type text/plain; return 200 "ok\\n"; }',
      '  location / { return 404; }',
      '}',
    ],
  });
}

export async function startBackend(
  scope: Scope,
  options: { readyTimeoutMs: number; signal?: AbortSignal },
): Promise<Backend> {
  const dir = await makeTempDir(scope, 'backend');
  await mkdir(join(dir, 'www'), { mode: 0o755 });
  // Not all one byte, so nothing on the way can shortcut it; fixed, so every run sends the same bytes.
  const file = Buffer.alloc(ONE_MIB);
  for (let i = 0; i < file.length; i++) file[i] = 97 + (i % 26);
  await writeFile(join(dir, 'www', 'download'), file, { mode: 0o644 });
  const port = await freePort();
  const config = join(dir, 'nginx.conf');
  await writeFile(config, backendConfig(dir, port));
  const proc = await startProcess(
    scope,
    {
      name: 'backend nginx',
      command: 'nginx',
      args: nginxArgs(dir, config),
      ready: [{ kind: 'http', url: `http://${LOOPBACK}:${port}/small` }],
      readyTimeoutMs: options.readyTimeoutMs,
    },
    options.signal,
  );
  return { host: LOOPBACK, port, process: proc };
}
