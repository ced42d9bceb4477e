// Runs a tool like run-command.ts does, but in a process started ahead of
// time: a spare `sh` that waits for one line (the tool's argv, each word
// single-quoted) and then execs the tool, whose stdin is the rest of the
// pipe. The spare is started while the agent is idle, so a pod ADD does not
// pay for it.
//
// Why: libuv starts a child with fork(), and forking the agent (a Node.js
// process of ~150 MB resident) blocks its event loop for about 3 ms
// (measured: the largest single cost of a pod ADD, whose pod-side `ip -n
// <pod> -batch -` is such a child). The spare's fork happens between
// requests; taking it costs a pipe write, and the exec of the tool then
// overlaps whatever the caller does before the input is known.
//
// dash and bash read a pipe one byte at a time for `read`, so the shell
// consumes exactly the argv line and leaves the input to the tool.

import { type ChildProcess, spawn } from 'node:child_process';
import { type CommandResult, collectChild, type RunOptions } from './run-command.ts';

/** Reads one line, then becomes the command it names. */
const WAIT_THEN_EXEC = 'IFS= read -r command || exit 127; eval "exec $command"';

export interface PrestartedRunner {
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
  /** Ends the spare; a later run() starts one again. */
  close(): void;
}

/** `'it'\''s'`: one shell word whatever the value holds (newlines included). */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The line a spare reads: the argv as shell words, on one line. */
export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0) throw new RangeError('an empty command');
  if (argv.some((word) => word.includes('\n'))) {
    throw new RangeError(`a command word holds a newline: ${JSON.stringify(argv)}`);
  }
  return `${argv.map(shellQuote).join(' ')}\n`;
}

export function createPrestartedRunner(): PrestartedRunner {
  let spare: ChildProcess | undefined;
  let refill: NodeJS.Immediate | undefined;
  let closed = false;

  const startShell = () => spawn('sh', ['-c', WAIT_THEN_EXEC], { stdio: ['pipe', 'pipe', 'pipe'] });

  const startSpare = () => {
    refill = undefined;
    if (closed || spare !== undefined) return;
    const child = startShell();
    // A spare that dies unused (killed from outside) is dropped; the next run starts its own.
    child.on('exit', () => {
      if (spare === child) spare = undefined;
    });
    child.on('error', () => {
      if (spare === child) spare = undefined;
    });
    child.stdin?.on('error', () => {});
    spare = child;
  };

  /**
   * The next spare starts once a run has finished, a loop turn later: after
   * the caller's continuation (the CNI answer) has gone out, not during it.
   */
  const scheduleSpare = () => {
    if (!closed && spare === undefined && refill === undefined) refill = setImmediate(startSpare);
  };

  const take = (): ChildProcess => {
    const child = spare;
    spare = undefined;
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.removeAllListeners('exit');
      child.removeAllListeners('error');
      return child;
    }
    return startShell();
  };

  return {
    run(argv, options = {}) {
      let line: string;
      try {
        line = commandLine(argv);
      } catch (error) {
        return Promise.reject(error);
      }
      closed = false;
      return collectChild(take(), options, line, scheduleSpare);
    },
    close() {
      closed = true;
      if (refill !== undefined) clearImmediate(refill);
      refill = undefined;
      spare?.kill();
      spare = undefined;
    },
  };
}
