// Runs one tool (ip, bridge, nft, nsenter) as a child process with input on
// stdin, and hands back its exit status and output. The ports' real
// implementations are built on this; nothing here interprets the output.
//
// A timeout kills the child, so a wedged tool cannot hang a CNI request.

import { type ChildProcess, spawn } from 'node:child_process';

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
  const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  return collectChild(child, options);
}

/**
 * Collects a started child's output and exit status, killing it after
 * `timeoutMs`; `beforeInput` is written to stdin ahead of `input` (a
 * prestarted shell gets its command line that way). Shared by runCommand
 * and prestarted-command.ts.
 */
export function collectChild(
  child: ChildProcess,
  options: RunOptions,
  beforeInput = '',
  onClose?: () => void,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const stdin = child.stdin;
    if (stdin === null) {
      reject(new Error('a child process without stdin'));
      return;
    }
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => err.push(chunk));
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
      onClose?.();
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    // EPIPE when the tool exits before reading all input: its exit status says why.
    stdin.on('error', () => {});
    if (beforeInput !== '') stdin.write(beforeInput);
    const input = options.input ?? '';
    if (typeof input === 'string') stdin.end(input);
    else
      input.then(
        (text) => stdin.end(text),
        () => stdin.end(),
      );
  });
}
