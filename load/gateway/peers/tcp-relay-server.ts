// A yardstick for Node.js proxies: a TCP relay that never looks at the
// bytes. Each client connection gets its own upstream connection and every
// chunk is passed on as it was read, so there is no HTTP parsing, no header
// handling, no pool and no copy in JavaScript. It runs with the gateway's V8
// flags and writes the way Pier's upstream pool does (the reads of one
// event-loop turn in one writev, 256 KiB before backpressure). So it shows
// what moving the bytes through Node.js's sockets costs on this machine,
// without any HTTP work. Its reads, as Node's by default, each get a new
// buffer; Pier's upstream reads go into reused buffers, so Pier can pass it.
// It is not an HTTP proxy and is never compared with Pier.
//   node --external-memory-accounted-in-global-limit --initial-old-space-size=128 \
//     tcp-relay-server.ts --port P --upstream http://127.0.0.1:B --workers N

import net from 'node:net';
import { failStartup, parseServerArgs, serveWithWorkers } from './serve-workers.ts';

const args = parseServerArgs(process.argv.slice(2));
const upstream = new URL(args.upstream);
const WRITE_BUDGET = 256 * 1024;

function flush(socket: net.Socket & { batching?: boolean }): void {
  socket.batching = false;
  socket.uncork();
}

/** from -> to: batched writes, `from` paused while `to` holds its budget. */
function relay(from: net.Socket, to: net.Socket & { batching?: boolean }): void {
  from.on('data', (chunk: Buffer) => {
    if (to.batching !== true) {
      to.batching = true;
      to.cork();
      setImmediate(flush, to);
    }
    if (!to.write(chunk)) from.pause();
  });
  to.on('drain', () => from.resume());
  from.on('end', () => to.end());
  from.on('error', () => to.destroy());
}

function serve(): Promise<void> {
  const server = net.createServer({ noDelay: true }, (client) => {
    const backend = net.connect({
      host: upstream.hostname,
      port: Number(upstream.port),
      noDelay: true,
      writableHighWaterMark: WRITE_BUDGET,
    } as net.NetConnectOpts);
    relay(client, backend);
    relay(backend, client);
    client.on('close', () => backend.destroy());
    backend.on('close', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(args.port, '127.0.0.1', () => resolve());
  });
}

await serveWithWorkers(args.workers, serve).catch(failStartup);
