import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderPluginFile } from './plugin-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'pier-plugin-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the one-file plugin', () => {
  it('is plain CommonJS that runs as pier-cni does', async () => {
    const text = await renderPluginFile({ node: process.execPath });
    expect(text.startsWith(`#!${process.execPath}\n'use strict';\n`)).toBe(true);
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

  it('wants an absolute Node.js path', async () => {
    await expect(renderPluginFile({ node: 'node' })).rejects.toThrow('absolute');
  });
});
