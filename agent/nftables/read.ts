// Reading small parts of a table back from the kernel, as JSON
// (`nft -j list chain|set|map ...`): cheap checks that do not list a whole
// table of thousands of chains. The service proxy reads its generation
// marker this way before each sync, to notice a table someone flushed or
// deleted. Beside the Nftables port (nftables.ts), not part of it: the port's
// fake knows whole tables only; this one has its own (createFakeNftReader in
// the service proxy's testing/).

import { AgentErrors } from '../errors.ts';
import type { NetnsOption } from '../netlink.ts';
import { runCommand } from '../run-command.ts';
import type { NftOptions } from './nft.ts';

export interface NftReader {
  /**
   * The comments of a chain's rules, in order ('' for a rule without one);
   * undefined when the table or the chain does not exist.
   */
  chainComments(
    family: string,
    table: string,
    chain: string,
    options?: NetnsOption,
  ): Promise<string[] | undefined>;
  /** How many elements a set or map holds; undefined when it does not exist. */
  setSize(
    family: string,
    table: string,
    kind: 'set' | 'map',
    name: string,
    options?: NetnsOption,
  ): Promise<number | undefined>;
}

interface JsonItem {
  rule?: { chain?: string; comment?: string };
  set?: { elem?: unknown[] };
  map?: { elem?: unknown[] };
}

export function createNftReader(options: NftOptions = {}): NftReader {
  const nft = options.nft ?? 'nft';
  const nsenter = options.nsenter ?? 'nsenter';
  const timeoutMs = options.timeoutMs ?? 15_000;

  const list = async (
    args: string[],
    netns: string | undefined,
  ): Promise<JsonItem[] | undefined> => {
    const command =
      netns === undefined ? [nft, '-j', ...args] : [nsenter, `--net=${netns}`, nft, '-j', ...args];
    let result: Awaited<ReturnType<typeof runCommand>>;
    try {
      result = await runCommand(command, { timeoutMs });
    } catch (error) {
      throw AgentErrors.COMMAND_FAILED(command.join(' '), (error as Error).message);
    }
    if (result.code !== 0) {
      if (/No such file or directory/.test(result.stderr)) return undefined;
      throw AgentErrors.COMMAND_FAILED(
        command.join(' '),
        result.stderr.trim() || `exit ${result.code ?? result.signal}`,
      );
    }
    try {
      return ((JSON.parse(result.stdout) as { nftables?: JsonItem[] }).nftables ?? []).filter(
        (item) => typeof item === 'object' && item !== null,
      );
    } catch (error) {
      throw AgentErrors.COMMAND_FAILED(
        command.join(' '),
        `unreadable JSON (${(error as Error).message})`,
      );
    }
  };

  return {
    async chainComments(family, table, chain, { netns }: NetnsOption = {}) {
      const items = await list(['list', 'chain', family, table, chain], netns);
      if (items === undefined) return undefined;
      return items.flatMap((item) => (item.rule === undefined ? [] : [item.rule.comment ?? '']));
    },
    async setSize(family, table, kind, name, { netns }: NetnsOption = {}) {
      const items = await list(['list', kind, family, table, name], netns);
      if (items === undefined) return undefined;
      const found = items.find((item) => item[kind] !== undefined)?.[kind];
      return found === undefined ? undefined : (found.elem ?? []).length;
    },
  };
}
