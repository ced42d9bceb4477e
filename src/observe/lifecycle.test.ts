import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { PierError } from '../errors.ts';
import { createLifecycle, type ProcessPort } from './lifecycle.ts';
import { createLogger } from './logger.ts';
import { createReadiness } from './readiness.ts';

// The process port, faked: signals are emitted by the test, exits recorded.
class FakeProcess extends EventEmitter implements ProcessPort {
  exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
}

function setup(options: { graceMs?: number; drainMs?: number } = {}) {
  const logs: Record<string, unknown>[] = [];
  const logger = createLogger(
    { level: 'debug', format: 'json' },
    { destination: { write: (l: string) => logs.push(JSON.parse(l)) } },
  );
  const proc = new FakeProcess();
  const readiness = createReadiness();
  const lifecycle = createLifecycle({ logger, readiness, process: proc, ...options });
  const uninstall = lifecycle.install();
  uninstalls.push(uninstall);
  return { logs, proc, readiness, lifecycle, uninstall };
}
const uninstalls: (() => void)[] = [];
afterEach(() => {
  for (const u of uninstalls.splice(0)) u();
});

describe('lifecycle with a fake process', () => {
  it('SIGTERM: unready first, closers last-registered first, exit 0', async () => {
    const { proc, readiness, lifecycle, logs } = setup();
    const order: string[] = [];
    lifecycle.onShutdown('store', () => {
      order.push(`store ready=${readiness.shuttingDown}`);
    });
    lifecycle.onShutdown('admin', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      order.push('admin');
    });
    lifecycle.onShutdown('gateway', () => {
      order.push('gateway');
    });
    proc.emit('SIGTERM');
    expect(await lifecycle.done).toBe(0);
    expect(order).toEqual(['gateway', 'admin', 'store ready=true']);
    expect(proc.exits).toEqual([0]);
    expect(logs.map((l) => l.msg)).toEqual([
      'shutting down',
      'closed',
      'closed',
      'closed',
      'shutdown complete',
    ]);
    expect(logs[0]).toMatchObject({ component: 'lifecycle', reason: 'SIGTERM' });
  });

  it('SIGINT does the same; a second shutdown() call joins the first', async () => {
    const { proc, lifecycle } = setup();
    let closes = 0;
    lifecycle.onShutdown('x', () => {
      closes++;
    });
    proc.emit('SIGINT');
    expect(await lifecycle.shutdown('again')).toBe(0);
    expect(closes).toBe(1);
    expect(proc.exits).toEqual([0]);
  });

  it('a failing closer is logged with its code; the others still close; exit 1', async () => {
    const { proc, lifecycle, logs } = setup();
    const closed: string[] = [];
    lifecycle.onShutdown('store', () => {
      closed.push('store');
    });
    lifecycle.onShutdown('admin', () => {
      throw new Error('socket stuck');
    });
    proc.emit('SIGTERM');
    expect(await lifecycle.done).toBe(1);
    expect(closed).toEqual(['store']);
    expect(proc.exits).toEqual([1]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        level: 'error',
        code: 'PIER_OBSERVE_SHUTDOWN_CLOSER',
        closer: 'admin',
        msg: 'closing admin failed: socket stuck',
      }),
    );
  });

  it('the grace period bounds the whole shutdown; exit 1 naming what was still open', async () => {
    const { proc, lifecycle, logs } = setup({ graceMs: 100 });
    lifecycle.onShutdown('store', () => {});
    lifecycle.onShutdown('gateway', () => new Promise(() => {}));
    const started = Date.now();
    proc.emit('SIGTERM');
    expect(await lifecycle.done).toBe(1);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(proc.exits).toEqual([1]);
    expect(logs).toContainEqual(
      expect.objectContaining({
        code: 'PIER_OBSERVE_SHUTDOWN_TIMEOUT',
        msg: 'shutdown did not finish within 100 ms: still waiting for gateway, store; exiting anyway',
      }),
    );
  });

  it('a second signal during shutdown exits at once with 1', async () => {
    const { proc, lifecycle, logs } = setup();
    lifecycle.onShutdown('gateway', () => new Promise(() => {}));
    proc.emit('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(proc.exits).toEqual([]);
    proc.emit('SIGINT');
    expect(proc.exits).toEqual([1]);
    expect(await lifecycle.done).toBe(1);
    expect(logs).toContainEqual(
      expect.objectContaining({ level: 'warn', code: 'PIER_OBSERVE_FORCED_EXIT' }),
    );
  });

  it('drainMs keeps the process unready but open before closing', async () => {
    const { proc, lifecycle, readiness } = setup({ drainMs: 80 });
    let closedAt = 0;
    lifecycle.onShutdown('gateway', () => {
      closedAt = Date.now();
    });
    const started = Date.now();
    proc.emit('SIGTERM');
    expect((await readiness.evaluate()).ready).toBe(false);
    await lifecycle.done;
    expect(closedAt - started).toBeGreaterThanOrEqual(70);
  });

  it.each([
    [
      'uncaughtException',
      new PierError('PIER_GW_LISTEN', 'port 80 taken'),
      'PIER_GW_LISTEN',
      'uncaught exception: port 80 taken; shutting down',
    ],
    [
      'unhandledRejection',
      new Error('plain'),
      'PIER_OBSERVE_UNCAUGHT',
      'unhandled rejection: plain; shutting down',
    ],
    [
      'unhandledRejection',
      'a string',
      'PIER_OBSERVE_UNCAUGHT',
      'unhandled rejection: a string; shutting down',
    ],
  ])(
    '%s is logged as fatal with a code, then an ordered shutdown, exit 1',
    async (event, error, code, msg) => {
      const { proc, lifecycle, logs } = setup();
      let closed = false;
      lifecycle.onShutdown('store', () => {
        closed = true;
      });
      proc.emit(event, error);
      expect(await lifecycle.done).toBe(1);
      expect(closed).toBe(true);
      expect(proc.exits).toEqual([1]);
      expect(logs[0]).toMatchObject({ level: 'fatal', code, msg });
    },
  );

  it('uninstall removes every handler', () => {
    const { proc, uninstall } = setup();
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    uninstall();
    for (const event of ['SIGTERM', 'SIGINT', 'uncaughtException', 'unhandledRejection']) {
      expect(proc.listenerCount(event)).toBe(0);
    }
  });
});

// The same, with a real process and real signals.
const root = fileURLToPath(new URL('../../', import.meta.url));
const localNode = join(root, 'node_modules/.bin/node');
const node = existsSync(localNode) ? localNode : process.execPath;
const child = fileURLToPath(new URL('./testdata/lifecycle-child.ts', import.meta.url));

interface Child {
  lines: Record<string, unknown>[];
  waitFor(msg: string): Promise<void>;
  signal(name: NodeJS.Signals): void;
  exit: Promise<number | null>;
}

const children: { kill(signal: NodeJS.Signals): boolean; exitCode: number | null }[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

function run(mode: string, env: Record<string, string> = {}): Child {
  const proc = spawn(node, [child, mode], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(proc);
  const lines: Record<string, unknown>[] = [];
  const waiters: { msg: string; resolve: () => void }[] = [];
  let buffer = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    buffer += chunk;
    let nl = buffer.indexOf('\n');
    while (nl !== -1) {
      const line = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.filter((w) => w.msg === line.msg)) w.resolve();
      nl = buffer.indexOf('\n');
    }
  });
  return {
    lines,
    waitFor: (msg) =>
      lines.some((l) => l.msg === msg)
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ msg, resolve })),
    signal: (name) => proc.kill(name),
    exit: new Promise((resolve) => proc.on('exit', (code) => resolve(code))),
  };
}

describe('lifecycle in a real process', () => {
  it('SIGTERM closes in reverse order and exits 0', async () => {
    const c = run('normal');
    await c.waitFor('ready');
    c.signal('SIGTERM');
    expect(await c.exit).toBe(0);
    expect(c.lines.map((l) => l.msg)).toEqual([
      'ready',
      'shutting down',
      'closed second',
      'closed first',
      'shutdown complete',
    ]);
  });

  it('a second signal while a closer hangs exits 1 at once', async () => {
    const c = run('hang');
    await c.waitFor('ready');
    c.signal('SIGTERM');
    await c.waitFor('shutting down');
    c.signal('SIGINT');
    expect(await c.exit).toBe(1);
    expect(c.lines.at(-1)).toMatchObject({ level: 'warn', code: 'PIER_OBSERVE_FORCED_EXIT' });
  });

  it('a hanging closer is cut off by the grace period: exit 1', async () => {
    const c = run('hang', { GRACE_MS: '200' });
    await c.waitFor('ready');
    c.signal('SIGTERM');
    expect(await c.exit).toBe(1);
    expect(c.lines).toContainEqual(
      expect.objectContaining({ code: 'PIER_OBSERVE_SHUTDOWN_TIMEOUT' }),
    );
  });

  it('an uncaught PierError is logged as fatal with its code, then shutdown, exit 1', async () => {
    const c = run('throw');
    expect(await c.exit).toBe(1);
    expect(c.lines).toContainEqual(
      expect.objectContaining({
        level: 'fatal',
        code: 'PIER_TEST_BOOM',
        msg: 'uncaught exception: the test blew up; shutting down',
      }),
    );
    expect(c.lines.map((l) => l.msg)).toContain('closed first');
  });
});
