// Peer processes: started in their own process group, waited for until they
// answer, and killed as a group (nginx and haproxy workers, node:cluster
// workers) when their scope closes, also after a failure. A process that
// exits while we wait is reported at once with the line of its output that
// says why, not after the readiness timeout.

import { type ChildProcess, spawn } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { BenchErrors } from './errors.ts';
import { firstErrorLine } from './first-error-line.ts';
import { canConnect, httpGet, sleep } from './ports.ts';
import type { Scope } from './scope.ts';

export type Readiness =
  /** The port accepts TCP connections. */
  | { kind: 'port'; host: string; port: number }
  /** A GET answers this status (default 200): the whole chain works, not only the socket. */
  | { kind: 'http'; url: string; status?: number }
  /** A line of stdout or stderr matches (e.g. a node:cluster primary's "ready" once all workers listen). */
  | { kind: 'line'; pattern: RegExp }
  | { kind: 'none' };

export interface ProcessSpec {
  /** How errors and reports name it: `nginx (backend)`. */
  name: string;
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Every condition must hold, in order. */
  ready: Readiness[];
  readyTimeoutMs?: number;
  /** Time between SIGTERM and SIGKILL to the group on stop. */
  stopGraceMs?: number;
}

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  /** Set once the process has exited. */
  readonly exit: ProcessExit | undefined;
  /** The first OUTPUT_LIMIT bytes of each stream. */
  stdout(): string;
  stderr(): string;
  /** The most telling line of the output (see first-error-line.ts). */
  problem(): string;
  /** SIGTERM to the group, SIGKILL after the grace time; idempotent. */
  stop(): Promise<void>;
}

const OUTPUT_LIMIT = 64 * 1024;
const DEFAULT_READY_MS = 15_000;
const DEFAULT_GRACE_MS = 3_000;

// Groups still alive: killed synchronously if the harness exits without
// closing its scopes (an uncaught error, process.exit), so no peer outlives it.
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function trackGroup(pid: number): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const group of liveGroups) killGroup(group, 'SIGKILL');
    });
  }
  liveGroups.add(pid);
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** `exit code 1` or `signal SIGKILL`. */
export function describeExit(exit: ProcessExit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}

function capture(stream: NodeJS.ReadableStream | null): () => string {
  const chunks: Buffer[] = [];
  let size = 0;
  stream?.on('data', (chunk: Buffer) => {
    if (size >= OUTPUT_LIMIT) return;
    const part = chunk.subarray(0, OUTPUT_LIMIT - size);
    chunks.push(part);
    size += part.length;
  });
  return () => Buffer.concat(chunks).toString('utf8');
}

/** Resolves the path of an executable on PATH, or undefined. */
export async function findExecutable(name: string): Promise<string | undefined> {
  if (name.includes('/')) {
    return access(name, constants.X_OK).then(
      () => name,
      () => undefined,
    );
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const path = join(dir, name);
    const ok = await access(path, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok) return path;
  }
  return undefined;
}

/**
 * Starts a process, registers its stop on scope, and waits until it is ready.
 * Rejects (after killing it) when it exits early or is not ready in time.
 */
export async function startProcess(
  scope: Scope,
  spec: ProcessSpec,
  signal?: AbortSignal,
): Promise<ManagedProcess> {
  let child: ChildProcess;
  try {
    child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true, // its own process group: stop() reaches workers it forks
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    throw BenchErrors.SPAWN_FAILED(spec.name, (error as Error).message);
  }
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once('spawn', () => resolve(undefined));
    child.once('error', (error) => resolve(error));
  });
  if (spawned !== undefined || child.pid === undefined) {
    throw BenchErrors.SPAWN_FAILED(spec.name, spawned?.message ?? 'no pid');
  }
  const pid = child.pid;
  trackGroup(pid);
  child.on('error', () => {}); // later errors (a failed kill) must not crash the harness

  const stdout = capture(child.stdout);
  const stderr = capture(child.stderr);
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('exit', (code, sig) => {
      exit = { code, signal: sig };
      resolve(exit);
    });
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exit === undefined) {
        killGroup(pid, 'SIGTERM');
        await Promise.race([exited, sleep(spec.stopGraceMs ?? DEFAULT_GRACE_MS)]);
      }
      // The leader may be gone while workers it forked still run: always finish the group.
      killGroup(pid, 'SIGKILL');
      if (exit === undefined) await Promise.race([exited, sleep(1000)]);
      liveGroups.delete(pid);
    })();
    return stopping;
  };
  scope.defer(stop);

  const managed: ManagedProcess = {
    name: spec.name,
    pid,
    get exit() {
      return exit;
    },
    stdout,
    stderr,
    problem: () => firstErrorLine(`${stderr()}\n${stdout()}`),
    stop,
  };

  try {
    await waitReady(managed, spec, signal);
  } catch (error) {
    await stop();
    throw error;
  }
  return managed;
}

async function waitReady(
  proc: ManagedProcess,
  spec: ProcessSpec,
  signal?: AbortSignal,
): Promise<void> {
  const timeoutMs = spec.readyTimeoutMs ?? DEFAULT_READY_MS;
  const deadline = Date.now() + timeoutMs;
  for (const ready of spec.ready) {
    let last = '';
    for (;;) {
      if (signal?.aborted) throw BenchErrors.ABORTED(`while waiting for ${spec.name}`);
      if (proc.exit !== undefined) {
        await sleep(50); // let the last output arrive
        throw BenchErrors.PROCESS_EXITED(spec.name, describeExit(proc.exit), proc.problem());
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        const detail = [last, proc.problem()].filter((s) => s !== '').join('; ');
        throw BenchErrors.NOT_READY(spec.name, describeReadiness(ready), timeoutMs, detail);
      }
      const check = await checkOnce(ready, proc, Math.min(1000, remaining));
      if (check.ok) break;
      last = check.detail;
      await sleep(Math.min(100, Math.max(0, deadline - Date.now())), signal);
    }
  }
}

function describeReadiness(ready: Readiness): string {
  switch (ready.kind) {
    case 'port':
      return `waiting for ${ready.host}:${ready.port} to accept connections`;
    case 'http':
      return `waiting for GET ${ready.url} to answer ${ready.status ?? 200}`;
    case 'line':
      return `waiting for output matching ${ready.pattern}`;
    case 'none':
      return 'nothing';
  }
}

async function checkOnce(
  ready: Readiness,
  proc: ManagedProcess,
  timeoutMs: number,
): Promise<{ ok: boolean; detail: string }> {
  switch (ready.kind) {
    case 'none':
      return { ok: true, detail: '' };
    case 'port': {
      const ok = await canConnect(ready.host, ready.port, timeoutMs);
      return { ok, detail: ok ? '' : 'connection refused' };
    }
    case 'http': {
      const answer = await httpGet(ready.url, timeoutMs);
      const want = ready.status ?? 200;
      if (answer.status === want) return { ok: true, detail: '' };
      return {
        ok: false,
        detail:
          answer.status !== undefined
            ? `last answer: ${answer.status}`
            : `last error: ${answer.error}`,
      };
    }
    case 'line': {
      const ok = ready.pattern.test(proc.stdout()) || ready.pattern.test(proc.stderr());
      return { ok, detail: ok ? '' : 'no such line yet' };
    }
  }
}

export interface CommandResult {
  stdout: string;
  stderr: string;
  exit: ProcessExit;
  elapsedMs: number;
}

/**
 * Runs a command to completion (a load tool run, `nginx -v`), bounded by
 * timeoutMs: past it the group is killed and COMMAND_TIMEOUT thrown.
 */
export async function runCommand(
  command: string,
  args: string[],
  options: { timeoutMs: number; signal?: AbortSignal; cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<CommandResult> {
  const shown = [command, ...args].join(' ');
  const started = Date.now();
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = capture(child.stdout);
  const stderr = capture(child.stderr);
  let timedOut = false;
  let aborted = false;
  const result = await new Promise<ProcessExit | Error>((resolve) => {
    child.once('error', (error) => resolve(error));
    child.once('spawn', () => {
      if (child.pid !== undefined) trackGroup(child.pid);
    });
    child.once('close', (code, sig) => resolve({ code, signal: sig }));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('close', () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    });
    child.once('error', () => clearTimeout(timer));
  });
  if (child.pid !== undefined) {
    killGroup(child.pid, 'SIGKILL'); // anything it left behind in its group
    liveGroups.delete(child.pid);
  }
  if (result instanceof Error) throw BenchErrors.SPAWN_FAILED(command, result.message);
  if (aborted) throw BenchErrors.ABORTED(`while running ${shown}`);
  if (timedOut) throw BenchErrors.COMMAND_TIMEOUT(shown, options.timeoutMs);
  return { stdout: stdout(), stderr: stderr(), exit: result, elapsedMs: Date.now() - started };
}
