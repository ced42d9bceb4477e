// The proxy benchmark's load tool, run inside a network namespace:
//
//   node connect-latency.ts serve PORT
//       a TCP server on every address of the namespace; prints "ready"
//   node connect-latency.ts connect COUNT WARMUP PORT IP[,IP...] [BASE_PORT BASE_IP[,...] ROUNDS]
//       COUNT new TCP connections, one after the other, to the IPs in turn;
//       each timed from connect() to the handshake's end (its first packet is
//       the one the DNAT rules decide on), then reset. With BASE_IPs, as many
//       again to those, in ROUNDS alternating chunks (base, then IPs), so both
//       meet the same background load. (The base is
//       reached on BASE_PORT: the endpoints' own port.) Prints one JSON line:
//       {"samplesUs":[...],"failed":N,"errors":{"ETIMEDOUT to 10.96.0.7":1},
//        "baseUs":[...],"baseFailed":N}; the first WARMUP are not kept.

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
  const basePort = Number(args[4] ?? port);
  const base = (args[5] ?? '').split(',').filter((ip) => ip !== '');
  const rounds = Math.max(1, Number(args[6] ?? 1));
  if (!(count > 0) || !(port > 0) || ips.length === 0) {
    process.stderr.write('usage: connect-latency.ts connect COUNT WARMUP PORT IP[,IP...]\n');
    process.exit(2);
  }
  const samplesUs: number[] = [];
  const baseUs: number[] = [];
  let failed = 0;
  let baseFailed = 0;
  const errors: Record<string, number> = {};
  const once = (host: string, to = port) =>
    new Promise<number | string>((resolve) => {
      const started = process.hrtime.bigint();
      const socket = createConnection({ host, port: to });
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
  for (let i = 0; i < warmup; i++) {
    await once(ips[i % ips.length] as string);
    if (base.length > 0) await once(base[i % base.length] as string, basePort);
  }
  const chunk = Math.ceil(count / rounds);
  let done = 0;
  let doneBase = 0;
  while (done < count) {
    if (base.length > 0) {
      for (let i = 0; i < chunk && doneBase < count; i++, doneBase++) {
        const us = await once(base[doneBase % base.length] as string, basePort);
        if (typeof us === 'string') {
          baseFailed++;
          errors[us] = (errors[us] ?? 0) + 1;
        } else baseUs.push(us);
      }
    }
    for (let i = 0; i < chunk && done < count; i++, done++) {
      const us = await once(ips[done % ips.length] as string);
      if (typeof us === 'string') {
        failed++;
        errors[us] = (errors[us] ?? 0) + 1;
      } else samplesUs.push(us);
    }
  }
  process.stdout.write(`${JSON.stringify({ samplesUs, failed, errors, baseUs, baseFailed })}\n`);
} else {
  process.stderr.write('usage: connect-latency.ts serve PORT | connect COUNT WARMUP PORT IPS\n');
  process.exit(2);
}
