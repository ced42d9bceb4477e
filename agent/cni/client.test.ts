// The thin client against real unix sockets: what it answers by itself, and
// what it says when the agent is not there or goes away mid-request.

import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runClient } from './client.ts';
import type { ExchangeWay } from './unix-exchange.ts';

const dir = mkdtempSync(join(tmpdir(), 'pier-cni-client-'));
const servers: Server[] = [];
afterAll(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (socket: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'pier',
    type: 'pier-cni',
    agentSocket: socket,
    ...extra,
  });
const parsed = (stdout: string) =>
  JSON.parse(stdout) as { code?: number; msg?: string; cniVersion?: string };

function listen(
  name: string,
  onConnection: (socket: import('node:net').Socket) => void,
): Promise<string> {
  const path = join(dir, name);
  const server = createServer({ allowHalfOpen: true }, onConnection);
  servers.push(server);
  return new Promise((resolve) => server.listen(path, () => resolve(path)));
}

describe.each(['pipe', 'net'] as ExchangeWay[])(
  'pier-cni, the thin client (socket by %s)',
  (way) => {
    it('answers VERSION itself, in the version asked, even without stdin', async () => {
      const a = await runClient({
        env: { CNI_COMMAND: 'VERSION' },
        stdin: '{"cniVersion":"0.3.1"}',
      });
      expect(a).toEqual({
        exitCode: 0,
        stdout: JSON.stringify({
          cniVersion: '0.3.1',
          supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'],
        }),
      });
      const b = await runClient({ env: { CNI_COMMAND: 'VERSION' }, stdin: '' });
      expect(parsed(b.stdout).cniVersion).toBe('1.1.0');
    });

    it.each([
      ['no CNI_COMMAND', {}, '{"cniVersion":"1.0.0"}', 4],
      ['an unknown CNI_COMMAND', { CNI_COMMAND: 'FOO' }, '{"cniVersion":"1.0.0"}', 4],
      ['stdin that is not JSON', { CNI_COMMAND: 'ADD' }, '{', 6],
      ['no stdin', { CNI_COMMAND: 'ADD' }, '', 6],
    ])('fails %s with code %i before reaching the agent', async (_case, env, stdin, code) => {
      const response = await runClient({ env, stdin });
      expect(response.exitCode).toBe(1);
      expect(parsed(response.stdout).code).toBe(code);
    });

    it('fails with 11 (STATUS: 50) while the agent is not running, and says so', async () => {
      const socket = join(dir, 'nobody.sock');
      const add = await runClient({ env: { CNI_COMMAND: 'ADD' }, stdin: config(socket), way });
      expect(parsed(add.stdout)).toMatchObject({
        cniVersion: '1.0.0',
        code: 11,
        msg: expect.stringContaining('not running'),
      });
      const status = await runClient({
        env: { CNI_COMMAND: 'STATUS' },
        stdin: config(socket, { cniVersion: '1.1.0' }),
        way,
      });
      expect(parsed(status.stdout).code).toBe(50);
    });

    it('passes only the CNI_* variables and stdin on, and prints the answer as it is', async () => {
      let seen: unknown;
      const socket = await listen(`echo-${way}.sock`, (conn) => {
        const chunks: Buffer[] = [];
        conn.on('data', (c: Buffer) => chunks.push(c));
        conn.on('end', () => {
          seen = JSON.parse(Buffer.concat(chunks).toString());
          conn.end(JSON.stringify({ exitCode: 0, stdout: '{"cniVersion":"1.0.0"}' }));
        });
      });
      const stdin = config(socket);
      const response = await runClient({
        env: {
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: 'c1',
          CNI_IFNAME: 'eth0',
          HOME: '/root',
          SECRET: 'x',
        },
        stdin,
        way,
      });
      expect(response).toEqual({ exitCode: 0, stdout: '{"cniVersion":"1.0.0"}' });
      expect(seen).toEqual({
        env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_IFNAME: 'eth0' },
        stdin,
      });
    });

    it('fails with 11 when the agent closes the connection without an answer, or does not answer in time', async () => {
      const closing = await listen(`closing-${way}.sock`, (conn) => conn.destroy());
      const closed = await runClient({ env: { CNI_COMMAND: 'DEL' }, stdin: config(closing), way });
      expect(parsed(closed.stdout)).toMatchObject({
        code: 11,
        msg: expect.stringContaining('without an answer'),
      });
      const silent = await listen(`silent-${way}.sock`, () => {});
      const late = await runClient({
        env: { CNI_COMMAND: 'ADD' },
        stdin: config(silent),
        timeoutMs: 200,
        way,
      });
      expect(parsed(late.stdout)).toMatchObject({
        code: 11,
        msg: expect.stringContaining('did not answer'),
      });
    });
  },
);
