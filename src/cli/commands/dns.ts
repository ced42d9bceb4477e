// `pier dns`: cluster DNS as its own process. Not built yet.

import type { CommandContext, OptionSpec } from '../command.ts';
import { notBuilt } from './not-built.ts';

export const name = 'dns';
export const summary = 'Run cluster DNS (not built yet)';
export const usage = 'pier dns';
export const description =
  'Cluster DNS: Service and pod names from the Store, a forwarder and a cache.';
export const options: readonly OptionSpec[] = [];

export function run(ctx: CommandContext): number {
  return notBuilt(ctx, name, 'pier start runs what exists today in one process.');
}
