// Runs one tool (ip, bridge, nft, nsenter) as a child process with input on
// stdin, and hands back its exit status and output. The ports' real
// implementations are built on this; nothing here interprets the output.
//
// A timeout kills the child, so a wedged tool cannot hang a CNI request.

import { spawn } from 'node:child_process';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** stdin; a promise starts the process now and writes once it resolves (nothing if it rejects). */
  input?: string | Promise<string>;
  timeoutMs?: number;
}

export function runCommand(
  argv: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (file === undefined) return Promise.reject(new Error('runCommand: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // EPIPE when the tool exits before reading all input: its exit status says why.
    child.stdin.on('error', () => {});
    const input = options.input ?? '';
    if (typeof input === 'string') child.stdin.end(input);
    else
      input.then(
        (text) => child.stdin.end(text),
        () => child.stdin.end(),
      );
  });
}
