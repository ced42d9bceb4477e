// Merges the sources of settings into the effective config, purely:
//   defaults < YAML file < environment PIER_* < flags
// Each value is coerced from text where needed, checked against its setting's
// schema on its own (so the error names that setting and that source), and
// remembered with its origin, which `pier config` prints. All problems are
// collected and thrown together as one ConfigError.

import type { PierError } from '../errors.ts';
import { closest } from './closest.ts';
import { ConfigError, ConfigErrors } from './errors.ts';
import { readConfigFile } from './file.ts';
import { maskSecret } from './mask.ts';
import { nonSettingEnv, type PierConfig } from './schema.ts';
import type { ScalarKind, SettingInfo, SettingsTable } from './settings.ts';
import { settingsTable } from './settings.ts';

export type Origin =
  | { source: 'default' }
  | { source: 'file'; where: string }
  | { source: 'env'; name: string }
  | { source: 'flag'; flag: string };

export interface FlagValue {
  /** The setting's flag name without dashes: `admin.address`. */
  flag: string;
  /** `true` for a bare `--manifests.watch`; text otherwise. */
  value: string | boolean;
}

export interface ConfigInput {
  file?: { path: string; text: string };
  env?: Readonly<Record<string, string | undefined>>;
  flags?: readonly FlagValue[];
}

export interface ResolvedConfig {
  /** Deeply frozen. */
  config: PierConfig;
  /** Where each setting's value came from, by path. */
  origins: ReadonlyMap<string, Origin>;
  /** The config file read, if any. */
  file?: string;
}

const truthy = new Set(['true', '1', 'yes', 'on']);
const falsy = new Set(['false', '0', 'no', 'off']);
const decimal = /^[-+]?(\d+\.?\d*|\.\d+)$/;

/** The effective config of `input`; throws ConfigError listing every problem. */
export function resolveConfig(
  input: ConfigInput,
  table: SettingsTable = settingsTable(),
): ResolvedConfig {
  const values = new Map<string, unknown>();
  const origins = new Map<string, Origin>();
  const problems: PierError[] = [];
  const accept = (info: SettingInfo, raw: unknown, origin: Origin, where: string): void => {
    const value = coerce(info, raw);
    const parsed = info.schema.safeParse(value);
    if (parsed.success) {
      values.set(info.path, parsed.data);
      origins.set(info.path, origin);
    } else {
      problems.push(ConfigErrors.INVALID_VALUE(where, info.path, info.accepts));
    }
  };
  const shown = (info: SettingInfo, raw: unknown): string =>
    JSON.stringify(info.sensitive && typeof raw === 'string' ? maskSecret(raw) : raw) ?? 'nothing';

  if (input.file !== undefined) {
    const read = readConfigFile(input.file.path, input.file.text, table);
    problems.push(...read.problems);
    for (const { path, value, where } of read.values) {
      const info = table.byPath.get(path)!;
      accept(info, value, { source: 'file', where }, `${where}: ${shown(info, value)}`);
    }
  }

  const env = input.env ?? {};
  for (const name of Object.keys(env).sort()) {
    const raw = env[name];
    if (!name.startsWith('PIER_') || raw === undefined || nonSettingEnv.includes(name)) continue;
    const info = table.byEnv.get(name);
    if (info !== undefined)
      accept(info, raw, { source: 'env', name }, `${name}=${shown(info, raw)}`);
    else if (looksLikeSetting(name, table)) {
      const match = closest(name, table.byEnv.keys());
      const hint =
        match === undefined
          ? '; `pier config --reference` lists the settings'
          : `; did you mean ${match}?`;
      problems.push(ConfigErrors.UNKNOWN_ENV(name, hint));
    }
  }

  const lists = new Map<string, unknown[]>();
  for (const { flag, value } of input.flags ?? []) {
    const info = table.byFlag.get(flag);
    if (info === undefined) {
      const match = closest(flag, table.byFlag.keys());
      problems.push(
        ConfigErrors.UNKNOWN_FLAG(flag, match === undefined ? '' : `; did you mean --${match}?`),
      );
      continue;
    }
    const where = value === true ? `--${flag}` : `--${flag}=${shown(info, value)}`;
    if (info.kind === 'list' && typeof value === 'string') {
      // Repeated list flags add up: --dns.upstreams a --dns.upstreams b.
      const items = [...(lists.get(info.path) ?? []), ...splitList(value)];
      lists.set(info.path, items);
      accept(info, items, { source: 'flag', flag: `--${flag}` }, where);
    } else accept(info, value, { source: 'flag', flag: `--${flag}` }, where);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const tree: Record<string, unknown> = {};
  for (const info of table.settings) {
    let node = tree;
    for (const key of info.keys.slice(0, -1)) {
      node[key] ??= {};
      node = node[key] as Record<string, unknown>;
    }
    node[info.keys.at(-1)!] = values.has(info.path)
      ? values.get(info.path)
      : structuredClone(info.default);
    if (!origins.has(info.path)) origins.set(info.path, { source: 'default' });
  }
  // Cross-setting rules, if a section declares any, run here.
  const config = table.schema.parse(tree) as PierConfig;
  const resolved: ResolvedConfig = { config: deepFreeze(config), origins };
  if (input.file !== undefined) resolved.file = input.file.path;
  return resolved;
}

/** Text (env, flags) and loose YAML scalars to the setting's type; anything else is left for the schema to reject. */
function coerce(info: SettingInfo, raw: unknown): unknown {
  if (info.kind !== 'list') return coerceScalar(info.kind, raw);
  const items = typeof raw === 'string' ? splitList(raw) : raw;
  return Array.isArray(items) ? items.map((item) => coerceScalar(info.itemKind, item)) : items;
}

function coerceScalar(kind: ScalarKind, raw: unknown): unknown {
  switch (kind) {
    case 'boolean':
      if (typeof raw === 'string') {
        const lower = raw.trim().toLowerCase();
        if (truthy.has(lower)) return true;
        if (falsy.has(lower)) return false;
      }
      return raw;
    case 'number':
      return typeof raw === 'string' && decimal.test(raw.trim()) ? Number(raw) : raw;
    case 'string':
    case 'enum':
      return typeof raw === 'number' ? String(raw) : raw;
  }
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * A PIER_ variable is taken for a mistyped setting when it starts with a
 * section's name (or a near miss of one), or is a near miss of a setting.
 * Other PIER_ variables (a test harness's, say) are left alone.
 */
function looksLikeSetting(name: string, table: SettingsTable): boolean {
  const rest = name.slice('PIER_'.length);
  const heads = table.sections.map((section) => section.env.slice('PIER_'.length));
  if (heads.some((head) => rest === head || rest.startsWith(`${head}_`))) return true;
  const first = rest.split('_')[0] ?? '';
  return closest(first, heads) !== undefined || closest(name, table.byEnv.keys()) !== undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
