// One request, one answer over a unix socket: connect, write the request,
// half-close, read until the other side ends. pier-cni's only I/O with the
// agent (client.ts), so it is on every pod start and stop.
//
// Two ways, the same outcomes:
//   pipe   libuv's pipe handle driven directly, as node:net drives it
//          (the `pipe_wrap` and `stream_wrap` bindings): nothing to load.
//   net    node:net, the fallback. Loading it (streams and friends, which
//          Node.js's startup snapshot does not hold) costs ~2.5 ms of the
//          plugin's ~30, and more when code caches are off (see
//          plugin-file.ts's --no-rehash-snapshot).
// `auto` takes `pipe` when this Node.js still has those bindings in the shape
// used here (checked, not assumed), and `net` otherwise.
//
// Dependency-free, like wire.ts: `pier cni install` joins it into the
// one-file plugin (plugin-file.ts), and node:net is fetched only when needed
// (process.getBuiltinModule), so a plain import cannot load it up front.

export type ExchangeOutcome =
  /** Connected, wrote the request, and read until the agent ended: `text` is all it sent. */
  | { kind: 'answer'; text: string }
  /** Could not connect; nothing reached the agent. `code`: ENOENT, ECONNREFUSED, EACCES, ... */
  | { kind: 'unreachable'; code: string }
  /** Connected, then the connection failed before the agent ended it. */
  | { kind: 'dropped'; code: string }
  | { kind: 'timeout' };

export type ExchangeWay = 'auto' | 'pipe' | 'net';

const UV_EOF = -4095;

interface PipeBindings {
  Pipe: new (type: number) => PipeHandle;
  PipeConnectWrap: new () => { oncomplete?: (status: number) => void };
  SOCKET: number;
  WriteWrap: new () => Record<string, unknown>;
  ShutdownWrap: new () => Record<string, unknown>;
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
}

interface PipeHandle {
  connect(req: object, path: string): number;
  readStart(): number;
  writeUtf8String(req: object, text: string): number;
  shutdown(req: object): number;
  close(): void;
  onread: (buffer: ArrayBuffer | undefined) => void;
}

let bindings: PipeBindings | null | undefined;

/** The bindings in the shape this file drives, or null when this Node.js has changed them. */
export function pipeBindings(): PipeBindings | null {
  if (bindings !== undefined) return bindings;
  bindings = null;
  try {
    const binding = (process as unknown as { binding?: (name: string) => Record<string, unknown> })
      .binding;
    if (typeof binding !== 'function') return bindings;
    const pipe = binding('pipe_wrap');
    const stream = binding('stream_wrap');
    const constants = pipe.constants as { SOCKET?: unknown } | undefined;
    if (
      typeof pipe.Pipe === 'function' &&
      typeof pipe.PipeConnectWrap === 'function' &&
      typeof constants?.SOCKET === 'number' &&
      typeof stream.WriteWrap === 'function' &&
      typeof stream.ShutdownWrap === 'function' &&
      stream.streamBaseState instanceof Int32Array &&
      typeof stream.kReadBytesOrError === 'number' &&
      typeof stream.kArrayBufferOffset === 'number' &&
      ['connect', 'readStart', 'writeUtf8String', 'shutdown', 'close'].every(
        (m) =>
          typeof (pipe.Pipe as { prototype: Record<string, unknown> }).prototype[m] === 'function',
      )
    ) {
      bindings = {
        Pipe: pipe.Pipe as PipeBindings['Pipe'],
        PipeConnectWrap: pipe.PipeConnectWrap as PipeBindings['PipeConnectWrap'],
        SOCKET: constants.SOCKET,
        WriteWrap: stream.WriteWrap as PipeBindings['WriteWrap'],
        ShutdownWrap: stream.ShutdownWrap as PipeBindings['ShutdownWrap'],
        state: stream.streamBaseState,
        kReadBytesOrError: stream.kReadBytesOrError,
        kArrayBufferOffset: stream.kArrayBufferOffset,
      };
    }
  } catch {
    // process.binding gone or refusing these names: node:net it is.
  }
  return bindings;
}

export function exchange(
  path: string,
  request: string,
  timeoutMs: number,
  way: ExchangeWay = 'auto',
): Promise<ExchangeOutcome> {
  const pipe = way === 'net' ? null : pipeBindings();
  if (way === 'pipe' && pipe === null) {
    return Promise.reject(new Error('this Node.js has no pipe_wrap binding in the expected shape'));
  }
  return pipe === null
    ? exchangeByNet(path, request, timeoutMs)
    : exchangeByPipe(pipe, path, request, timeoutMs);
}

function errorName(status: number): string {
  try {
    const util = process.getBuiltinModule('node:util');
    return util.getSystemErrorName(status);
  } catch {
    return `errno ${status}`;
  }
}

/**
 * An exchange's one outcome: the first finish() (or the timeout) closes the
 * connection and resolves; later ones do nothing.
 */
function settleOnce(
  resolve: (outcome: ExchangeOutcome) => void,
  close: () => void,
  timeoutMs: number,
): { finish: (outcome: ExchangeOutcome) => void; finished: () => boolean } {
  let done = false;
  const finish = (outcome: ExchangeOutcome) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    close();
    resolve(outcome);
  };
  const timer = setTimeout(() => finish({ kind: 'timeout' }), timeoutMs);
  return { finish, finished: () => done };
}

function exchangeByPipe(
  b: PipeBindings,
  path: string,
  request: string,
  timeoutMs: number,
): Promise<ExchangeOutcome> {
  return new Promise((resolve) => {
    const handle = new b.Pipe(b.SOCKET);
    const chunks: Buffer[] = [];
    // (onread stays: the binding asserts that it is always a function.)
    const { finish, finished } = settleOnce(resolve, () => handle.close(), timeoutMs);
    const dropped = (status: number) => finish({ kind: 'dropped', code: errorName(status) });

    const connect = new b.PipeConnectWrap();
    connect.oncomplete = (status: number) => {
      if (finished()) return;
      if (status < 0) {
        finish({ kind: 'unreachable', code: errorName(status) });
        return;
      }
      handle.onread = (buffer) => {
        const n = b.state[b.kReadBytesOrError] as number;
        if (n > 0 && buffer !== undefined) {
          chunks.push(Buffer.from(buffer, b.state[b.kArrayBufferOffset], n));
        } else if (n === UV_EOF) {
          finish({ kind: 'answer', text: Buffer.concat(chunks).toString('utf8') });
        } else if (n < 0) {
          dropped(n);
        }
      };
      let status2 = handle.readStart();
      if (status2 < 0) return dropped(status2);
      const write = new b.WriteWrap();
      write.handle = handle;
      write.async = false;
      // Called only when the write completed later (asynchronously).
      write.oncomplete = (status: number) => {
        if (status < 0) dropped(status);
      };
      status2 = handle.writeUtf8String(write, request);
      if (status2 < 0) return dropped(status2);
      const shutdown = new b.ShutdownWrap();
      shutdown.handle = handle;
      shutdown.oncomplete = (status: number) => {
        if (status < 0) dropped(status);
      };
      status2 = handle.shutdown(shutdown);
      // 1: shut down at once; ENOTCONN: the agent already closed, its answer is being read.
      if (status2 < 0 && errorName(status2) !== 'ENOTCONN') dropped(status2);
    };
    const status = handle.connect(connect, path);
    if (status < 0) finish({ kind: 'unreachable', code: errorName(status) });
  });
}

function exchangeByNet(path: string, request: string, timeoutMs: number): Promise<ExchangeOutcome> {
  const net = process.getBuiltinModule('node:net');
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const conn = net.connect(path);
    const { finish } = settleOnce(resolve, () => conn.destroy(), timeoutMs);
    let connected = false;
    conn.on('connect', () => {
      connected = true;
      conn.end(request);
    });
    conn.on('data', (chunk: Buffer) => chunks.push(chunk));
    conn.on('error', (cause: NodeJS.ErrnoException) => {
      const code = cause.code ?? cause.message;
      finish(connected ? { kind: 'dropped', code } : { kind: 'unreachable', code });
    });
    conn.on('end', () => finish({ kind: 'answer', text: Buffer.concat(chunks).toString('utf8') }));
  });
}
