// A probe process for the proxy's namespace tests, run inside a network
// namespace (`ip netns exec <ns> node probe.ts`). One JSON command a line on
// stdin, one JSON answer a line on stdout:
//
//   {"id":1,"cmd":"listen","proto":"tcp"|"udp","port":8080,"host":"0.0.0.0"}
//       servers answer each connection (TCP) or datagram (UDP) with what they
//       see: {"remote":"10.244.1.5","local":"10.244.2.3","localPort":8080}
//   {"id":2,"cmd":"tcp","host":"10.96.0.10","port":80,"timeoutMs":2000}
//       -> {"seenBy":{...},"local":"10.244.1.5","ms":1.2} or {"error":"ECONNREFUSED","ms":0.4}
//   {"id":3,"cmd":"udp","host":"10.96.0.10","port":53,"timeoutMs":1000,"fromPort":40000}
//       one datagram, from fromPort when given (the same 5-tuple each time, as
//       a long-lived UDP client has) -> {"seenBy":{...}} or {"error":"timeout"|"ECONNREFUSED"}
//
// A TCP reset and an ICMP port unreachable both read as ECONNREFUSED; a
// dropped packet as a timeout.

import { createSocket } from 'node:dgram';
import { createConnection, createServer } from 'node:net';
import { createInterface } from 'node:readline';

interface Command {
  id: number;
  cmd: 'listen' | 'tcp' | 'udp';
  proto?: 'tcp' | 'udp';
  host?: string;
  port?: number;
  timeoutMs?: number;
  fromPort?: number;
}

const clean = (address: string | undefined) => address?.replace(/^::ffff:/, '');
const reply = (id: number, body: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ id, ...body })}\n`);
const closers: (() => void)[] = [];

function listen(c: Command) {
  if (c.proto === 'udp') {
    const socket = createSocket('udp4');
    socket.on('message', (_msg, from) => {
      const answer = JSON.stringify({
        remote: from.address,
        local: socket.address().address,
        localPort: socket.address().port,
      });
      socket.send(answer, from.port, from.address);
    });
    socket.on('error', (error) => reply(c.id, { error: error.message }));
    socket.bind(c.port, c.host ?? '0.0.0.0', () => {
      closers.push(() => socket.close());
      reply(c.id, { ok: true });
    });
    return;
  }
  const server = createServer((conn) => {
    conn.on('error', () => {});
    conn.end(
      JSON.stringify({
        remote: clean(conn.remoteAddress),
        local: clean(conn.localAddress),
        localPort: conn.localPort,
      }),
    );
  });
  server.on('error', (error) => reply(c.id, { error: error.message }));
  server.listen(c.port, c.host ?? '0.0.0.0', () => {
    closers.push(() => server.close());
    reply(c.id, { ok: true });
  });
}

function tcp(c: Command) {
  const started = performance.now();
  const ms = () => performance.now() - started;
  const socket = createConnection({ host: c.host ?? '127.0.0.1', port: c.port ?? 0 });
  const chunks: Buffer[] = [];
  let local: string | undefined;
  let done = false;
  const finish = (body: Record<string, unknown>) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.destroy();
    reply(c.id, { ...body, ms: ms() });
  };
  const timer = setTimeout(() => finish({ error: 'timeout' }), c.timeoutMs ?? 2000);
  socket.on('connect', () => {
    local = clean(socket.localAddress);
  });
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', (error: NodeJS.ErrnoException) =>
    finish({ error: error.code ?? error.message }),
  );
  socket.on('end', () => {
    try {
      finish({ seenBy: JSON.parse(Buffer.concat(chunks).toString()), local });
    } catch {
      finish({ error: 'no answer' });
    }
  });
}

function udp(c: Command) {
  const socket = createSocket({ type: 'udp4', reuseAddr: true });
  let done = false;
  const finish = (body: Record<string, unknown>) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.close();
    reply(c.id, body);
  };
  const timer = setTimeout(() => finish({ error: 'timeout' }), c.timeoutMs ?? 1000);
  socket.on('message', (msg) => {
    try {
      finish({ seenBy: JSON.parse(msg.toString()) });
    } catch {
      finish({ error: 'no answer' });
    }
  });
  socket.on('error', (error: NodeJS.ErrnoException) =>
    finish({ error: error.code ?? error.message }),
  );
  socket.bind(c.fromPort ?? 0, () => {
    // Connected, so an ICMP port unreachable comes back as ECONNREFUSED.
    socket.connect(c.port ?? 0, c.host ?? '127.0.0.1', () => socket.send('?'));
  });
}

createInterface({ input: process.stdin }).on('line', (line) => {
  let command: Command;
  try {
    command = JSON.parse(line) as Command;
  } catch {
    return;
  }
  if (command.cmd === 'listen') listen(command);
  else if (command.cmd === 'tcp') tcp(command);
  else if (command.cmd === 'udp') udp(command);
  else reply(command.id, { error: `unknown command ${String(command.cmd)}` });
});
process.stdin.on('end', () => {
  for (const close of closers) close();
  process.exit(0);
});
reply(0, { ready: true });
