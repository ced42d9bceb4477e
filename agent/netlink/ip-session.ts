// One long-lived `ip -o -force -batch -` in the agent's own namespace, fed a
// line at a time: a change costs a pipe round trip instead of a process
// start (a few milliseconds on a busy node, most of a pod ADD's kernel work).
//
// iproute2 flushes its output after every batch line, so each command is
// followed by a sentinel (`link show dev lo`, one line with -o, lo being
// ifindex 1 in every namespace) and everything printed before the
// sentinel's line is that command's own output: nothing on success,
// "Command failed -:<n>" after iproute2's message on failure. stderr is
// joined to stdout (2>&1), so the two arrive in the order written.
//
// Commands run one at a time; a session whose process died is restarted on
// the next command.

import { type ChildProcess, spawn } from 'node:child_process';

export interface IpSession {
  /** Runs one batch line; resolves to '' on success or iproute2's error text. */
  run(line: string): Promise<string>;
  close(): void;
}

const SENTINEL = 'link show dev lo';
const SENTINEL_OUTPUT = /^1: lo: /;

/** `command`: how to start ip (`['ip']`, or `['ip', '-n', 'ns1']`); the session adds its flags. */
export function createIpSession(
  command: readonly string[] = ['ip'],
  timeoutMs = 15_000,
): IpSession {
  let child: ChildProcess | undefined;
  let buffer = '';
  let pending:
    | { resolve: (text: string) => void; reject: (error: Error) => void; output: string[] }
    | undefined;
  let queue = Promise.resolve();

  const start = () => {
    const proc = spawn('sh', ['-c', 'exec "$@" -o -force -batch - 2>&1', 'sh', ...command], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let newline = buffer.indexOf('\n');
      while (newline !== -1) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (pending !== undefined) {
          if (SENTINEL_OUTPUT.test(line)) {
            const done = pending;
            pending = undefined;
            done.resolve(done.output.join('\n'));
          } else {
            pending.output.push(line);
          }
        }
        newline = buffer.indexOf('\n');
      }
    });
    proc.stdin?.on('error', () => {});
    proc.on('exit', (code, signal) => {
      if (child === proc) child = undefined;
      buffer = '';
      const failed = pending;
      pending = undefined;
      failed?.reject(new Error(`ip -batch session exited (${code ?? signal})`));
    });
    proc.on('error', (error) => {
      const failed = pending;
      pending = undefined;
      failed?.reject(error);
    });
    child = proc;
    return proc;
  };

  const runNow = (line: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const proc = child ?? start();
      const timer = setTimeout(() => {
        pending = undefined;
        proc.kill('SIGKILL');
        reject(new Error(`ip -batch session did not answer "${line}" within ${timeoutMs} ms`));
      }, timeoutMs);
      pending = {
        resolve: (text) => {
          clearTimeout(timer);
          resolve(text.trim());
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
        output: [],
      };
      proc.stdin?.write(`${line}\n${SENTINEL}\n`);
    });

  return {
    run(line) {
      if (line.includes('\n')) return Promise.reject(new Error('one batch line at a time'));
      const result = queue.then(() => runNow(line));
      queue = result.then(
        () => {},
        () => {},
      );
      return result;
    },
    close() {
      child?.stdin?.end();
      child?.kill();
      child = undefined;
    },
  };
}
