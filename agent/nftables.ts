// The Nftables port: the agent's only way to change or read nftables.
//
// A change is one nft script applied as one atomic transaction (`nft -f`):
// the kernel swaps the whole ruleset change in at once or not at all, so
// packets never meet a half-written table. Implementations:
// nftables/nft.ts runs the nft tool, nftables/fake.ts keeps tables in memory
// for unit tests; both pass nftables/nftables.case.ts.
//
// Scripts own whole tables: to replace one idempotently, write
// `table ip x {}` (creates it if missing), `delete table ip x`, then the full
// `table ip x { ... }`, all in one script.

import type { NetnsOption } from './netlink.ts';

export interface NftTable {
  family: string;
  name: string;
}

export interface Nftables {
  /** Applies the script as one transaction; rejects (changing nothing) when nft refuses it. */
  apply(script: string, options?: NetnsOption): Promise<void>;
  /** The tables that exist. */
  tables(options?: NetnsOption): Promise<NftTable[]>;
  /** One table as `nft list table` prints it; undefined when it does not exist. */
  listTable(family: string, name: string, options?: NetnsOption): Promise<string | undefined>;
}

/** The table's `comment "..."`, from a listing: where the agent keeps the digest of what it wrote. */
export function tableComment(listing: string): string | undefined {
  const match = /^\s*comment\s+"((?:[^"\\]|\\.)*)"\s*$/m.exec(listing);
  return match?.[1];
}
