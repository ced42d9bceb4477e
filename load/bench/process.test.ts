import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BenchErrors } from './errors.ts';
import { freePort, httpGet, LOOPBACK, sleep } from './ports.ts';
import { findExecutable, runCommand, startProcess } from './process.ts';
import { createScope, withScope } from './scope.ts';
import { makeTempDir } from './temp-dir.ts';

const node = process.execPath;

/** Alive and not a zombie (a killed process can linger unreaped under a PID 1 that does not reap). */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await sleep(20);
  }
  return check();
}

describe('startProcess', () => {
  it('waits for the port, then stops the process when the scope closes', async () => {
    const port = await freePort();
    const scope = createScope();
    const proc = await startProcess(scope, {
      name: 'listener',
      command: node,
      args: ['-e', `require('net').createServer(s => s.end()).listen(${port}, '${LOOPBACK}')`],
      ready: [{ kind: 'port', host: LOOPBACK, port }],
    });
    expect(isAlive(proc.pid)).toBe(true);
    await scope.close();
    expect(proc.exit).toBeDefined();
    expect(await until(() => !isAlive(proc.pid), 2000)).toBe(true);
  });

  it('waits until a GET answers the expected status, not only until the port opens', async () => {
    const port = await freePort();
    await withScope(async (scope) => {
      await startProcess(scope, {
        name: 'warming',
        command: node,
        args: [
          '-e',
          `const t = Date.now(); require('http').createServer((q, r) => { r.statusCode = Date.now() - t < 400 ? 503 : 200; r.end('x'); }).listen(${port}, '${LOOPBACK}')`,
        ],
        ready: [{ kind: 'http', url: `http://${LOOPBACK}:${port}/` }],
      });
      expect((await httpGet(`http://${LOOPBACK}:${port}/`, 1000)).status).toBe(200);
    });
  });

  it('waits for a line of output', async () => {
    await withScope(async (scope) => {
      const proc = await startProcess(scope, {
        name: 'talker',
        command: node,
        args: ['-e', "setTimeout(() => console.log('ready'), 200); setInterval(() => {}, 1000)"],
        ready: [{ kind: 'line', pattern: /^ready$/m }],
      });
      expect(proc.stdout()).toBe('ready\n');
    });
  });

  it('reports a process that exits early at once, with the line that says why', async () => {
    const scope = createScope();
    const started = startProcess(scope, {
      name: 'doomed',
      command: node,
      args: [
        '-e',
        "console.error('(node:1) Warning: noise'); console.error('Error: cannot bind 127.0.0.1:1'); process.exit(3)",
      ],
      ready: [{ kind: 'port', host: LOOPBACK, port: 1 }],
      readyTimeoutMs: 30_000,
    });
    await expect(started).rejects.toMatchObject({
      code: BenchErrors.codes.PROCESS_EXITED,
      message: 'doomed exited before it was ready (exit code 3): Error: cannot bind 127.0.0.1:1',
    });
    await scope.close();
  }, 10_000);

  it('gives up after the readiness timeout and kills the process', async () => {
    const port = await freePort();
    await withScope(async (scope) => {
      const pidFile = join(await makeTempDir(scope, 'test'), 'pid');
      const started = startProcess(scope, {
        name: 'silent',
        command: node,
        args: [
          '-e',
          `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`,
        ],
        ready: [{ kind: 'port', host: LOOPBACK, port }],
        readyTimeoutMs: 500,
      });
      await expect(started).rejects.toMatchObject({
        code: BenchErrors.codes.NOT_READY,
        message: expect.stringContaining(`waiting for ${LOOPBACK}:${port} to accept connections`),
      });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await until(() => !isAlive(pid), 2000)).toBe(true);
    });
  });

  it('kills the whole process group: workers the peer forked, and a peer that ignores SIGTERM', async () => {
    const port = await freePort();
    const scope = createScope();
    // The parent ignores SIGTERM and forks a worker that listens and prints its pid.
    const script = `
      process.on('SIGTERM', () => {});
      const { spawn } = require('child_process');
      const worker = spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); require('net').createServer().listen(${port}, '${LOOPBACK}'); console.log('worker ' + process.pid)"], { stdio: 'inherit' });
      setInterval(() => {}, 1000);`;
    const proc = await startProcess(scope, {
      name: 'stubborn',
      command: node,
      args: ['-e', script],
      ready: [
        { kind: 'port', host: LOOPBACK, port },
        { kind: 'line', pattern: /worker \d+/ },
      ],
      stopGraceMs: 300,
    });
    const workerPid = Number(/worker (\d+)/.exec(proc.stdout())![1]);
    expect(isAlive(workerPid)).toBe(true);
    await scope.close();
    expect(await until(() => !isAlive(proc.pid) && !isAlive(workerPid), 3000)).toBe(true);
  });

  it('fails clearly when the command does not exist', async () => {
    await withScope(async (scope) => {
      await expect(
        startProcess(scope, { name: 'ghost', command: '/nonexistent/ghost', args: [], ready: [] }),
      ).rejects.toMatchObject({ code: BenchErrors.codes.SPAWN_FAILED });
    });
  });
});

describe('runCommand', () => {
  it('returns output and exit status', async () => {
    const result = await runCommand(
      node,
      ['-e', "console.log('out'); console.error('err'); process.exit(4)"],
      {
        timeoutMs: 10_000,
      },
    );
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toBe('err\n');
    expect(result.exit).toEqual({ code: 4, signal: null });
  });

  it('kills a command that overruns its bound', async () => {
    await withScope(async (scope) => {
      const pidFile = join(await makeTempDir(scope, 'test'), 'pid');
      const run = runCommand(
        node,
        [
          '-e',
          `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000)`,
        ],
        { timeoutMs: 500 },
      );
      await expect(run).rejects.toMatchObject({ code: BenchErrors.codes.COMMAND_TIMEOUT });
      const pid = Number(readFileSync(pidFile, 'utf8'));
      expect(await until(() => !isAlive(pid), 2000)).toBe(true);
    });
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const run = runCommand(node, ['-e', 'setInterval(() => {}, 1000)'], {
      timeoutMs: 10_000,
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 100);
    await expect(run).rejects.toMatchObject({ code: BenchErrors.codes.ABORTED });
  });

  it('finds executables on PATH', async () => {
    expect(await findExecutable('sh')).toMatch(/\/sh$/);
    expect(await findExecutable('no-such-tool-pier-bench')).toBeUndefined();
  });
});

describe('scopes', () => {
  it('runs every cleanup in reverse order even when one throws, then reports the first error', async () => {
    const order: string[] = [];
    const scope = createScope();
    scope.defer(() => {
      order.push('first');
    });
    scope.defer(() => {
      order.push('second');
      throw new Error('second failed');
    });
    scope.defer(async () => {
      order.push('third');
    });
    await expect(scope.close()).rejects.toThrow('second failed');
    expect(order).toEqual(['third', 'second', 'first']);
    await expect(scope.close()).rejects.toThrow('second failed'); // the same close, not a second run
    expect(order).toHaveLength(3);
  });

  it('closes when the body fails', async () => {
    let closed = false;
    await expect(
      withScope(async (scope) => {
        scope.defer(() => {
          closed = true;
        });
        throw new Error('body failed');
      }),
    ).rejects.toThrow('body failed');
    expect(closed).toBe(true);
  });
});
