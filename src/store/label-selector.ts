// Kubernetes label selectors, as kubectl and the API server read them:
// `a=b`, `a==b`, `a!=b`, `a`, `!a`, `a in (x,y)`, `a notin (x,y)`, `a>1`,
// `a<1`, joined by commas (all must hold). Parsed once into a matcher so a
// list over many objects does no string work per object.
//
// Semantics follow k8s.io/apimachinery/pkg/labels: `!=` and `notin` also
// match objects without the label; `in`, `=` and `>`/`<` need it present;
// an empty selector matches everything. Keys and values are checked against
// the label syntax so a typo is an error, not a selector that never matches.

import { StoreErrors } from './errors.ts';

export type SelectorOperator = '=' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: SelectorOperator;
  /** The values for `=`, `!=`, `in`, `notin`, `gt`, `lt`; empty for `exists` and `!`. */
  values: readonly string[];
}

export type Labels = Readonly<Record<string, string>> | undefined;

export interface LabelSelector {
  readonly requirements: readonly Requirement[];
  /** True when the selector has no requirements and so matches every object. */
  readonly empty: boolean;
  matches(labels: Labels): boolean;
  /** The selector in kubectl notation, requirements in the order given. */
  toString(): string;
}

/** A selector as callers pass it: kubectl text, or a map of labels that must all be equal. */
export type LabelSelectorInput = string | Readonly<Record<string, string>>;

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INTEGER = /^-?[0-9]+$/;

/** Why a label key is invalid, or undefined when it is valid. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix)) {
      return `label key ${JSON.stringify(key)} has an invalid prefix (a DNS subdomain, at most 253 characters)`;
    }
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `label key ${JSON.stringify(key)} is invalid (at most 63 characters: letters, digits, '-', '_', '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

/** Why a label value is invalid, or undefined when it is valid (the empty value is). */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `label value ${JSON.stringify(value)} is invalid (at most 63 characters: letters, digits, '-', '_', '.', starting and ending with a letter or digit)`;
  }
  return undefined;
}

type Token =
  | { kind: 'word'; text: string; at: number }
  | { kind: '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '>' | '<' | 'end'; at: number };

const SPECIAL = new Set([' ', '\t', '\n', '\r', ',', '(', ')', '=', '!', '<', '>']);

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if (c === '=' && input[i + 1] === '=') {
      tokens.push({ kind: '==', at: i });
      i += 2;
    } else if (c === '!' && input[i + 1] === '=') {
      tokens.push({ kind: '!=', at: i });
      i += 2;
    } else if (
      c === '=' ||
      c === '!' ||
      c === '(' ||
      c === ')' ||
      c === ',' ||
      c === '>' ||
      c === '<'
    ) {
      tokens.push({ kind: c, at: i });
      i++;
    } else {
      const start = i;
      while (i < input.length && !SPECIAL.has(input[i]!)) i++;
      tokens.push({ kind: 'word', text: input.slice(start, i), at: start });
    }
  }
  tokens.push({ kind: 'end', at: input.length });
  return tokens;
}

function describe(token: Token): string {
  if (token.kind === 'end') return 'the end';
  if (token.kind === 'word') return JSON.stringify(token.text);
  return `"${token.kind}"`;
}

function parseText(input: string): Requirement[] {
  const fail = (reason: string): never => {
    throw StoreErrors.BAD_SELECTOR(input, reason);
  };
  const tokens = tokenize(input);
  let pos = 0;
  const peek = (): Token => tokens[pos]!;
  const next = (): Token => tokens[pos++]!;
  const requirements: Requirement[] = [];
  if (peek().kind === 'end') return requirements;

  const checkKey = (key: string) => {
    const problem = labelKeyProblem(key);
    if (problem !== undefined) fail(problem);
  };
  const checkValue = (value: string) => {
    const problem = labelValueProblem(value);
    if (problem !== undefined) fail(problem);
  };

  for (;;) {
    let token = next();
    if (token.kind === '!') {
      token = next();
      if (token.kind !== 'word')
        fail(`expected a label key after "!" at ${token.at}, found ${describe(token)}`);
      const key = (token as { text: string }).text;
      checkKey(key);
      requirements.push({ key, operator: '!', values: [] });
    } else if (token.kind === 'word') {
      const key = token.text;
      checkKey(key);
      const op = peek();
      if (op.kind === ',' || op.kind === 'end') {
        requirements.push({ key, operator: 'exists', values: [] });
      } else if (op.kind === '=' || op.kind === '==' || op.kind === '!=') {
        pos++;
        const v = peek();
        // `a=` is a valid selector: the label a is present with the empty value.
        let value = '';
        if (v.kind === 'word') {
          value = v.text;
          pos++;
        } else if (v.kind !== ',' && v.kind !== 'end') {
          fail(`expected a value after "${op.kind}" at ${v.at}, found ${describe(v)}`);
        }
        checkValue(value);
        requirements.push({ key, operator: op.kind === '!=' ? '!=' : '=', values: [value] });
      } else if (op.kind === '>' || op.kind === '<') {
        pos++;
        const v = next();
        if (v.kind !== 'word' || !INTEGER.test(v.text)) {
          fail(`expected an integer after "${op.kind}" at ${v.at}, found ${describe(v)}`);
        }
        requirements.push({
          key,
          operator: op.kind === '>' ? 'gt' : 'lt',
          values: [(v as { text: string }).text],
        });
      } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        pos++;
        const open = next();
        if (open.kind !== '(')
          fail(`expected "(" after "${op.text}" at ${open.at}, found ${describe(open)}`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v.kind === 'word') {
            checkValue(v.text);
            values.push(v.text);
            pos++;
          } else if (v.kind === ',' || v.kind === ')') {
            // An empty element, as in `a in (x,)`, is the empty value.
            values.push('');
          } else {
            fail(`expected a value or ")" at ${v.at}, found ${describe(v)}`);
          }
          const sep = next();
          if (sep.kind === ')') break;
          if (sep.kind !== ',') fail(`expected "," or ")" at ${sep.at}, found ${describe(sep)}`);
        }
        if (values.length === 1 && values[0] === '' && tokens[pos - 2]?.kind === '(') {
          fail(`the value set of "${op.text}" is empty`);
        }
        requirements.push({ key, operator: op.text, values });
      } else {
        fail(
          `expected an operator (=, ==, !=, in, notin, >, <) or "," after ${JSON.stringify(key)} at ${op.at}, found ${describe(op)}`,
        );
      }
    } else {
      fail(`expected a label key at ${token.at}, found ${describe(token)}`);
    }
    const sep = next();
    if (sep.kind === 'end') return requirements;
    if (sep.kind !== ',') fail(`expected "," at ${sep.at}, found ${describe(sep)}`);
  }
}

function matcher(r: Requirement): (labels: Labels) => boolean {
  const { key } = r;
  switch (r.operator) {
    case '=': {
      const want = r.values[0]!;
      return (labels) => labels !== undefined && Object.hasOwn(labels, key) && labels[key] === want;
    }
    case '!=': {
      const unwanted = r.values[0]!;
      return (labels) =>
        labels === undefined || !Object.hasOwn(labels, key) || labels[key] !== unwanted;
    }
    case 'in': {
      const set = new Set(r.values);
      return (labels) =>
        labels !== undefined && Object.hasOwn(labels, key) && set.has(labels[key]!);
    }
    case 'notin': {
      const set = new Set(r.values);
      return (labels) =>
        labels === undefined || !Object.hasOwn(labels, key) || !set.has(labels[key]!);
    }
    case 'exists':
      return (labels) => labels !== undefined && Object.hasOwn(labels, key);
    case '!':
      return (labels) => labels === undefined || !Object.hasOwn(labels, key);
    case 'gt':
    case 'lt': {
      const bound = Number(r.values[0]);
      const greater = r.operator === 'gt';
      return (labels) => {
        if (labels === undefined || !Object.hasOwn(labels, key)) return false;
        const value = labels[key]!;
        if (!INTEGER.test(value)) return false;
        const n = Number(value);
        return greater ? n > bound : n < bound;
      };
    }
  }
}

function format(r: Requirement): string {
  switch (r.operator) {
    case '=':
      return `${r.key}=${r.values[0]}`;
    case '!=':
      return `${r.key}!=${r.values[0]}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${r.values.join(',')})`;
    case 'exists':
      return r.key;
    case '!':
      return `!${r.key}`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
  }
}

function compile(requirements: Requirement[]): LabelSelector {
  const checks = requirements.map(matcher);
  const text = requirements.map(format).join(',');
  return {
    requirements,
    empty: checks.length === 0,
    matches(labels) {
      for (const check of checks) if (!check(labels)) return false;
      return true;
    },
    toString: () => text,
  };
}

/** The selector that matches every object. */
export const everything: LabelSelector = compile([]);

/**
 * Parses a selector; throws PIER_STORE_BAD_SELECTOR naming the selector and
 * what is wrong with it. undefined and '' give the selector matching everything.
 */
export function parseLabelSelector(input: LabelSelectorInput | undefined): LabelSelector {
  if (input === undefined) return everything;
  if (typeof input === 'string') return compile(parseText(input));
  if (typeof input !== 'object' || input === null) {
    throw StoreErrors.BAD_SELECTOR(String(input), 'expected a string or a map of label values');
  }
  const requirements: Requirement[] = [];
  for (const [key, value] of Object.entries(input)) {
    const text = `${key}=${String(value)}`;
    if (typeof value !== 'string')
      throw StoreErrors.BAD_SELECTOR(text, `the value of ${key} is not a string`);
    const problem = labelKeyProblem(key) ?? labelValueProblem(value);
    if (problem !== undefined) throw StoreErrors.BAD_SELECTOR(text, problem);
    requirements.push({ key, operator: '=', values: [value] });
  }
  return compile(requirements);
}
