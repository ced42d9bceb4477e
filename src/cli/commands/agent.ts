// `pier agent`: the node agent (pod network, service proxy). Not built yet.

import type { CommandContext, OptionSpec } from '../command.ts';
import { notBuilt } from './not-built.ts';

export const name = 'agent';
export const summary = 'Run the node agent: pod network, service proxy (not built yet)';
export const usage = 'pier agent';
export const description =
  'The node agent: IPAM and pod network, routes to other nodes, the Service proxy (nftables). One per node.';
export const options: readonly OptionSpec[] = [];

export function run(ctx: CommandContext): number {
  return notBuilt(ctx, name, 'pier start runs what exists today in one process.');
}
