// Both ways of talking to the agent's socket against a real unix socket
// server: they must give the same outcomes, big messages included (several
// reads and an asynchronous write), since the plugin takes whichever this
// Node.js supports.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ExchangeWay, exchange, pipeBindings } from './unix-exchange.ts';

const dir = mkdtempSync(join(tmpdir(), 'pier-unix-exchange-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

let count = 0;
function listen(onConnection: (socket: Socket) => void): Promise<string> {
  const path = join(dir, `s${count++}.sock`);
  const server = createServer({ allowHalfOpen: true }, onConnection);
  servers.push(server);
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}

/** Answers each request, once it has all of it, with `answer(request)`. */
const answering = (answer: (request: string) => string) =>
  listen((conn) => {
    const chunks: Buffer[] = [];
    conn.on('data', (c: Buffer) => chunks.push(c));
    conn.on('end', () => conn.end(answer(Buffer.concat(chunks).toString('utf8'))));
  });

it('finds the pipe bindings in this Node.js (else the plugin would pay for node:net)', () => {
  expect(pipeBindings()).not.toBeNull();
});

describe.each(['pipe', 'net'] as ExchangeWay[])('exchange by %s', (way) => {
  it('sends the whole request, half-closes, and reads the whole answer', async () => {
    const socket = await answering((request) => `got ${request.length}: ${request.slice(0, 5)}é`);
    expect(await exchange(socket, 'hello', 5_000, way)).toEqual({
      kind: 'answer',
      text: 'got 5: helloé',
    });
  });

  it('carries messages of megabytes both ways', async () => {
    const big = 'x'.repeat(3 << 20);
    const socket = await answering((request) => `${request.length}:${request}`);
    const outcome = await exchange(socket, big, 10_000, way);
    expect(outcome.kind).toBe('answer');
    expect(outcome.kind === 'answer' && outcome.text === `${big.length}:${big}`).toBe(true);
  });

  it('says unreachable when no socket is there', async () => {
    expect(await exchange(join(dir, 'none.sock'), 'x', 5_000, way)).toEqual({
      kind: 'unreachable',
      code: 'ENOENT',
    });
  });

  it('hands back an empty answer when the agent closes without writing', async () => {
    const socket = await listen((conn) => conn.end());
    const outcome = await exchange(socket, 'x', 5_000, way);
    expect(outcome).toMatchObject(outcome.kind === 'answer' ? { text: '' } : { kind: 'dropped' });
  });

  it('says dropped when the agent closes in the middle of the request', async () => {
    const socket = await listen((conn) => {
      conn.once('data', () => conn.destroy());
    });
    expect(await exchange(socket, 'x'.repeat(1 << 20), 5_000, way)).toMatchObject({
      kind: 'dropped',
      code: expect.stringMatching(/^E[A-Z]+$/),
    });
  });

  it('gives up after the timeout', async () => {
    const socket = await listen(() => {});
    const started = performance.now();
    expect(await exchange(socket, 'x', 150, way)).toEqual({ kind: 'timeout' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });
});
