// The benchmark harness's error table (convention 9). A benchmark never
// crashes on a peer that misbehaves: these errors end up in that peer's row
// ("failed to start: ...") or, for bad options, as one clear line to the user.

import { errorTable } from '../../src/errors.ts';

export const BenchErrors = errorTable('BENCH', {
  BAD_OPTION: (option: string, value: string, expected: string) =>
    `option ${option}=${JSON.stringify(value)} is invalid: expected ${expected}`,
  UNKNOWN_BENCHMARK: (name: string, known: string) =>
    `no benchmark named "${name}"; known benchmarks: ${known}`,
  MISSING_TOOL: (tool: string, hint: string) => `${tool} is not installed or not on PATH: ${hint}`,
  PROCESS_EXITED: (name: string, how: string, detail: string) =>
    `${name} exited before it was ready (${how})${detail === '' ? '' : `: ${detail}`}`,
  NOT_READY: (name: string, what: string, ms: number, detail: string) =>
    `${name} was not ready after ${ms} ms (${what})${detail === '' ? '' : `: ${detail}`}`,
  SPAWN_FAILED: (name: string, reason: string) => `could not start ${name}: ${reason}`,
  COMMAND_TIMEOUT: (command: string, ms: number) =>
    `${command} did not finish within ${ms} ms and was killed; check that the target answers`,
  COMMAND_FAILED: (command: string, how: string, detail: string) =>
    `${command} failed (${how})${detail === '' ? '' : `: ${detail}`}`,
  BAD_TOOL_OUTPUT: (tool: string, what: string) => `could not read ${tool}'s output: ${what}`,
  ABORTED: (why: string) => `benchmark aborted: ${why}`,
});
