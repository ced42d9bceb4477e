// The proxy benchmark's load tool, run inside a network namespace:
//
//   node connect-latency.ts serve PORT
//       a TCP server on every address of the namespace; prints "ready"
//   node connect-latency.ts connect COUNT WARMUP PORT IP[,IP...]
//       COUNT new TCP connections, one after the other, to the IPs in turn;
//       each timed from connect() to the handshake's end (its first packet is
//       the one the DNAT rules decide on), then reset. Prints one JSON line:
//       {"samplesUs":[...],"failed":N,"errors":{"ETIMEDOUT to 10.96.0.7":1}};
//       the first WARMUP are not kept.

import { createConnection, createServer } from 'node:net';

const [mode, ...args] = process.argv.slice(2);

if (mode === 'serve') {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.destroy();
  });
  server.listen(Number(args[0]), '0.0.0.0', () => process.stdout.write('ready\n'));
} else if (mode === 'connect') {
  const count = Number(args[0]);
  const warmup = Number(args[1]);
  const port = Number(args[2]);
  const ips = (args[3] ?? '').split(',').filter((ip) => ip !== '');
  if (!(count > 0) || !(port > 0) || ips.length === 0) {
    process.stderr.write('usage: connect-latency.ts connect COUNT WARMUP PORT IP[,IP...]\n');
    process.exit(2);
  }
  const samplesUs: number[] = [];
  let failed = 0;
  const errors: Record<string, number> = {};
  const once = (host: string) =>
    new Promise<number | string>((resolve) => {
      const started = process.hrtime.bigint();
      const socket = createConnection({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        resolve(`timeout to ${host}`);
      }, 2000);
      socket.once('connect', () => {
        clearTimeout(timer);
        const us = Number(process.hrtime.bigint() - started) / 1000;
        socket.resetAndDestroy();
        resolve(us);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(`${error.code ?? error.message} to ${host}`);
      });
    });
  for (let i = 0; i < warmup + count; i++) {
    const us = await once(ips[i % ips.length] as string);
    if (i < warmup) continue;
    if (typeof us === 'string') {
      failed++;
      errors[us] = (errors[us] ?? 0) + 1;
    } else samplesUs.push(us);
  }
  process.stdout.write(`${JSON.stringify({ samplesUs, failed, errors })}\n`);
} else {
  process.stderr.write('usage: connect-latency.ts serve PORT | connect COUNT WARMUP PORT IPS\n');
  process.exit(2);
}
