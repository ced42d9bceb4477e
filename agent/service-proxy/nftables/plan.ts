// plan(desired, current) -> one nft transaction. Pure.
//
// Full (no current, or other options): the table is created if missing,
// deleted and written again, all in one script, so the kernel swaps the old
// table for the new one at once: traffic never meets an empty table, and a
// restarted agent's first sync replaces what the last one left.
//
// Incremental: only Services whose fragment changed are looked at (fragments
// are shared between rulesets while their Service is unchanged), and the
// commands are ordered so that every reference is valid at every step of
// the transaction:
//   1. new maps, sets and chains (empty)
//   2. deleted and changed map elements out
//   3. changed and removed chains flushed, changed and new chains filled
//   4. new and changed map elements in
//   5. removed chains, then removed sets and maps deleted
//
// The marker chain holds one rule, written by full plans only: its comment
// names the generation of the last full write. A table flushed (rules gone)
// or deleted loses it; incremental plans leave it alone, so they cannot
// hide such a loss (see nftables-proxier.ts: when the marker is read).

import { baseChains, baseSets, FAMILY, hairpinKey, Names, slotMapDef } from './layout.ts';
import type { ChainDef, Element, Fragment, Rule, Ruleset, SetDef } from './model.ts';
import {
  renderAddSet,
  renderChainBlock,
  renderElementCommands,
  renderRule,
  renderSetBlock,
  renderValue,
} from './render.ts';

export interface PlanStats {
  chainsAdded: number;
  chainsChanged: number;
  chainsRemoved: number;
  elementsAdded: number;
  elementsRemoved: number;
  /** Services whose fragment was compared (incremental) or written (full). */
  services: number;
}

export interface Plan {
  script: string;
  full: boolean;
  stats: PlanStats;
}

export const markerText = (generation: number) => `pier service proxy generation ${generation}`;

export function markerRule(generation: number): Rule {
  return { action: { marker: markerText(generation) } };
}

function sameOptions(a: Ruleset, b: Ruleset): boolean {
  const x = a.options;
  const y = b.options;
  return (
    x.table === y.table &&
    x.clusterCidr === y.clusterCidr &&
    x.masqueradeBit === y.masqueradeBit &&
    x.shards === y.shards
  );
}

export function plan(desired: Ruleset, current: Ruleset | undefined): Plan {
  if (current === undefined || !sameOptions(desired, current)) return planFull(desired);
  return planIncremental(desired, current);
}

/** Every set the ruleset declares: the shared ones, the slot maps in use, affinity sets. */
function allSets(ruleset: Ruleset): SetDef[] {
  const sets = baseSets();
  for (const [name, proto] of [...ruleset.slotMaps].sort(([a], [b]) => a.localeCompare(b)))
    sets.push(slotMapDef(name, proto));
  for (const fragment of ruleset.fragments.values()) sets.push(...fragment.sets);
  return sets;
}

/** The global elements: ClusterIPs (for the port check) and hairpin pairs. */
function globalElements(ruleset: Ruleset): Element[] {
  const out: Element[] = [];
  for (const ip of ruleset.clusterIPs) out.push({ set: Names.clusterIps, key: ip });
  for (const ip of ruleset.hairpin) out.push({ set: Names.hairpin, key: hairpinKey(ip) });
  return out;
}

function planFull(desired: Ruleset): Plan {
  const table = desired.options.table;
  const chains: ChainDef[] = baseChains(desired.options).map((c) =>
    c.name === Names.generation ? { ...c, rules: [markerRule(desired.generation)] } : c,
  );
  const elements: Element[] = [];
  for (const fragment of desired.fragments.values()) {
    chains.push(...fragment.chains);
    elements.push(...fragment.elements);
  }
  elements.push(...globalElements(desired));
  const lines: string[] = [
    `table ${FAMILY} ${table} {}`,
    `delete table ${FAMILY} ${table}`,
    `table ${FAMILY} ${table} {`,
    `\tcomment "pier service proxy"`,
  ];
  for (const set of allSets(desired)) lines.push(...renderSetBlock(set));
  for (const chain of chains) lines.push(...renderChainBlock(chain));
  lines.push('}');
  lines.push(...renderElementCommands('add', table, elements));
  lines.push('');
  return {
    script: lines.join('\n'),
    full: true,
    stats: {
      chainsAdded: chains.length,
      chainsChanged: 0,
      chainsRemoved: 0,
      elementsAdded: elements.length,
      elementsRemoved: 0,
      services: desired.fragments.size,
    },
  };
}

const chainText = (chain: ChainDef) => chain.rules.map(renderRule).join('\n');
const setText = (set: SetDef) => renderAddSet('', set);
const elementId = (e: Element) => `${e.set}\u0000${e.key}`;
const valueText = (e: Element) => (e.value === undefined ? '' : renderValue(e.value));

interface Diff {
  addChains: ChainDef[];
  fillChains: ChainDef[];
  flushChains: string[];
  removeChains: string[];
  addSets: SetDef[];
  removeSets: string[];
  addElements: Element[];
  removeElements: Element[];
  changed: number;
}

function diffFragments(a: Fragment | undefined, b: Fragment | undefined, diff: Diff): void {
  const before = new Map((a?.chains ?? []).map((c) => [c.name, c]));
  const after = new Map((b?.chains ?? []).map((c) => [c.name, c]));
  const setsBefore = new Map((a?.sets ?? []).map((s) => [s.name, s]));
  const setsAfter = new Map((b?.sets ?? []).map((s) => [s.name, s]));

  // A set whose declaration changed is dropped and made again: every chain
  // of the Service is rewritten, so nothing refers to the old one meanwhile.
  let rewriteAll = false;
  for (const [name, set] of setsBefore) {
    const next = setsAfter.get(name);
    if (next === undefined) diff.removeSets.push(name);
    else if (setText(next) !== setText(set)) {
      diff.removeSets.push(name);
      diff.addSets.push(next);
      rewriteAll = true;
    }
  }
  for (const [name, set] of setsAfter) if (!setsBefore.has(name)) diff.addSets.push(set);

  for (const [name, chain] of after) {
    const old = before.get(name);
    if (old === undefined) {
      diff.addChains.push(chain);
      diff.fillChains.push(chain);
    } else if (rewriteAll || chainText(old) !== chainText(chain)) {
      diff.flushChains.push(name);
      diff.fillChains.push(chain);
      diff.changed++;
    }
  }
  for (const name of before.keys()) {
    if (!after.has(name)) {
      diff.flushChains.push(name);
      diff.removeChains.push(name);
    }
  }
  diffElements(a?.elements ?? [], b?.elements ?? [], diff);
}

function diffElements(a: readonly Element[], b: readonly Element[], diff: Diff): void {
  const before = new Map(a.map((e) => [elementId(e), e]));
  const after = new Map(b.map((e) => [elementId(e), e]));
  for (const [id, e] of before) {
    const next = after.get(id);
    if (next === undefined || valueText(next) !== valueText(e)) diff.removeElements.push(e);
  }
  for (const [id, e] of after) {
    const old = before.get(id);
    if (old === undefined || valueText(old) !== valueText(e)) diff.addElements.push(e);
  }
}

function planIncremental(desired: Ruleset, current: Ruleset): Plan {
  const table = desired.options.table;
  const diff: Diff = {
    addChains: [],
    fillChains: [],
    flushChains: [],
    removeChains: [],
    addSets: [],
    removeSets: [],
    addElements: [],
    removeElements: [],
    changed: 0,
  };
  let services = 0;
  // Built from `current` itself: only the Services rebuilt since can differ.
  const names: Iterable<string> =
    desired.changedSince?.parent === current.id
      ? desired.changedSince.names
      : new Set([...current.fragments.keys(), ...desired.fragments.keys()]);
  for (const name of names) {
    const a = current.fragments.get(name);
    const b = desired.fragments.get(name);
    if (a === b) continue;
    services++;
    diffFragments(a, b, diff);
  }
  diffGlobal(current.clusterIPs, desired.clusterIPs, Names.clusterIps, (ip) => ip, diff);
  diffGlobal(current.hairpin, desired.hairpin, Names.hairpin, hairpinKey, diff);
  const newMaps = [...desired.slotMaps]
    .filter(([name]) => !current.slotMaps.has(name))
    .sort(([a], [b]) => a.localeCompare(b));
  const oldMaps = [...current.slotMaps.keys()].filter((name) => !desired.slotMaps.has(name));

  const prefix = `${FAMILY} ${table}`;
  const lines: string[] = [];
  for (const [name, proto] of newMaps) lines.push(renderAddSet(table, slotMapDef(name, proto)));
  for (const set of diff.addSets) {
    // A changed set is deleted below before it is added again: add it after that.
    if (!diff.removeSets.includes(set.name)) lines.push(renderAddSet(table, set));
  }
  for (const chain of diff.addChains) lines.push(`add chain ${prefix} ${chain.name}`);
  lines.push(...renderElementCommands('delete', table, diff.removeElements));
  for (const name of diff.flushChains) lines.push(`flush chain ${prefix} ${name}`);
  const replaced = diff.addSets.filter((s) => diff.removeSets.includes(s.name));
  for (const set of replaced) {
    lines.push(`delete ${set.kind} ${prefix} ${set.name}`);
    lines.push(renderAddSet(table, set));
  }
  for (const chain of diff.fillChains) {
    for (const rule of chain.rules)
      lines.push(`add rule ${prefix} ${chain.name} ${renderRule(rule)}`);
  }
  lines.push(...renderElementCommands('add', table, diff.addElements));
  for (const name of diff.removeChains) lines.push(`delete chain ${prefix} ${name}`);
  for (const name of diff.removeSets) {
    if (replaced.some((s) => s.name === name)) continue;
    lines.push(`delete set ${prefix} ${name}`);
  }
  for (const name of oldMaps) lines.push(`delete map ${prefix} ${name}`);
  lines.push('');
  return {
    script: lines.join('\n'),
    full: false,
    stats: {
      chainsAdded: diff.addChains.length,
      chainsChanged: diff.changed,
      chainsRemoved: diff.removeChains.length,
      elementsAdded: diff.addElements.length,
      elementsRemoved: diff.removeElements.length,
      services,
    },
  };
}

function diffGlobal(
  before: ReadonlySet<string>,
  after: ReadonlySet<string>,
  set: string,
  key: (ip: string) => string,
  diff: Diff,
): void {
  if (before === after) return;
  for (const ip of before) if (!after.has(ip)) diff.removeElements.push({ set, key: key(ip) });
  for (const ip of after) if (!before.has(ip)) diff.addElements.push({ set, key: key(ip) });
}
