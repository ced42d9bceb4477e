// `pier cni`: the CNI plugin executable. The container runtime runs it with
// CNI_COMMAND and friends in the environment and the network config on
// stdin, often with no arguments at all; bin/pier.ts routes that case here.
// Not built yet: it says so on stderr and exits 2 (the CNI issue replaces
// run() with the plugin protocol: a JSON result or error on stdout).

import type { CommandContext, OptionSpec } from '../command.ts';
import { notBuilt } from './not-built.ts';

export const name = 'cni';
export const summary = 'The CNI plugin executable, run by the container runtime (not built yet)';
export const usage = 'pier cni   (or pier with CNI_COMMAND set, as the runtime calls it)';
export const description =
  'Run by the container runtime (CNI_COMMAND=ADD|DEL|CHECK|VERSION), not by hand.';
export const options: readonly OptionSpec[] = [];

export function run(ctx: CommandContext): number {
  return notBuilt(ctx, name, 'Pods get no network from Pier yet.');
}
