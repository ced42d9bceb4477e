// The settings table: the schema flattened into one row per setting, with the
// names each source spells it by. Path `manifests.watchInterval` is
// env PIER_MANIFESTS_WATCH_INTERVAL and flag --manifests.watch-interval.
// Built once from the schema, so a new setting needs no table edits.

import { z } from 'zod';
import { configSchema } from './schema.ts';
import { sectionRegistry, settingRegistry } from './setting.ts';

export type ScalarKind = 'string' | 'number' | 'boolean' | 'enum';
export type SettingKind = ScalarKind | 'list';

export interface SettingInfo {
  /** `admin.address` */
  path: string;
  keys: readonly string[];
  /** `PIER_ADMIN_ADDRESS` */
  env: string;
  /** `admin.address`, spelled `--admin.address` on the command line. */
  flag: string;
  kind: SettingKind;
  /** For lists: the kind of each item. */
  itemKind: ScalarKind;
  default: unknown;
  description: string;
  accepts: string;
  sensitive: boolean;
  /** The value schema, without its default. */
  schema: z.ZodType;
}

export interface SectionInfo {
  name: string;
  /** The prefix of its settings' variables: `PIER_ADMIN`. */
  env: string;
  description: string;
  settings: readonly SettingInfo[];
}

export interface SettingsTable {
  /** The schema the table was built from; it parses the merged values. */
  schema: z.ZodObject;
  sections: readonly SectionInfo[];
  settings: readonly SettingInfo[];
  byPath: ReadonlyMap<string, SettingInfo>;
  byEnv: ReadonlyMap<string, SettingInfo>;
  byFlag: ReadonlyMap<string, SettingInfo>;
  /** Paths of every object that holds settings: `admin`, and nested ones like `gateway.http`. */
  groups: ReadonlySet<string>;
}

const keyPattern = /^[a-z][a-zA-Z0-9]*$/;
const upperSnake = (key: string): string =>
  key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
const kebab = (key: string): string => key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

let cached: SettingsTable | undefined;

/** The table of `schema` (by default Pier's). Throws on a schema that breaks the rules in setting.ts. */
export function settingsTable(schema: z.ZodObject = configSchema): SettingsTable {
  if (schema === configSchema && cached !== undefined) return cached;
  const sections: SectionInfo[] = [];
  const settings: SettingInfo[] = [];
  const groups = new Set<string>();
  for (const [name, sectionSchema] of Object.entries(schema.shape)) {
    if (!(sectionSchema instanceof z.ZodObject)) {
      throw new Error(`config schema: section ${name} must be made with section()`);
    }
    const meta = sectionRegistry.get(sectionSchema);
    if (meta === undefined)
      throw new Error(`config schema: section ${name} must be made with section()`);
    const own: SettingInfo[] = [];
    collect(sectionSchema, [name], own, groups);
    sections.push({
      name,
      env: `PIER_${upperSnake(name)}`,
      description: meta.description,
      settings: own,
    });
    settings.push(...own);
  }
  const byPath = new Map(settings.map((s) => [s.path, s]));
  const byEnv = new Map<string, SettingInfo>();
  const byFlag = new Map<string, SettingInfo>();
  for (const s of settings) {
    const clash = byEnv.get(s.env) ?? byFlag.get(s.flag);
    if (clash !== undefined)
      throw new Error(`config schema: ${s.path} and ${clash.path} share a name`);
    byEnv.set(s.env, s);
    byFlag.set(s.flag, s);
  }
  const table = { schema, sections, settings, byPath, byEnv, byFlag, groups };
  if (schema === configSchema) cached = table;
  return table;
}

function collect(
  group: z.ZodObject,
  keys: string[],
  out: SettingInfo[],
  groups: Set<string>,
): void {
  groups.add(keys.join('.'));
  for (const [key, child] of Object.entries(group.shape)) {
    const path = [...keys, key];
    if (!keyPattern.test(key))
      throw new Error(`config schema: ${path.join('.')}: keys are camelCase`);
    if (child instanceof z.ZodObject) {
      collect(child, path, out, groups);
      continue;
    }
    const meta = child instanceof z.ZodDefault ? settingRegistry.get(child) : undefined;
    if (!(child instanceof z.ZodDefault) || meta === undefined) {
      throw new Error(`config schema: ${path.join('.')} must be made with setting()`);
    }
    const schema = child.def.innerType as z.ZodType;
    const kind = kindOf(schema);
    const itemKind = schema instanceof z.ZodArray ? kindOf(schema.element as z.ZodType) : kind;
    if (kind === undefined || itemKind === undefined || itemKind === 'list') {
      throw new Error(`config schema: ${path.join('.')} must be a scalar or a list of scalars`);
    }
    out.push({
      path: path.join('.'),
      keys: path,
      env: `PIER_${path.map(upperSnake).join('_')}`,
      flag: path.map(kebab).join('.'),
      kind,
      itemKind,
      default: child.def.defaultValue,
      description: meta.description,
      accepts: meta.accepts,
      sensitive: meta.sensitive,
      schema,
    });
  }
}

function kindOf(schema: z.ZodType): SettingKind | undefined {
  if (schema instanceof z.ZodString) return 'string';
  if (schema instanceof z.ZodEnum) return 'enum';
  if (schema instanceof z.ZodNumber) return 'number';
  if (schema instanceof z.ZodBoolean) return 'boolean';
  if (schema instanceof z.ZodArray) return 'list';
  return undefined;
}
