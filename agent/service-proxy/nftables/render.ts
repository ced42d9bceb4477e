// The model as nft text. One function per part, each the only place its
// syntax is written; golden tests (render.test.ts, plan.test.ts) hold it.

import { markHex } from './layout.ts';
import type { Action, ChainDef, Element, ElementValue, Match, Rule, SetDef } from './model.ts';

const quote = (text: string) => `"${text.replace(/["\\]/g, '')}"`;

function renderMatch(match: Match): string {
  if ('saddr' in match) return `ip saddr ${match.not === true ? '!= ' : ''}${match.saddr}`;
  if ('saddrLocal' in match) return 'fib saddr type local';
  if ('saddrIn' in match) return `ip saddr @${match.saddrIn}`;
  if ('random' in match) return `numgen random mod ${match.random} 0`;
  if ('ctNew' in match) return 'ct state new';
  if ('markClear' in match) return `meta mark & ${markHex(match.markClear)} == 0`;
  if ('hairpin' in match) return `ct status dnat ip saddr . ip daddr @${match.hairpin}`;
  if ('daddrIn' in match) return `ip daddr @${match.daddrIn}`;
  return `meta l4proto ${match.proto}`;
}

function renderAction(action: Action): string {
  if ('vmap' in action) {
    return action.key === 'daddr-proto-port'
      ? `ip daddr . meta l4proto . th dport vmap @${action.vmap}`
      : `fib daddr type local meta l4proto . th dport vmap @${action.vmap}`;
  }
  if ('jump' in action) return `jump ${action.jump}`;
  if ('goto' in action) return `goto ${action.goto}`;
  if ('verdict' in action) return action.verdict;
  if ('reject' in action) return action.reject === 'tcp-reset' ? 'reject with tcp reset' : 'reject';
  if ('markOr' in action) return `meta mark set meta mark | ${markHex(action.markOr)}`;
  if ('markXor' in action) return `meta mark set meta mark ^ ${markHex(action.markXor)}`;
  if ('masquerade' in action) return 'masquerade fully-random';
  if ('dnatSlots' in action) {
    const { map, offset, count } = action.dnatSlots;
    return `dnat ip to numgen random mod ${count}${offset === 0 ? '' : ` offset ${offset}`} map @${map}`;
  }
  if ('dnat' in action) return `dnat ip to ${action.dnat.ip}:${action.dnat.port}`;
  if ('updateSet' in action) return `update @${action.updateSet} { ip saddr }`;
  return `counter comment ${quote(action.marker)}`;
}

export function renderRule(rule: Rule): string {
  const parts = (rule.match ?? []).map(renderMatch);
  parts.push(renderAction(rule.action));
  return parts.join(' ');
}

/** A chain as a block inside `table ... { }`, one rule a line. */
export function renderChainBlock(chain: ChainDef, indent = '\t'): string[] {
  const lines = [`${indent}chain ${chain.name} {`];
  if (chain.hook !== undefined) {
    const { type, hook, priority } = chain.hook;
    lines.push(`${indent}\ttype ${type} hook ${hook} priority ${priority}; policy accept;`);
  }
  for (const rule of chain.rules) lines.push(`${indent}\t${renderRule(rule)}`);
  lines.push(`${indent}}`);
  return lines;
}

/** A set or map declaration as a block inside `table ... { }`. */
export function renderSetBlock(set: SetDef, indent = '\t'): string[] {
  const lines = [`${indent}${set.kind} ${set.name} {`, `${indent}\t${set.type}`];
  if (set.flags !== undefined && set.flags.length > 0)
    lines.push(`${indent}\tflags ${set.flags.join(', ')}`);
  if (set.timeoutSeconds !== undefined) lines.push(`${indent}\ttimeout ${set.timeoutSeconds}s`);
  lines.push(`${indent}}`);
  return lines;
}

/** A set or map declaration as one `add` command. */
export function renderAddSet(table: string, set: SetDef): string {
  const parts = [set.type];
  if (set.flags !== undefined && set.flags.length > 0) parts.push(`flags ${set.flags.join(', ')}`);
  if (set.timeoutSeconds !== undefined) parts.push(`timeout ${set.timeoutSeconds}s`);
  return `add ${set.kind} ip ${table} ${set.name} { ${parts.join('; ')}; }`;
}

export function renderValue(value: ElementValue): string {
  if ('goto' in value) return `goto ${value.goto}`;
  if ('verdict' in value) return value.verdict;
  return `${value.ip} . ${value.port}`;
}

export function renderElement(element: Element): string {
  return element.value === undefined
    ? element.key
    : `${element.key} : ${renderValue(element.value)}`;
}

/**
 * `add element` / `delete element` commands, grouped by set and split so no
 * line grows without bound (nft reads a line at a time).
 */
export function renderElementCommands(
  verb: 'add' | 'delete',
  table: string,
  elements: readonly Element[],
  perLine = 1000,
): string[] {
  const bySet = new Map<string, string[]>();
  for (const element of elements) {
    let list = bySet.get(element.set);
    if (list === undefined) {
      list = [];
      bySet.set(element.set, list);
    }
    // A deletion names the key only.
    list.push(verb === 'delete' ? element.key : renderElement(element));
  }
  const out: string[] = [];
  for (const [set, items] of bySet) {
    for (let i = 0; i < items.length; i += perLine) {
      out.push(`${verb} element ip ${table} ${set} { ${items.slice(i, i + perLine).join(', ')} }`);
    }
  }
  return out;
}
