// The effective config as YAML, each value annotated with where it came from:
// what `pier config` prints. Sensitive values are masked.

import { stringify } from 'yaml';
import { maskSecret } from './mask.ts';
import type { Origin, ResolvedConfig } from './resolve.ts';
import { type SettingsTable, settingsTable } from './settings.ts';

export function renderEffectiveConfig(
  resolved: ResolvedConfig,
  table: SettingsTable = settingsTable(),
): string {
  const rows: { text: string; origin?: string }[] = [];
  let open: readonly string[] = [];
  for (const s of table.settings) {
    const groups = s.keys.slice(0, -1);
    let shared = 0;
    while (shared < open.length && shared < groups.length && open[shared] === groups[shared])
      shared++;
    for (let depth = shared; depth < groups.length; depth++) {
      rows.push({ text: `${'  '.repeat(depth)}${groups[depth]}:` });
    }
    open = groups;
    let value = lookup(resolved.config, s.keys);
    if (s.sensitive && typeof value === 'string') value = maskSecret(value);
    const text = `${'  '.repeat(groups.length)}${s.keys.at(-1)}: ${scalar(value)}`;
    rows.push({
      text,
      origin: describeOrigin(resolved.origins.get(s.path) ?? { source: 'default' }),
    });
  }
  const width = Math.max(...rows.map((row) => (row.origin === undefined ? 0 : row.text.length)));
  const header = `# Effective Pier configuration${resolved.file === undefined ? '' : ` (config file ${resolved.file})`}`;
  const body = rows.map((row) =>
    row.origin === undefined ? row.text : `${row.text.padEnd(width)}  # ${row.origin}`,
  );
  return `${[header, ...body].join('\n')}\n`;
}

export function describeOrigin(origin: Origin): string {
  switch (origin.source) {
    case 'default':
      return 'default';
    case 'file':
      return origin.where;
    case 'env':
      return origin.name;
    case 'flag':
      return origin.flag;
  }
}

function lookup(config: unknown, keys: readonly string[]): unknown {
  let node = config;
  for (const key of keys) node = (node as Record<string, unknown>)[key];
  return node;
}

function scalar(value: unknown): string {
  if (Array.isArray(value)) return stringify(value, { collectionStyle: 'flow' }).trimEnd();
  return stringify(value).trimEnd();
}
