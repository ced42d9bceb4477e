// DNS over UDP: one socket, every datagram through the engine. With
// reusePort several sockets (one per worker) share the address and the
// kernel spreads clients over them (SO_REUSEPORT). The kernel's default
// receive buffer is kept on purpose: with a 4 MiB one, queues grew under
// dnsperf and throughput fell.

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { isIP, isIPv6 } from 'node:net';
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

export async function listenUdp(options: UdpListenerOptions): Promise<UdpListener> {
  const { engine, onError } = options;
  // Every address this socket sees after binding is a client's IP (replies
  // go to rinfo.address), so the per-send lookup hands it straight back,
  // saving Node's check and nextTick per reply. The host to bind is resolved here, once.
  const host = isIP(options.host) ? options.host : (await lookup(options.host)).address;
  const socket = dgram.createSocket({
    type: isIPv6(host) ? 'udp6' : 'udp4',
    reusePort: options.reusePort,
    lookup: ((address: string, family: number, callback: (e: null, a: string, f: number) => void) =>
      callback(null, address, family)) as unknown as dgram.SocketOptions['lookup'],
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
    socket.bind(options.port, host, () => resolve());
  });
  // After binding, a send that fails (a client's ICMP unreachable) must not end the socket.
  socket.on('error', (error) => onError(error, 'udp socket'));
  return {
    address: () => socket.address(),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}
