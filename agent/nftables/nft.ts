// The Nftables port on the nft tool: `nft -f -` reads the whole script and
// commits it as one transaction. Another network namespace is entered with
// `nsenter --net` (nft has no namespace flag).

import { AgentErrors } from '../errors.ts';
import type { NetnsOption } from '../netlink.ts';
import type { Nftables, NftTable } from '../nftables.ts';
import { runCommand } from '../run-command.ts';

export interface NftOptions {
  nft?: string;
  nsenter?: string;
  timeoutMs?: number;
  /** The namespace (a path) to treat as the agent's own: tests use one they made. */
  ownNetns?: string;
}

export function createNftables(options: NftOptions = {}): Nftables {
  const nft = options.nft ?? 'nft';
  const nsenter = options.nsenter ?? 'nsenter';
  const timeoutMs = options.timeoutMs ?? 15_000;
  const argv = (args: string[], given: string | undefined) => {
    const netns = given ?? options.ownNetns;
    return netns === undefined ? [nft, ...args] : [nsenter, `--net=${netns}`, nft, ...args];
  };

  const run = async (args: string[], netns: string | undefined, input?: string) => {
    const command = argv(args, netns);
    try {
      return { command, ...(await runCommand(command, { input, timeoutMs })) };
    } catch (error) {
      throw AgentErrors.COMMAND_FAILED(command.join(' '), (error as Error).message);
    }
  };

  return {
    async apply(script, { netns }: NetnsOption = {}) {
      const result = await run(['-f', '-'], netns, script);
      if (result.code !== 0) {
        throw AgentErrors.COMMAND_FAILED(
          result.command.join(' '),
          result.stderr.trim() || `exit ${result.code ?? result.signal}`,
        );
      }
    },
    async tables({ netns }: NetnsOption = {}) {
      const result = await run(['-j', 'list', 'tables'], netns);
      if (result.code !== 0) {
        throw AgentErrors.COMMAND_FAILED(result.command.join(' '), result.stderr.trim());
      }
      const parsed = JSON.parse(result.stdout) as { nftables?: { table?: NftTable }[] };
      return (parsed.nftables ?? [])
        .flatMap((item) => (item.table === undefined ? [] : [item.table]))
        .map(({ family, name }) => ({ family, name }));
    },
    async listTable(family, name, { netns }: NetnsOption = {}) {
      const result = await run(['list', 'table', family, name], netns);
      if (result.code === 0) return result.stdout;
      if (/No such file or directory/.test(result.stderr)) return undefined;
      throw AgentErrors.COMMAND_FAILED(result.command.join(' '), result.stderr.trim());
    },
  };
}
