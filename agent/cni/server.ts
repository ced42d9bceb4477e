// The agent's CNI socket: a unix socket only root can open (the directory
// 0700, the socket 0600), one request per connection (wire.ts).
//
// Closing waits for requests in flight, so stopping the agent never cuts an
// ADD in half; a request that arrives after close() began is refused by the
// kernel (nobody listens) and the client reports code 11.

import { chmod, mkdir, unlink } from 'node:fs/promises';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { AgentErrors } from '../errors.ts';
import type { AgentLogger } from '../logger.ts';
import { CniCodes, CniError, errorJson } from './errors.ts';
import type { CniHandler } from './handler.ts';
import { answerVersion } from './request.ts';
import { MAX_REQUEST_BYTES, type WireRequest, type WireResponse } from './wire.ts';

export interface CniServerOptions {
  path: string;
  handler: CniHandler;
  logger: AgentLogger;
  /** A connection that sends nothing for this long is dropped. */
  idleTimeoutMs?: number;
}

export interface CniServer {
  listen(): Promise<void>;
  /** Stops accepting, then waits for the requests in flight. */
  close(): Promise<void>;
  readonly inFlight: number;
}

export function createCniServer(options: CniServerOptions): CniServer {
  const { path, handler, logger } = options;
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const pending = new Set<Promise<void>>();
  let server: Server | undefined;

  const serve = (socket: Socket) => {
    const chunks: Buffer[] = [];
    let size = 0;
    socket.setTimeout(idleTimeoutMs, () => socket.destroy());
    socket.on('error', (error) => logger.debug({ err: error }, 'CNI client connection failed'));
    socket.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        respond(socket, {
          exitCode: 1,
          stdout: errorJson(
            '1.1.0',
            new CniError(CniCodes.DECODE_FAILURE, `request larger than ${MAX_REQUEST_BYTES} bytes`),
          ),
        });
        return;
      }
      chunks.push(chunk);
    });
    socket.on('end', () => {
      if (size > MAX_REQUEST_BYTES) return;
      const request = decode(Buffer.concat(chunks).toString('utf8'));
      if ('exitCode' in request) {
        respond(socket, request);
        return;
      }
      const work = handler(request).then(
        (response) => respond(socket, response),
        (error: unknown) => {
          // The handler answers every failure itself; reaching here is a bug.
          logger.error({ err: error }, 'CNI handler threw');
          socket.destroy();
        },
      );
      pending.add(work);
      void work.finally(() => pending.delete(work));
    });
  };

  return {
    get inFlight() {
      return pending.size;
    },
    async listen() {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      if (await answers(path)) {
        throw AgentErrors.BAD_CONFIG(
          'socket',
          `another agent already listens on ${path}; stop it, or give this one its own socket`,
        );
      }
      await unlink(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      server = createServer({ allowHalfOpen: true }, serve);
      await new Promise<void>((resolve, reject) => {
        server?.once('error', reject);
        server?.listen(path, () => {
          server?.off('error', reject);
          resolve();
        });
      });
      await chmod(path, 0o600);
    },
    async close() {
      const current = server;
      server = undefined;
      if (current !== undefined) {
        await new Promise<void>((resolve) => current.close(() => resolve()));
      }
      await Promise.allSettled([...pending]);
    },
  };
}

function decode(text: string): WireRequest | WireResponse {
  try {
    const parsed = JSON.parse(text) as Partial<WireRequest>;
    const env = parsed.env;
    if (
      typeof parsed.stdin === 'string' &&
      typeof env === 'object' &&
      env !== null &&
      Object.values(env).every((v) => typeof v === 'string')
    ) {
      return { env, stdin: parsed.stdin };
    }
  } catch {}
  return {
    exitCode: 1,
    stdout: errorJson(
      answerVersion(text),
      new CniError(
        CniCodes.DECODE_FAILURE,
        'the agent got a request it cannot read; is pier-cni the same version as the agent?',
      ),
    ),
  };
}

function respond(socket: Socket, response: WireResponse) {
  if (socket.destroyed) return;
  socket.end(JSON.stringify(response));
}

/** Whether something accepts connections on the socket path. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}
