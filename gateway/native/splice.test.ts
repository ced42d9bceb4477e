// The kernel relay on real loopback sockets: exact byte counts, what each
// failure reports, cancel, and that nothing leaks (fds, the sockets stay
// usable).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { type RelayDone, SPLICE_ADDON_PATH, socketFd, spliceAddon } from './splice.ts';
import { describeWithSplice } from './testing.ts';

const ECONNRESET = -104;
const ECANCELED = -125;
const EPIPE = -32;

interface Pair {
  /** The writing end the test controls. */
  near: Socket;
  /** The accepted end, never read by Node (pauseOnConnect). */
  far: Socket;
}

const servers: Server[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) server.close();
});

/** A connected loopback pair; `far` is accepted paused and stays unread. */
async function pair(): Promise<Pair> {
  const server = createServer({ pauseOnConnect: true });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
  const near = connect(port, '127.0.0.1');
  await new Promise((resolve) => near.once('connect', resolve));
  const far = await accepted;
  // Resets are part of the tests: heard as the relay reports them, not as errors here.
  for (const socket of [near, far]) socket.on('error', () => {});
  sockets.push(near, far);
  return { near, far };
}

function fd(socket: Socket): number {
  return socketFd(socket)!;
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** relay() as a promise of its done arguments. */
function run(source: Socket, destination: Socket, bytes: number) {
  let calls = 0;
  let handle: ReturnType<NonNullable<ReturnType<typeof spliceAddon>>['relay']> | undefined;
  const done = new Promise<{ result: number; moved: number; side: number }>((resolve) => {
    const callback: RelayDone = (result, moved, side) => {
      calls++;
      resolve({ result, moved, side });
    };
    handle = spliceAddon()!.relay(fd(source), fd(destination), bytes, callback);
  });
  return { done, handle: handle!, calls: () => calls };
}

/** Everything `socket` receives until it has `bytes` (or ends). */
function receive(socket: Socket, bytes: number): Promise<Buffer> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let got = 0;
    const finish = () => {
      socket.removeListener('data', onData);
      socket.pause();
      resolve(Buffer.concat(chunks));
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= bytes) finish();
    };
    socket.on('data', onData);
    socket.once('end', finish);
    socket.resume();
  });
}

function body(size: number): Buffer {
  const data = Buffer.alloc(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 10)) & 0xff;
  return data;
}

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describeWithSplice('kernel relay (splice.c)', () => {
  it.each([
    ['one byte', 1],
    ['64 KiB', 64 * 1024],
    ['3 MiB: more than the pipe holds at once', 3 * 1024 * 1024],
  ])(
    'moves exactly the bytes asked for (%s) and leaves what follows unread',
    async (_name, size) => {
      const from = await pair();
      const to = await pair();
      const before = openFds();
      const data = body(size);
      const after = Buffer.from('GET /next HTTP/1.1\r\n\r\n');
      from.near.write(Buffer.concat([data, after]));
      const relayed = run(from.far, to.near, size);
      const [outcome, got] = await Promise.all([relayed.done, receive(to.far, size)]);
      expect(outcome).toEqual({ result: 0, moved: size, side: 0 });
      expect(got.length).toBe(size);
      expect(sha(got)).toBe(sha(data));
      // The next request's bytes are still the source's to read.
      expect((await receive(from.far, after.length)).toString()).toBe(after.toString());
      expect(relayed.calls()).toBe(1);
      expect(relayed.handle.moved()).toBe(size);
      expect(openFds()).toBe(before);
    },
  );

  it('waits for a destination that reads slowly', async () => {
    const from = await pair();
    const to = await pair();
    // More than loopback's send and receive buffers can take in together.
    const size = 32 * 1024 * 1024;
    const data = body(size);
    const relayed = run(from.far, to.near, size);
    from.near.write(data);
    // Nobody reads the destination for a while: its buffers fill and the relay waits.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relayed.calls()).toBe(0);
    expect(relayed.handle.moved()).toBeGreaterThan(0);
    expect(relayed.handle.moved()).toBeLessThan(size);
    const [outcome, got] = await Promise.all([relayed.done, receive(to.far, size)]);
    expect(outcome.result).toBe(0);
    expect(sha(got)).toBe(sha(data));
  });

  it('reports a source that ends early as ECONNRESET on side 0', async () => {
    const from = await pair();
    const to = await pair();
    const relayed = run(from.far, to.near, 1000);
    from.near.end(Buffer.alloc(400, 1));
    const [outcome, got] = await Promise.all([relayed.done, receive(to.far, 400)]);
    expect(outcome).toEqual({ result: ECONNRESET, moved: 400, side: 0 });
    expect(got.length).toBe(400);
  });

  it('reports a destination that went away on side 1', async () => {
    const from = await pair();
    const to = await pair();
    const relayed = run(from.far, to.near, 4 * 1024 * 1024);
    // Reset, not FIN: the relay's writes meet a closed socket at once.
    to.far.resetAndDestroy();
    from.near.write(body(4 * 1024 * 1024));
    const outcome = await relayed.done;
    expect(outcome.side).toBe(1);
    expect([EPIPE, ECONNRESET]).toContain(outcome.result);
  });

  it('cancel() stops it at once; done follows once with ECANCELED; the sockets go on working', async () => {
    const from = await pair();
    const to = await pair();
    const before = openFds();
    const relayed = run(from.far, to.near, 1000);
    relayed.handle.cancel();
    relayed.handle.cancel();
    expect(relayed.calls()).toBe(0); // not from inside cancel()
    expect(await relayed.done).toEqual({ result: ECANCELED, moved: 0, side: -1 });
    from.near.write('still here');
    expect((await receive(from.far, 10)).toString()).toBe('still here');
    to.near.write('and here');
    expect((await receive(to.far, 8)).toString()).toBe('and here');
    expect(relayed.calls()).toBe(1);
    expect(openFds()).toBe(before);
  });

  it('turns an exception thrown by done into an uncaught exception, as any I/O callback', () => {
    // In a child process: an uncaught exception is the process's to handle.
    const script = `
      const { relay } = require(${JSON.stringify(SPLICE_ADDON_PATH)});
      const net = require('node:net');
      process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); process.exit(0); });
      const server = net.createServer({ pauseOnConnect: true }, (far) => {
        relay(far._handle.fd, near._handle.fd, 10, () => { throw new Error('from done'); }).cancel();
      });
      let near;
      server.listen(0, '127.0.0.1', () => { near = net.connect(server.address().port, '127.0.0.1'); });
      setTimeout(() => { console.log('no exception'); process.exit(1); }, 5000);
    `;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(child.stdout.trim()).toBe('uncaught: from done');
    expect(child.status).toBe(0);
  });

  it.each([
    ['no callback', [3, 4, 10]],
    ['a zero length', [3, 4, 0, () => {}]],
    ['a negative fd', [-1, 4, 10, () => {}]],
    ['a string fd', ['3', 4, 10, () => {}]],
  ])('refuses bad arguments (%s) with a TypeError', (_name, args) => {
    const relay = spliceAddon()!.relay as unknown as (...a: unknown[]) => unknown;
    expect(() => relay(...args)).toThrow(TypeError);
  });
});
