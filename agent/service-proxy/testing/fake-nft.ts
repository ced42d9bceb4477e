// A fake kernel for the service proxy's unit tests: the Nftables port's
// apply() and the NftReader, over an in-memory table that understands the
// commands the proxy's planner writes, with the kernel's rules that matter
// for ordering: a transaction applies whole or not at all; a chain or set in
// use (by a rule or a verdict-map element) cannot be deleted; a rule or an
// element cannot name a chain or set that does not exist; an element cannot
// be added twice or deleted when absent.
//
// Maintained code (convention 3): test/service-proxy.test.ts holds the real
// nft to the same scripts, so a difference between the two shows up there.

import type { NetnsOption } from '../../netlink.ts';
import type { NftReader } from '../../nftables/read.ts';
import type { Nftables, NftTable } from '../../nftables.ts';

interface FakeSet {
  kind: 'set' | 'map';
  decl: string;
  elements: Map<string, string>;
}

interface FakeTable {
  family: string;
  name: string;
  comment: string;
  chains: Map<string, string[]>;
  sets: Map<string, FakeSet>;
}

/** The table as sorted text: chains with their rules, sets with their elements. */
export type TableSnapshot = Record<string, string[]>;

export interface FakeNft extends Nftables, NftReader {
  readonly scripts: string[];
  /** Makes the next apply() fail, changing nothing. */
  failNext(message: string): void;
  /** What someone else might do: `nft flush table` (rules go, chains and sets stay). */
  flushTable(family: string, name: string): void;
  deleteTable(family: string, name: string): void;
  snapshot(
    family: string,
    name: string,
    options?: { except?: string[] },
  ): TableSnapshot | undefined;
}

const clone = (t: FakeTable): FakeTable => ({
  ...t,
  chains: new Map([...t.chains].map(([k, v]) => [k, [...v]])),
  sets: new Map([...t.sets].map(([k, s]) => [k, { ...s, elements: new Map(s.elements) }])),
});

export function createFakeNft(): FakeNft {
  const tables = new Map<string, FakeTable>();
  const scripts: string[] = [];
  let injected: string | undefined;

  const apply = (script: string) => {
    const next = new Map([...tables].map(([k, t]) => [k, clone(t)]));
    const lines = script.split('\n');
    const fail = (i: number, why: string): never => {
      throw new Error(`fake nft: line ${i + 1}: ${why}: ${lines[i]}`);
    };
    const need = (i: number, family: string, name: string) => {
      const table = next.get(`${family} ${name}`);
      if (table === undefined) return fail(i, 'No such file or directory (table)');
      return table;
    };
    const emptyTable = (family: string, name: string): FakeTable => ({
      family,
      name,
      comment: '',
      chains: new Map(),
      sets: new Map(),
    });
    // Each command: its pattern, and what it does (a table block returns the line it ends on).
    const commands: [RegExp, (m: string[], i: number) => number | undefined][] = [
      [
        /^table (\w+) (\S+) \{\}$/,
        ([, family = '', name = '']) => {
          if (!next.has(`${family} ${name}`))
            next.set(`${family} ${name}`, emptyTable(family, name));
          return undefined;
        },
      ],
      [
        /^delete table (\w+) (\S+)$/,
        ([, family, name], i) => {
          if (!next.delete(`${family} ${name}`)) fail(i, 'No such file or directory (table)');
          return undefined;
        },
      ],
      [
        /^table (\w+) (\S+) \{$/,
        ([, family = '', name = ''], i) => {
          const table = next.get(`${family} ${name}`) ?? emptyTable(family, name);
          next.set(`${family} ${name}`, table);
          const end = readBlock(lines, i + 1, table, fail);
          checkReferences(table, (why) => fail(end, why));
          return end;
        },
      ],
      [
        /^add (set|map) (\w+) (\S+) (\S+) \{ (.*) \}$/,
        ([, kind, family = '', tableName = '', name = '', decl = ''], i) => {
          const table = need(i, family, tableName);
          if (table.sets.has(name)) fail(i, 'File exists (set)');
          table.sets.set(name, {
            kind: kind as 'set' | 'map',
            decl: decl.replace(/;\s*/g, '; ').trim(),
            elements: new Map(),
          });
          return undefined;
        },
      ],
      [
        /^add chain (\w+) (\S+) (\S+)$/,
        ([, family = '', tableName = '', name = ''], i) => {
          const table = need(i, family, tableName);
          if (table.chains.has(name)) fail(i, 'File exists (chain)');
          table.chains.set(name, []);
          return undefined;
        },
      ],
      [
        /^flush chain (\w+) (\S+) (\S+)$/,
        ([, family = '', tableName = '', name = ''], i) => {
          const table = need(i, family, tableName);
          if (!table.chains.has(name)) fail(i, 'No such file or directory (chain)');
          table.chains.set(name, []);
          return undefined;
        },
      ],
      [
        /^delete chain (\w+) (\S+) (\S+)$/,
        ([, family = '', tableName = '', name = ''], i) => {
          const table = need(i, family, tableName);
          if (!table.chains.has(name)) fail(i, 'No such file or directory (chain)');
          if ((table.chains.get(name) ?? []).length > 0) fail(i, 'Device or resource busy (rules)');
          if (chainInUse(table, name)) fail(i, 'Device or resource busy (in use)');
          table.chains.delete(name);
          return undefined;
        },
      ],
      [
        /^delete (set|map) (\w+) (\S+) (\S+)$/,
        ([, , family = '', tableName = '', name = ''], i) => {
          const table = need(i, family, tableName);
          if (!table.sets.has(name)) fail(i, 'No such file or directory (set)');
          if (setInUse(table, name)) fail(i, 'Device or resource busy (set in use)');
          table.sets.delete(name);
          return undefined;
        },
      ],
      [
        /^add rule (\w+) (\S+) (\S+) (.+)$/,
        ([, family = '', tableName = '', chain = '', rule = ''], i) => {
          const table = need(i, family, tableName);
          const rules = table.chains.get(chain);
          if (rules === undefined) return fail(i, 'No such file or directory (chain)');
          for (const ref of referencesOf(rule)) {
            if (ref.kind === 'chain' && !table.chains.has(ref.name))
              fail(i, `No such file or directory (chain ${ref.name})`);
            if (ref.kind === 'set' && !table.sets.has(ref.name))
              fail(i, `No such file or directory (set ${ref.name})`);
          }
          rules.push(rule);
          return undefined;
        },
      ],
      [
        /^(add|delete) element (\w+) (\S+) (\S+) \{ (.*) \}$/,
        ([, verb, family = '', tableName = '', name = '', items = ''], i) => {
          const table = need(i, family, tableName);
          const set = table.sets.get(name);
          if (set === undefined) return fail(i, 'No such file or directory (set)');
          for (const item of items.split(', ')) {
            const [key = '', value = ''] = item.split(' : ');
            if (verb === 'add') {
              if (set.elements.has(key)) fail(i, `File exists (element ${key})`);
              const target = /^(?:goto|jump) (\S+)$/.exec(value);
              if (target !== null && !table.chains.has(target[1] as string))
                fail(i, `No such file or directory (chain ${target[1]})`);
              set.elements.set(key, value);
            } else if (!set.elements.delete(key)) {
              fail(i, `No such file or directory (element ${key})`);
            }
          }
          return undefined;
        },
      ],
    ];
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line === '' || line.startsWith('#')) continue;
      let handled = false;
      for (const [pattern, handle] of commands) {
        const m = pattern.exec(line);
        if (m === null) continue;
        i = handle([...m], i) ?? i;
        handled = true;
        break;
      }
      if (!handled) fail(i, 'fake nft does not know this command');
    }
    tables.clear();
    for (const [k, t] of next) tables.set(k, t);
  };

  return {
    scripts,
    failNext(message) {
      injected = message;
    },
    async apply(script: string, _options?: NetnsOption) {
      if (injected !== undefined) {
        const message = injected;
        injected = undefined;
        throw new Error(`fake nft: ${message}`);
      }
      apply(script);
      scripts.push(script);
    },
    async tables(): Promise<NftTable[]> {
      return [...tables.values()].map(({ family, name }) => ({ family, name }));
    },
    async listTable(family: string, name: string) {
      const snap = snapshotOf(tables.get(`${family} ${name}`));
      return snap === undefined ? undefined : JSON.stringify(snap, null, 1);
    },
    async chainComments(family, table, chain) {
      const rules = tables.get(`${family} ${table}`)?.chains.get(chain);
      return rules?.map((r) => /comment "([^"]*)"/.exec(r)?.[1] ?? '');
    },
    async setSize(family, table, _kind, name) {
      return tables.get(`${family} ${table}`)?.sets.get(name)?.elements.size;
    },
    flushTable(family, name) {
      const table = tables.get(`${family} ${name}`);
      if (table === undefined) return;
      for (const chain of table.chains.keys()) table.chains.set(chain, []);
    },
    deleteTable(family, name) {
      tables.delete(`${family} ${name}`);
    },
    snapshot(family, name, options = {}) {
      return snapshotOf(tables.get(`${family} ${name}`), options.except ?? []);
    },
  };
}

function snapshotOf(
  table: FakeTable | undefined,
  except: string[] = [],
): TableSnapshot | undefined {
  if (table === undefined) return undefined;
  const out: TableSnapshot = {};
  for (const [name, rules] of [...table.chains].sort(([a], [b]) => a.localeCompare(b))) {
    if (!except.includes(name)) out[`chain ${name}`] = rules;
  }
  for (const [name, set] of [...table.sets].sort(([a], [b]) => a.localeCompare(b))) {
    if (except.includes(name)) continue;
    out[`${set.kind} ${name} { ${set.decl} }`] = [...set.elements]
      .map(([k, v]) => (v === '' ? k : `${k} : ${v}`))
      .sort();
  }
  return out;
}

/** Reads `chain`/`set`/`map` blocks up to the table's closing brace; returns that line's index. */
function readBlock(
  lines: string[],
  start: number,
  table: FakeTable,
  fail: (i: number, why: string) => never,
): number {
  for (let i = start; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '}') return i;
    if (line === '') continue;
    const comment = /^comment "(.*)"$/.exec(line);
    if (comment !== null) {
      table.comment = comment[1] as string;
      continue;
    }
    const head = /^(chain|set|map) (\S+) \{$/.exec(line);
    if (head === null) fail(i, 'fake nft does not know this table line');
    const kind = head?.[1] as string;
    const name = head?.[2] as string;
    const body: string[] = [];
    for (i++; i < lines.length && (lines[i] as string).trim() !== '}'; i++)
      body.push((lines[i] as string).trim());
    if (kind === 'chain') {
      if (table.chains.has(name)) fail(i, 'File exists (chain)');
      table.chains.set(
        name,
        body.filter((l) => !l.startsWith('type ')),
      );
    } else {
      if (table.sets.has(name)) fail(i, 'File exists (set)');
      table.sets.set(name, {
        kind: kind as 'set' | 'map',
        decl: body.map((l) => `${l};`).join(' '),
        elements: new Map(),
      });
    }
  }
  return fail(lines.length - 1, 'unterminated table block');
}

function referencesOf(rule: string): { kind: 'chain' | 'set'; name: string }[] {
  const out: { kind: 'chain' | 'set'; name: string }[] = [];
  for (const m of rule.matchAll(/\b(?:goto|jump) (\S+)/g))
    out.push({ kind: 'chain', name: m[1] as string });
  for (const m of rule.matchAll(/@([^\s{},]+)/g)) out.push({ kind: 'set', name: m[1] as string });
  return out;
}

function checkReferences(table: FakeTable, fail: (why: string) => never): void {
  for (const rules of table.chains.values()) {
    for (const rule of rules) {
      for (const ref of referencesOf(rule)) {
        if (ref.kind === 'chain' && !table.chains.has(ref.name))
          fail(`No such file or directory (chain ${ref.name})`);
        if (ref.kind === 'set' && !table.sets.has(ref.name))
          fail(`No such file or directory (set ${ref.name})`);
      }
    }
  }
}

function chainInUse(table: FakeTable, name: string): boolean {
  for (const rules of table.chains.values()) {
    for (const rule of rules) {
      if (referencesOf(rule).some((r) => r.kind === 'chain' && r.name === name)) return true;
    }
  }
  for (const set of table.sets.values()) {
    for (const value of set.elements.values()) {
      if (value === `goto ${name}` || value === `jump ${name}`) return true;
    }
  }
  return false;
}

function setInUse(table: FakeTable, name: string): boolean {
  for (const rules of table.chains.values()) {
    for (const rule of rules) {
      if (referencesOf(rule).some((r) => r.kind === 'set' && r.name === name)) return true;
    }
  }
  return false;
}
