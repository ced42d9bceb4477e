// DNS over TCP (RFC 7766): two-byte length framing, several queries per
// connection, each answered as soon as it is ready (pipelined, possibly out
// of order, matched by ID). Bounds: idle connections close after
// `idleMs`; a connection with `maxInflight` unanswered queries, or whose
// client does not read its answers, stops being read until that clears;
// beyond `maxConnections` new connections are closed at once. A
// zero-length frame ends the connection.

import type { AddressInfo } from 'node:net';
import net from 'node:net';
import type { Engine } from './engine.ts';
import { DnsErrors } from './errors.ts';
import type { Reply } from './stage.ts';

export interface TcpListener {
  address(): AddressInfo;
  close(): Promise<void>;
}

export interface TcpListenerOptions {
  host: string;
  port: number;
  reusePort: boolean;
  engine: Engine;
  onError: (error: unknown, context: string) => void;
  idleMs?: number;
  maxInflight?: number;
  maxConnections?: number;
}

export async function listenTcp(options: TcpListenerOptions): Promise<TcpListener> {
  const { engine, onError } = options;
  const idleMs = options.idleMs ?? 10_000;
  const maxInflight = options.maxInflight ?? 100;
  const sockets = new Set<net.Socket>();

  const server = net.createServer({ noDelay: true }, (socket) => {
    sockets.add(socket);
    socket.setTimeout(idleMs, () => socket.destroy());
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const client = socket.remoteAddress ?? '';
    let buffered: Buffer = Buffer.alloc(0);
    let inflight = 0;

    // Reading pauses while too many answers are pending or the client does not read them.
    const resumeIfDue = () => {
      if (socket.isPaused() && inflight < maxInflight && !socket.writableNeedDrain) socket.resume();
    };
    socket.on('drain', resumeIfDue);
    const write = (reply: Reply) => {
      if (reply === null || socket.destroyed) return;
      const frame = Buffer.allocUnsafe(reply.length + 2);
      frame.writeUInt16BE(reply.length, 0);
      reply.copy(frame, 2);
      if (!socket.write(frame)) socket.pause();
    };
    const settled = (reply: Reply) => {
      inflight--;
      write(reply);
      resumeIfDue();
    };

    socket.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      let off = 0;
      while (buffered.length - off >= 2) {
        const length = buffered.readUInt16BE(off);
        if (length === 0) {
          socket.destroy();
          return;
        }
        if (buffered.length - off - 2 < length) break;
        const msg = buffered.subarray(off + 2, off + 2 + length);
        off += 2 + length;
        const reply = engine.handle(msg, 'tcp', client);
        if (reply instanceof Promise) {
          inflight++;
          reply.then(settled, (error: unknown) => {
            onError(error, 'tcp reply');
            settled(null);
          });
          if (inflight >= maxInflight) socket.pause();
        } else write(reply);
      }
      buffered = off === buffered.length ? Buffer.alloc(0) : buffered.subarray(off);
    });
  });
  server.maxConnections = options.maxConnections ?? 1000;
  server.on('error', (error) => onError(error, 'tcp server'));

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(DnsErrors.LISTEN_FAILED(`tcp ${options.host}:${options.port}`, error.message)),
    );
    server.listen({ host: options.host, port: options.port, reusePort: options.reusePort }, () =>
      resolve(),
    );
  });
  return {
    address: () => server.address() as AddressInfo,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
