// An in-memory Nftables for unit tests. It understands the statements the
// agent's scripts are made of, at table granularity: `table F N { ... }`
// (creates, or merges into an existing table as nft does: a second block
// appends), `add table`, `delete table`, `flush table` (empties it),
// `flush ruleset`, comments. A script applies atomically: on any error
// nothing changes. It does not check rule syntax: the real nft does, in the
// shared suite (nftables.case.ts) and the integration tests.

import type { NetnsOption } from '../netlink.ts';
import type { Nftables, NftTable } from '../nftables.ts';

export interface FakeNftables extends Nftables {
  /** Every script applied successfully, in order. */
  readonly scripts: string[];
  /** Makes the next apply() fail (once) with this message, changing nothing. */
  failNext(message: string): void;
}

interface Table {
  family: string;
  name: string;
  body: string[];
}

export function createFakeNftables(): FakeNftables {
  const rulesets = new Map<string, Map<string, Table>>();
  const scripts: string[] = [];
  let injected: string | undefined;

  const rulesetOf = (netns: string | undefined) => {
    const key = netns ?? 'self';
    let tables = rulesets.get(key);
    if (tables === undefined) {
      tables = new Map();
      rulesets.set(key, tables);
    }
    return tables;
  };

  return {
    scripts,
    failNext(message) {
      injected = message;
    },
    async apply(script, { netns }: NetnsOption = {}) {
      if (injected !== undefined) {
        const message = injected;
        injected = undefined;
        throw new Error(`fake nft: ${message}`);
      }
      const live = rulesetOf(netns);
      const next = new Map([...live].map(([k, t]) => [k, { ...t, body: [...t.body] }]));
      for (const statement of statements(script)) {
        const key = `${statement.family} ${statement.name}`;
        switch (statement.verb) {
          case 'table':
          case 'add': {
            const table = next.get(key) ?? {
              family: statement.family,
              name: statement.name,
              body: [],
            };
            table.body.push(...statement.body);
            next.set(key, table);
            break;
          }
          case 'delete':
            if (!next.delete(key)) {
              throw new Error(`fake nft: delete table ${key}: No such file or directory`);
            }
            break;
          case 'flush': {
            const table = next.get(key);
            if (table === undefined)
              throw new Error(`fake nft: flush table ${key}: No such file or directory`);
            table.body = [];
            break;
          }
          case 'flush-ruleset':
            next.clear();
            break;
        }
      }
      live.clear();
      for (const [k, t] of next) live.set(k, t);
      scripts.push(script);
    },
    async tables({ netns }: NetnsOption = {}) {
      return [...rulesetOf(netns).values()].map(({ family, name }): NftTable => ({ family, name }));
    },
    async listTable(family, name, { netns }: NetnsOption = {}) {
      const table = rulesetOf(netns).get(`${family} ${name}`);
      if (table === undefined) return undefined;
      return `table ${family} ${name} {\n${table.body.map((l) => `\t${l}`).join('\n')}\n}\n`;
    },
  };
}

type Statement =
  | { verb: 'table' | 'add' | 'delete' | 'flush'; family: string; name: string; body: string[] }
  | { verb: 'flush-ruleset'; family: ''; name: ''; body: [] };

/** Splits a script into top-level statements; a block's body is kept as trimmed lines. */
function statements(script: string): Statement[] {
  const out: Statement[] = [];
  const lines = script.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'flush ruleset') {
      out.push({ verb: 'flush-ruleset', family: '', name: '', body: [] });
      continue;
    }
    const head = /^(table|add table|delete table|flush table)\s+(\w+)\s+([\w.-]+)\s*(\{.*)?$/.exec(
      line,
    );
    if (head === null) throw new Error(`fake nft: unsupported statement: ${line}`);
    const verb = (head[1] as string).split(' ')[0] as 'table' | 'add' | 'delete' | 'flush';
    const family = head[2] as string;
    const name = head[3] as string;
    const body: string[] = [];
    let open = head[4];
    if (open !== undefined) {
      if (verb === 'delete' || verb === 'flush')
        throw new Error(`fake nft: unexpected block: ${line}`);
      let depth = braces(open);
      open = open.slice(1).trim();
      if (depth === 0) {
        // `table ip x { ... }` on one line
        const inner = open.replace(/\}\s*$/, '').trim();
        if (inner !== '') body.push(inner);
      } else {
        if (open !== '') body.push(open);
        while (depth > 0) {
          i++;
          if (i >= lines.length)
            throw new Error(`fake nft: unterminated block of table ${family} ${name}`);
          const inner = (lines[i] as string).trim();
          depth += braces(inner);
          if (depth === 0) {
            const last = inner.replace(/\}\s*$/, '').trim();
            if (last !== '') body.push(last);
          } else if (inner !== '') {
            body.push(inner);
          }
        }
      }
    }
    out.push({ verb, family, name, body });
  }
  return out;
}

/** Net change in brace depth on a line, ignoring braces in quoted strings. */
function braces(line: string): number {
  let depth = 0;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '{') depth++;
    else if (!quoted && ch === '}') depth--;
  }
  return depth;
}
