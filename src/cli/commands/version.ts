// `pier version`: what is running, for bug reports. Loads nothing else.

import { type CommandContext, ExitCode, type OptionSpec } from '../command.ts';

export const name = 'version';
export const summary = 'Print the Pier, Node.js and platform versions';
export const usage = 'pier version';
export const options: readonly OptionSpec[] = [];

export function run(ctx: CommandContext): number {
  ctx.stdout.write(
    `pier ${ctx.version}\nnode ${process.version}\nplatform ${process.platform} ${process.arch}\n`,
  );
  return ExitCode.ok;
}
