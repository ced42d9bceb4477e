import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPluginFile } from './plugin-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'pier-plugin-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the one-file plugin', () => {
  it('is plain CommonJS that runs as pier-cni does', async () => {
    const text = await renderPluginFile({ node: process.execPath });
    expect(text.startsWith(`#!${process.execPath} --no-rehash-snapshot\n'use strict';\n`)).toBe(
      true,
    );
    expect(text).not.toMatch(/^\s*(import|export)\b/m);
    const path = join(dir, 'pier-cni');
    writeFileSync(path, text);
    chmodSync(path, 0o755);
    const version = spawnSync(path, [], {
      input: '{"cniVersion":"0.4.0"}',
      env: { CNI_COMMAND: 'VERSION' },
      encoding: 'utf8',
    });
    expect([version.status, JSON.parse(version.stdout)]).toEqual([
      0,
      { cniVersion: '0.4.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] },
    ]);
    const down = spawnSync(path, [], {
      input: JSON.stringify({
        cniVersion: '1.0.0',
        name: 'n',
        type: 'pier-cni',
        agentSocket: join(dir, 'none.sock'),
      }),
      env: { CNI_COMMAND: 'ADD' },
      encoding: 'utf8',
    });
    expect(down.status).toBe(1);
    expect(JSON.parse(down.stdout)).toMatchObject({ code: 11 });
  });

  it('passes a request to the agent and prints its answer, exit status included', async () => {
    const socket = join(dir, 'agent.sock');
    let seen: { env: Record<string, string>; stdin: string } | undefined;
    const server = createServer({ allowHalfOpen: true }, (conn) => {
      const chunks: Buffer[] = [];
      conn.on('data', (c: Buffer) => chunks.push(c));
      conn.on('end', () => {
        seen = JSON.parse(Buffer.concat(chunks).toString());
        conn.end(JSON.stringify({ exitCode: 1, stdout: '{"code":7,"msg":"from the agent"}' }));
      });
    });
    await new Promise<void>((resolve) => server.listen(socket, resolve));
    try {
      const path = join(dir, 'pier-cni-2');
      writeFileSync(path, await renderPluginFile({ node: process.execPath }));
      chmodSync(path, 0o755);
      const stdin = JSON.stringify({
        cniVersion: '1.0.0',
        name: 'n',
        type: 'pier-cni',
        agentSocket: socket,
      });
      // Asynchronous: the server answers from this process's event loop.
      const run = spawn(path, [], { env: { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c9' } });
      const out: Buffer[] = [];
      run.stdout.on('data', (c: Buffer) => out.push(c));
      run.stdin.end(stdin);
      const status = await new Promise((resolve) => run.on('close', resolve));
      expect([status, Buffer.concat(out).toString()]).toEqual([
        1,
        '{"code":7,"msg":"from the agent"}',
      ]);
      expect(seen).toEqual({ env: { CNI_COMMAND: 'DEL', CNI_CONTAINERID: 'c9' }, stdin });
    } finally {
      server.close();
    }
  });

  it('leaves the flag out of a shebang too long for old kernels', async () => {
    const node = `/${'n'.repeat(120)}/node`;
    expect((await renderPluginFile({ node })).split('\n')[0]).toBe(`#!${node}`);
  });

  it('wants an absolute Node.js path', async () => {
    await expect(renderPluginFile({ node: 'node' })).rejects.toThrow('absolute');
  });
});
