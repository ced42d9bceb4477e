// A real redis-server for integration tests: on a free loopback port, in a
// temp dir of its own, with an append-only file (and no RDB snapshots) so its
// data survives restart(). Stopped and removed afterwards, also when a test
// fails or the test process exits early.
//
// Under CI=true a missing redis-server fails the tests that need it, naming
// the binary; elsewhere they are skipped with a visible message.

import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';

const HOST = '127.0.0.1';

/** Why redis-server cannot run here, or undefined when it can. */
export const redisServerMissing: string | undefined = (() => {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    return 'redis-server not found on PATH (Debian: apt-get install redis-server)';
  }
  return undefined;
})();

export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** redis://127.0.0.1:<port> */
  readonly url: string;
  readonly dir: string;
  /** Stops the server (SIGTERM: it flushes its append-only file); a no-op when stopped. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Runs redis-cli against it: cli('HSET', 'k', 'f', 'v'). */
  cli(...args: string[]): Promise<string>;
  /** Stops it and removes its directory. */
  remove(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null ? resolve(address.port) : reject(),
      );
    });
  });
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      if (data.includes('\r\n')) done(data.startsWith('+PONG'));
    });
  });
}

function logTail(dir: string): string {
  try {
    return readFileSync(join(dir, 'redis.log'), 'utf8').split('\n').slice(-8).join('\n');
  } catch {
    return '(no log)';
  }
}

export interface RedisServerOptions {
  /**
   * Run as a one-node Redis Cluster holding all 16384 slots: it then refuses
   * (CROSSSLOT) any multi-key command or script whose keys are in different
   * slots, as a real cluster would.
   */
  clusterMode?: boolean;
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (redisServerMissing !== undefined) throw new Error(redisServerMissing);
  const dir = mkdtempSync(join(tmpdir(), 'pier-redis-'));
  let port = await freePort();
  let child: ChildProcess | undefined;

  const launch = async (): Promise<void> => {
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        HOST,
        '--dir',
        dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--logfile',
        'redis.log',
        '--daemonize',
        'no',
        ...(options.clusterMode
          ? ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf']
          : []),
      ],
      { stdio: 'ignore' },
    );
    running.add(proc);
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    exited.then(() => running.delete(proc));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null || proc.signalCode !== null) {
        throw new Error(`redis-server on port ${port} exited at start:\n${logTail(dir)}`);
      }
      if (await ping(port)) {
        try {
          if (options.clusterMode) await assignAllSlots();
        } catch (error) {
          proc.kill('SIGKILL');
          await exited;
          throw error;
        }
        child = proc;
        return;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    await exited;
    throw new Error(
      `redis-server on port ${port} did not answer PING within 10 s:\n${logTail(dir)}`,
    );
  };

  const cli = (...args: string[]) =>
    new Promise<string>((resolve, reject) => {
      execFile('redis-cli', ['-h', HOST, '-p', String(port), ...args], (error, stdout, stderr) => {
        if (error) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || error.message}`));
        else resolve(stdout.trim());
      });
    });

  // After a restart the node remembers its slots (nodes.conf); only a new one needs them.
  const assignAllSlots = async () => {
    if (!(await cli('CLUSTER', 'INFO')).includes('cluster_slots_assigned:16384')) {
      await cli('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    }
    const deadline = Date.now() + 10_000;
    while (!(await cli('CLUSTER', 'INFO')).includes('cluster_state:ok')) {
      if (Date.now() > deadline)
        throw new Error(`redis-server on port ${port}: cluster_state not ok after 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  const stop = async () => {
    const proc = child;
    if (proc === undefined) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (error) {
    // The port may have been taken between finding it and binding it: try once more.
    port = await freePort();
    try {
      await launch();
    } catch {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }

  return {
    host: HOST,
    get port() {
      return port;
    },
    get url() {
      return `redis://${HOST}:${port}`;
    },
    dir,
    stop,
    start: async () => {
      if (child === undefined) await launch();
    },
    restart: async () => {
      await stop();
      await launch();
    },
    cli: (...args: string[]) =>
      new Promise<string>((resolve, reject) => {
        execFile(
          'redis-cli',
          ['-h', HOST, '-p', String(port), ...args],
          (error, stdout, stderr) => {
            if (error) reject(new Error(`redis-cli ${args.join(' ')}: ${stderr || error.message}`));
            else resolve(stdout.trim());
          },
        );
      }),
    remove: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A describe block that has a redis-server for its tests: `server()` returns
 * it. Without the binary: fails under CI=true, skips visibly otherwise.
 */
export function describeWithRedis(
  name: string,
  body: (server: () => RedisServer) => void,
  options: RedisServerOptions = {},
): void {
  if (redisServerMissing !== undefined && process.env.CI !== 'true') {
    console.warn(`SKIPPED "${name}": ${redisServerMissing}`);
    describe.skip(name, () => body(() => undefined as unknown as RedisServer));
    return;
  }
  describe(name, () => {
    let server: RedisServer | undefined;
    beforeAll(async () => {
      if (redisServerMissing !== undefined) throw new Error(`CI=true and ${redisServerMissing}`);
      server = await startRedisServer(options);
    });
    afterAll(async () => {
      await server?.remove();
    });
    body(() => {
      if (server === undefined) throw new Error('redis-server did not start');
      return server;
    });
  });
}
