// DNS over UDP: one socket, every datagram through the engine. With
// reusePort several sockets (one per worker) share the address and the
// kernel spreads clients over them (SO_REUSEPORT).

import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { isIPv6 } from 'node:net';
import type { Engine } from './engine.ts';
import { DnsErrors } from './errors.ts';

export interface UdpListener {
  address(): AddressInfo;
  close(): Promise<void>;
}

export interface UdpListenerOptions {
  host: string;
  port: number;
  reusePort: boolean;
  engine: Engine;
  onError: (error: unknown, context: string) => void;
}

/** Socket buffer wanted under bursts; the kernel caps it at net.core.rmem_max. */
const RECEIVE_BUFFER = 4 * 1024 * 1024;

export async function listenUdp(options: UdpListenerOptions): Promise<UdpListener> {
  const { engine, onError } = options;
  const socket = dgram.createSocket({
    type: isIPv6(options.host) ? 'udp6' : 'udp4',
    reusePort: options.reusePort,
  });
  const send = (reply: Buffer | null, port: number, address: string) => {
    if (reply !== null) socket.send(reply, port, address);
  };
  socket.on('message', (msg, rinfo) => {
    const reply = engine.handle(msg, 'udp', rinfo.address);
    if (reply instanceof Promise) {
      reply.then(
        (r) => send(r, rinfo.port, rinfo.address),
        (error: unknown) => onError(error, 'udp reply'),
      );
    } else send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', (error) =>
      reject(DnsErrors.LISTEN_FAILED(`udp ${options.host}:${options.port}`, error.message)),
    );
    socket.bind(options.port, options.host, () => resolve());
  });
  // After binding, a send that fails (a client's ICMP unreachable) must not end the socket.
  socket.on('error', (error) => onError(error, 'udp socket'));
  try {
    socket.setRecvBufferSize(RECEIVE_BUFFER);
  } catch {
    // Capped or refused by the kernel: the default buffer still works.
  }
  return {
    address: () => socket.address(),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
