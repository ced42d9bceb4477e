// How the Node.js peers scale to N workers: node:cluster, the standard way.
// One worker runs in the process itself (no primary in the path, as a user
// would run one process); N > 1 forks N workers behind a cluster primary.
// Prints "ready" once every worker listens; a worker that dies ends the
// process, so the harness sees the peer fail instead of measuring N-1.

import cluster from 'node:cluster';
import { parseArgs } from 'node:util';

export interface ServerArgs {
  port: number;
  upstream: string;
  workers: number;
}

/** --port P --upstream http://127.0.0.1:B --workers N; exits 2 with a clear line on bad input. */
export function parseServerArgs(argv: string[]): ServerArgs {
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        port: { type: 'string' },
        upstream: { type: 'string' },
        workers: { type: 'string' },
      },
    });
    const port = Number(values.port);
    const workers = Number(values.workers ?? '1');
    const upstream = values.upstream ?? '';
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new Error(`--port ${values.port}: expected 1-65535`);
    if (!Number.isInteger(workers) || workers < 1 || workers > 64)
      throw new Error(`--workers ${values.workers}: expected 1-64`);
    if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(upstream))
      throw new Error(`--upstream ${upstream}: expected http://127.0.0.1:<port>`);
    return { port, upstream, workers };
  } catch (error) {
    process.stderr.write(`Error: ${(error as Error).message}\n`);
    process.exit(2);
  }
}

export async function serveWithWorkers(workers: number, serve: () => Promise<void>): Promise<void> {
  if (workers <= 1) {
    await serve();
    process.stdout.write('ready\n');
    return;
  }
  if (cluster.isPrimary) {
    let listening = 0;
    cluster.on('listening', () => {
      listening++;
      if (listening === workers) process.stdout.write('ready\n');
    });
    cluster.on('exit', (worker, code, signal) => {
      process.stderr.write(
        `Error: worker ${worker.process.pid} exited (${signal ?? `code ${code}`})\n`,
      );
      process.exit(1);
    });
    for (let i = 0; i < workers; i++) cluster.fork();
    return;
  }
  await serve();
}

/** A failure at start-up: one line on stderr, exit 1 (the harness shows that line). */
export function failStartup(error: unknown): never {
  process.stderr.write(`Error: ${(error as Error).message ?? String(error)}\n`);
  process.exit(1);
}
