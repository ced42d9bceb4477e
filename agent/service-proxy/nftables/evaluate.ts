// A tiny evaluator of the ruleset model (not of nft syntax): where does the
// first packet of a new connection go, with what odds, and is it
// masqueraded? It walks the base chains in netfilter's order for the
// packet's path and follows every branch a random choice can take, so
// tests can state a Service's behaviour as a packet-flow table:
//
//   pod 10.244.1.5 -> 10.96.0.10:53/udp  =>  10.244.2.3:53 (1/2), 10.244.3.3:53 (1/2)
//
// Paths (kube-proxy's README): a pod's or an outside host's packet passes
// prerouting, then input (to this node) or forward + postrouting; a packet
// of this node's own processes passes output + postrouting.

import { baseChains, hairpinKey, Names, nodePortKey, serviceKey, slotKey } from './layout.ts';
import type { ChainDef, ElementValue, L4Proto, Match, Rule, Ruleset } from './model.ts';
import { markerRule } from './plan.ts';

export type Source = 'pod' | 'node' | 'outside';

export interface FlowPacket {
  from: Source;
  src: string;
  dst: string;
  proto: L4Proto;
  port: number;
}

export interface FlowContext {
  /** This node's own addresses (`fib ... type local`). */
  nodeAddresses: readonly string[];
  /** Affinity set -> client addresses it holds (default: all empty). */
  affinity?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface FlowOutcome {
  probability: number;
  verdict: 'accept' | 'drop' | 'reject';
  rejectWith?: 'tcp-reset' | 'icmp';
  /** `ip:port` after DNAT; undefined when the destination was left alone. */
  to?: string;
  masquerade: boolean;
  /** Affinity sets that now hold the client. */
  remembered: string[];
}

interface State {
  p: number;
  mark: number;
  dnat?: { ip: string; port: number };
  masquerade: boolean;
  remembered: string[];
  /** Set when the packet's fate, or this hook's NAT, is decided. */
  end?: 'accept' | 'drop' | 'reject' | 'nat';
  rejectWith?: 'tcp-reset' | 'icmp';
}

interface Index {
  chains: Map<string, ChainDef>;
  elements: Map<string, Map<string, ElementValue | undefined>>;
}

function indexOf(ruleset: Ruleset): Index {
  const chains = new Map<string, ChainDef>();
  for (const chain of baseChains(ruleset.options)) {
    chains.set(
      chain.name,
      chain.name === Names.generation
        ? { ...chain, rules: [markerRule(ruleset.generation)] }
        : chain,
    );
  }
  const elements = new Map<string, Map<string, ElementValue | undefined>>();
  const add = (set: string, key: string, value?: ElementValue) => {
    let map = elements.get(set);
    if (map === undefined) {
      map = new Map();
      elements.set(set, map);
    }
    map.set(key, value);
  };
  for (const fragment of ruleset.fragments.values()) {
    for (const chain of fragment.chains) chains.set(chain.name, chain);
    for (const e of fragment.elements) add(e.set, e.key, e.value);
  }
  for (const ip of ruleset.clusterIPs) add(Names.clusterIps, ip);
  for (const ip of ruleset.hairpin) add(Names.hairpin, hairpinKey(ip));
  return { chains, elements };
}

function inCidr(ip: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const prefix = Number(bits);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return (toNumber(ip) & mask) >>> 0 === (toNumber(base) & mask) >>> 0;
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((n, part) => n * 256 + Number(part), 0) >>> 0;
}

/** Every way the first packet of `packet`'s connection can go, merged by outcome. */
export function evaluate(ruleset: Ruleset, packet: FlowPacket, ctx: FlowContext): FlowOutcome[] {
  const index = indexOf(ruleset);
  const local = new Set(ctx.nodeAddresses);
  const daddr = (s: State) => s.dnat?.ip ?? packet.dst;

  const matches = (m: Match, s: State): number => {
    // The share of s's probability for which m holds.
    if ('saddr' in m) return inCidr(packet.src, m.saddr) !== (m.not === true) ? 1 : 0;
    if ('saddrLocal' in m) return local.has(packet.src) ? 1 : 0;
    if ('saddrIn' in m)
      return ctx.affinity?.get(m.saddrIn)?.has(packet.src) === true ||
        s.remembered.includes(m.saddrIn)
        ? 1
        : 0;
    if ('random' in m) return 1 / m.random;
    if ('ctNew' in m) return 1;
    if ('markClear' in m) return (s.mark & m.markClear) === 0 ? 1 : 0;
    if ('hairpin' in m) {
      if (s.dnat === undefined) return 0;
      return index.elements.get(m.hairpin)?.has(`${packet.src} . ${daddr(s)}`) === true ? 1 : 0;
    }
    if ('daddrIn' in m) return index.elements.get(m.daddrIn)?.has(daddr(s)) === true ? 1 : 0;
    return m.proto === packet.proto ? 1 : 0;
  };

  /** Runs a chain; states come back ended, or returned (fell off the end, or `return`). */
  const run = (name: string, entry: State, depth: number): State[] => {
    if (depth > 32) throw new Error(`evaluate: chain loop at ${name}`);
    const chain = index.chains.get(name);
    if (chain === undefined) throw new Error(`evaluate: no chain ${name}`);
    let live: State[] = [entry];
    const out: State[] = [];
    for (const rule of chain.rules) {
      const next: State[] = [];
      for (const s of live) {
        let share = 1;
        for (const m of rule.match ?? []) share *= matches(m, s);
        if (share < 1) next.push({ ...s, p: s.p * (1 - share) });
        if (share > 0) {
          for (const r of act(rule, { ...s, p: s.p * share }, depth)) {
            if (r.state.end !== undefined || r.leave) out.push(r.state);
            else next.push(r.state);
          }
        }
      }
      live = next.filter((s) => s.p > 0);
      if (live.length === 0) break;
    }
    return [...out, ...live];
  };

  /** One rule's action on a state that matched; `leave`: the chain is done with it. */
  const act = (rule: Rule, s: State, depth: number): { state: State; leave?: boolean }[] => {
    const a = rule.action;
    if ('vmap' in a) {
      const key =
        a.key === 'daddr-proto-port'
          ? serviceKey(daddr(s), packet.proto, packet.port)
          : local.has(daddr(s))
            ? nodePortKey(packet.proto, packet.port)
            : undefined;
      const value = key === undefined ? undefined : index.elements.get(a.vmap)?.get(key);
      if (value === undefined) return [{ state: s }];
      if ('verdict' in value) return [{ state: { ...s, end: 'drop' } }];
      if ('goto' in value)
        return run(value.goto, s, depth + 1).map((r) => ({ state: r, leave: true }));
      throw new Error(`evaluate: ${a.vmap} holds a non-verdict value`);
    }
    if ('jump' in a) return run(a.jump, s, depth + 1).map((r) => ({ state: r }));
    if ('goto' in a) return run(a.goto, s, depth + 1).map((r) => ({ state: r, leave: true }));
    if ('verdict' in a) {
      if (a.verdict === 'return') return [{ state: s, leave: true }];
      return [{ state: { ...s, end: a.verdict } }];
    }
    if ('reject' in a) return [{ state: { ...s, end: 'reject', rejectWith: a.reject } }];
    if ('markOr' in a) return [{ state: { ...s, mark: s.mark | a.markOr } }];
    if ('markXor' in a) return [{ state: { ...s, mark: s.mark ^ a.markXor } }];
    if ('masquerade' in a) return [{ state: { ...s, masquerade: true, end: 'nat' } }];
    if ('dnat' in a) return [{ state: { ...s, dnat: a.dnat, end: 'nat' } }];
    if ('dnatSlots' in a) {
      const { map, offset, count } = a.dnatSlots;
      const slots = index.elements.get(map);
      const out: { state: State }[] = [];
      for (let i = 0; i < count; i++) {
        const value = slots?.get(slotKey(offset + i));
        // An empty slot: the DNAT expression finds nothing and the rule does not apply.
        if (value === undefined || !('ip' in value)) out.push({ state: { ...s, p: s.p / count } });
        else
          out.push({
            state: { ...s, p: s.p / count, dnat: { ip: value.ip, port: value.port }, end: 'nat' },
          });
      }
      return out;
    }
    if ('updateSet' in a) return [{ state: { ...s, remembered: [...s.remembered, a.updateSet] } }];
    return [{ state: s }];
  };

  /** Runs a hook's base chain; a NAT end only ends the hook. */
  const hook = (chain: string, states: State[]): State[] =>
    states.flatMap((s) => {
      if (s.end === 'drop' || s.end === 'reject') return [s];
      return run(chain, { ...s, end: undefined }, 0).map((r) =>
        r.end === 'nat' || r.end === 'accept' ? { ...r, end: undefined } : r,
      );
    });

  let states: State[] = [{ p: 1, mark: 0, masquerade: false, remembered: [] }];
  if (packet.from === 'node') {
    states = hook('nat-output', states);
    states = hook('filter-output', states);
    states = states.flatMap((s) => (local.has(daddr(s)) ? [s] : hook('nat-postrouting', [s])));
  } else {
    states = hook('nat-prerouting', states);
    states = states.flatMap((s) =>
      local.has(daddr(s))
        ? hook('filter-input', [s])
        : hook('nat-postrouting', hook('filter-forward', [s])),
    );
  }

  const merged = new Map<string, FlowOutcome>();
  for (const s of states) {
    const verdict = s.end === 'drop' || s.end === 'reject' ? s.end : 'accept';
    const to = s.dnat === undefined ? undefined : `${s.dnat.ip}:${s.dnat.port}`;
    const key = `${verdict} ${to} ${s.masquerade} ${s.rejectWith} ${s.remembered.join(',')}`;
    const seen = merged.get(key);
    if (seen !== undefined) seen.probability += s.p;
    else {
      const outcome: FlowOutcome = {
        probability: s.p,
        verdict,
        masquerade: s.masquerade,
        remembered: s.remembered,
      };
      if (to !== undefined) outcome.to = to;
      if (s.rejectWith !== undefined && verdict === 'reject') outcome.rejectWith = s.rejectWith;
      merged.set(key, outcome);
    }
  }
  return [...merged.values()].sort((a, b) => (a.to ?? '').localeCompare(b.to ?? ''));
}
