// `pier gateway`: the edge gateway as its own process. Not built yet; the
// gateway issue replaces run() and takes settings: true.

import type { CommandContext, OptionSpec } from '../command.ts';
import { notBuilt } from './not-built.ts';

export const name = 'gateway';
export const summary = 'Run the edge gateway (not built yet)';
export const usage = 'pier gateway';
export const description =
  'The L4/L7 edge gateway (listeners, routes, upstreams) as its own process, one per replica.';
export const options: readonly OptionSpec[] = [];

export function run(ctx: CommandContext): number {
  return notBuilt(ctx, name, 'pier start runs what exists today in one process.');
}
