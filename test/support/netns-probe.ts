// A probe process that tests run inside a network namespace (a pod or a
// node) with `ip netns exec <ns> node test/support/netns-probe.ts`. It reads
// one JSON command per line on stdin and answers one JSON line each:
//
//   {"id":1,"cmd":"listen","port":9000,"host":"0.0.0.0"}
//       -> a TCP server that tells each client what it sees: the peer's
//          address (to prove no NAT happened) and its own local address
//   {"id":2,"cmd":"connect","host":"10.244.2.3","port":9000,"timeoutMs":3000}
//       -> {"seenBy":{"remote":"10.244.1.2","local":"10.244.2.3"},"local":"10.244.1.2"}
//   {"id":3,"cmd":"addresses"}   -> the namespace's IPv4 addresses by interface
//
// One long-lived process per namespace, so a connectivity matrix costs
// connections, not process starts.

import { createConnection, createServer, type Server } from 'node:net';
import { networkInterfaces } from 'node:os';
import { createInterface } from 'node:readline';

interface Command {
  id: number;
  cmd: 'listen' | 'connect' | 'addresses';
  host?: string;
  port?: number;
  timeoutMs?: number;
}

const servers: Server[] = [];

function reply(id: number, body: Record<string, unknown>) {
  process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
}

function listen(command: Command) {
  const server = createServer((socket) => {
    socket.on('error', () => {});
    socket.end(
      JSON.stringify({
        remote: socket.remoteAddress?.replace(/^::ffff:/, ''),
        local: socket.localAddress?.replace(/^::ffff:/, ''),
      }),
    );
  });
  server.on('error', (error) => reply(command.id, { error: error.message }));
  server.listen(command.port, command.host ?? '0.0.0.0', () => {
    servers.push(server);
    reply(command.id, { ok: true });
  });
}

function connect(command: Command) {
  const socket = createConnection({ host: command.host ?? '127.0.0.1', port: command.port ?? 0 });
  const chunks: Buffer[] = [];
  const timer = setTimeout(() => {
    socket.destroy();
    reply(command.id, { error: `timeout after ${command.timeoutMs ?? 3000} ms` });
  }, command.timeoutMs ?? 3000);
  let local: string | undefined;
  socket.on('connect', () => {
    local = socket.localAddress?.replace(/^::ffff:/, '');
  });
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (error) => {
    clearTimeout(timer);
    reply(command.id, { error: error.message });
  });
  socket.on('end', () => {
    clearTimeout(timer);
    try {
      reply(command.id, { seenBy: JSON.parse(Buffer.concat(chunks).toString()), local });
    } catch {
      reply(command.id, { error: 'no answer from the server' });
    }
  });
}

function addresses(command: Command) {
  const out: Record<string, string[]> = {};
  for (const [name, list] of Object.entries(networkInterfaces())) {
    out[name] = (list ?? [])
      .filter((a) => a.family === 'IPv4')
      .map((a) => `${a.address}/${a.cidr?.split('/')[1]}`);
  }
  reply(command.id, { addresses: out });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let command: Command;
  try {
    command = JSON.parse(line) as Command;
  } catch {
    return;
  }
  if (command.cmd === 'listen') listen(command);
  else if (command.cmd === 'connect') connect(command);
  else if (command.cmd === 'addresses') addresses(command);
  else reply(command.id, { error: `unknown command ${String(command.cmd)}` });
});
process.stdin.on('end', () => {
  for (const server of servers) server.close();
  process.exit(0);
});
process.stdout.write(`${JSON.stringify({ id: 0, ready: true })}\n`);
