// A quick measurement of forward()'s hot path (not a test, and not the
// side-by-side benchmark of load/): nginx (one worker) on 127.0.0.1 answers
// a short text; in front of it, in turn, test/gateway-forward-server.ts with
// forward() and the same script's naive undici proxy; wrk -t1 -c50 drives
// each for a few seconds, in the same run, and the best of the rounds is
// printed as a markdown table.
//
//   node test/gateway-forward-bench.ts [seconds=5] [rounds=3]
//
// Needs nginx and wrk (Debian packages). Everything stays on 127.0.0.1.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewayProcessConfig } from './gateway-forward-server.ts';

const seconds = Number(process.argv[2] ?? 5);
const rounds = Number(process.argv[3] ?? 3);
const SERVER = fileURLToPath(new URL('./gateway-forward-server.ts', import.meta.url));
const children: ChildProcess[] = [];

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

async function startNginx(dir: string): Promise<number> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    location / { default_type text/plain; return 200 "hello from the backend\\n"; }
  }
}
`,
  );
  const child = spawn('nginx', ['-c', conf, '-p', dir], { stdio: 'inherit' });
  children.push(child);
  await waitForPort(port);
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

async function startGateway(config: GatewayProcessConfig): Promise<number> {
  const child = spawn(process.execPath, [SERVER, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  children.push(child);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  });
  return (JSON.parse(line) as { port: number }).port;
}

function wrk(
  port: number,
  duration: number,
): Promise<{ rps: number; p99: string; errors: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'wrk',
      ['-t1', '-c50', `-d${duration}s`, '--latency', `http://127.0.0.1:${port}/small`],
      (error, stdout) => {
        if (error !== null) {
          reject(error);
          return;
        }
        const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
        const p99 = /\s99%\s+(\S+)/.exec(stdout)?.[1] ?? '?';
        const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: .*/.exec(stdout)?.[0] ?? '';
        resolve({ rps, p99, errors });
      },
    );
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pier-forward-bench-'));
  try {
    const backend = await startNginx(dir);
    const endpoints = [{ address: '127.0.0.1', port: backend }];
    const peers: [string, number][] = [
      ['nginx direct (no proxy)', backend],
      ['naive undici Pool proxy', await startGateway({ endpoints, mode: 'naive' })],
      ['pier forward()', await startGateway({ endpoints })],
    ];
    const best = new Map<string, { rps: number; p99: string; errors: string }>();
    for (const [, port] of peers) await wrk(port, 1); // warm-up: JIT, connections
    for (let round = 0; round < rounds; round++) {
      for (const [name, port] of peers) {
        const r = await wrk(port, seconds);
        const previous = best.get(name);
        if (previous === undefined || r.rps > previous.rps) best.set(name, r);
      }
    }
    const naive = best.get('naive undici Pool proxy')!.rps;
    console.log(`| ${['peer', `req/s (best of ${rounds})`, 'p99', 'vs naive'].join(' | ')} |`);
    console.log('| --- | --- | --- | --- |');
    for (const [name] of peers) {
      const r = best.get(name)!;
      console.log(
        `| ${name} | ${Math.round(r.rps)} | ${r.p99} | ${(r.rps / naive).toFixed(2)}x |${r.errors ? ` ${r.errors}` : ''}`,
      );
    }
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
