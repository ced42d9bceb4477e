// A quick measurement of forward()'s hot path (not a test, and not the
// side-by-side benchmark of load/): nginx (one process) on 127.0.0.1 answers
// a short text; in front of it, in turn, test/gateway-forward-server.ts with
// forward(), the same script's naive undici proxy and @fastify/http-proxy;
// wrk -t1 -c50 drives
// each for a few seconds, in the same run, and the best of the rounds is
// printed as a markdown table.
//
// Besides requests per second, it reports the CPU time each server process
// spent per request (user + system, from /proc/<pid>/stat): on a machine
// shared with other work, throughput moves with the neighbours' load, CPU
// time per request much less.
//
//   node test/gateway-forward-bench.ts [seconds=5] [rounds=3]
//
// Needs nginx and wrk (Debian packages). Everything stays on 127.0.0.1.

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

async function startNginx(dir: string): Promise<[number, number]> {
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes 1;
master_process off;
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
  return [port, child.pid!];
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
  return (Number(fields[11]) + Number(fields[12])) / 100;
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

async function startGateway(config: GatewayProcessConfig): Promise<[number, number]> {
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
  const { port, pid } = JSON.parse(line) as { port: number; pid: number };
  return [port, pid];
}

interface Measured {
  rps: number;
  p99: string;
  errors: string;
  requests: number;
  /** CPU µs per request of the server process. */
  cpuUs: number;
}

function wrk(port: number, duration: number): Promise<Omit<Measured, 'cpuUs'>> {
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
        const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? Number.NaN);
        resolve({ rps, p99, errors, requests });
      },
    );
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pier-forward-bench-'));
  try {
    const [backend, nginxPid] = await startNginx(dir);
    const endpoints = [{ address: '127.0.0.1', port: backend }];
    const peers: [string, [number, number]][] = [
      ['nginx direct (no proxy)', [backend, nginxPid]],
      ['naive undici Pool proxy', await startGateway({ endpoints, mode: 'naive' })],
      ['@fastify/http-proxy', await startGateway({ endpoints, mode: 'fastify' })],
      ['pier forward() on undici', await startGateway({ endpoints, http1Client: 'undici' })],
      ['pier forward()', await startGateway({ endpoints })],
    ];
    const best = new Map<string, Measured>();
    const leastCpu = new Map<string, number>();
    for (const [, [port]] of peers) await wrk(port, 1); // warm-up: JIT, connections
    for (let round = 0; round < rounds; round++) {
      for (const [name, [port, pid]] of peers) {
        const before = cpuSeconds(pid);
        const r = await wrk(port, seconds);
        const cpuUs = ((cpuSeconds(pid) - before) * 1e6) / r.requests;
        const previous = best.get(name);
        if (previous === undefined || r.rps > previous.rps) best.set(name, { ...r, cpuUs });
        leastCpu.set(name, Math.min(leastCpu.get(name) ?? Number.POSITIVE_INFINITY, cpuUs));
      }
    }
    const naive = best.get('naive undici Pool proxy')!;
    const naiveCpu = leastCpu.get('naive undici Pool proxy')!;
    console.log(
      `| peer | req/s (best of ${rounds}) | p99 | vs naive | server CPU µs/req (least) | vs naive |`,
    );
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const [name] of peers) {
      const r = best.get(name)!;
      const cpu = leastCpu.get(name)!;
      console.log(
        `| ${name} | ${Math.round(r.rps)} | ${r.p99} | ${(r.rps / naive.rps).toFixed(2)}x | ${cpu.toFixed(1)} | ${(naiveCpu / cpu).toFixed(2)}x |${r.errors ? ` ${r.errors}` : ''}`,
      );
    }
    console.log(
      `load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
    );
  } finally {
    for (const child of children) child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
