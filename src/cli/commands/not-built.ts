// What a command that is not built yet does: says so, points at what works
// today, and exits 2. It never pretends to run.

import { type CommandContext, ExitCode } from '../command.ts';
import { CliErrors } from '../errors.ts';

export function notBuilt(ctx: CommandContext, command: string, instead: string): number {
  const error = CliErrors.NOT_BUILT(command, instead);
  ctx.stderr.write(`${error.message} (${error.code})\n`);
  return ExitCode.usage;
}
