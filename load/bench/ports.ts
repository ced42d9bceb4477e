// Loopback ports and readiness probes. The harness only ever talks to
// 127.0.0.1: peers, backends and the load tool all live on loopback.

import { request } from 'node:http';
import { connect, createServer } from 'node:net';

export const LOOPBACK = '127.0.0.1';

/**
 * A port the kernel just handed out on 127.0.0.1 and that is free again.
 * Another process could take it before the peer binds it; a peer that then
 * fails to bind shows up as "failed to start" rather than measuring the wrong
 * thing, because readiness probes check the answer, not only the port.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, LOOPBACK, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/** One TCP connect attempt; resolves true when the port accepts within timeoutMs. */
export function canConnect(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export interface ProbeAnswer {
  status?: number;
  error?: string;
  bytes: number;
}

/** One GET (body read and counted, connection not reused); never rejects. */
export function httpGet(url: string, timeoutMs: number): Promise<ProbeAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (answer: ProbeAnswer) => {
      if (settled) return;
      settled = true;
      resolve(answer);
    };
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      res.on('end', () => settle({ status: res.statusCode ?? 0, bytes }));
      res.on('error', (error) => settle({ error: error.message, bytes }));
    });
    req.on('timeout', () => {
      req.destroy(new Error(`no answer within ${timeoutMs} ms`));
    });
    req.on('error', (error) => settle({ error: error.message, bytes: 0 }));
    req.end();
  });
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
