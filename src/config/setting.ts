// How a setting is declared. A setting is a zod schema of a scalar (string,
// number, boolean, enum) or a list of scalars, with a default, a description
// and `accepts`: the words that complete "<setting> must be ...". Those three
// feed the error messages, `pier config` and the README's reference table,
// so a setting is documented where it is declared.
//
// Only scalars and lists: every setting must be spellable as one environment
// variable and one flag.

import { z } from 'zod';

export interface SettingMeta {
  description: string;
  /** Completes "<path> must be ...": `host:port, e.g. 127.0.0.1:9901`. */
  accepts: string;
  /** Printed masked (`pier config`, logs): URLs that may carry a password. */
  sensitive: boolean;
}

export interface SectionMeta {
  description: string;
}

/** Metadata of every setting schema made by `setting()`. */
export const settingRegistry = z.registry<SettingMeta>();
/** Metadata of every section schema made by `section()`. */
export const sectionRegistry = z.registry<SectionMeta>();

export interface SettingSpec<T> {
  default: T;
  description: string;
  /** Derived from the schema for booleans, numbers and enums; required wording for the rest. */
  accepts?: string;
  sensitive?: boolean;
}

/** Declares one setting: `level: setting(z.enum([...]), { default: 'info', description: '...' })`. */
export function setting<T extends z.ZodType>(
  schema: T,
  spec: SettingSpec<NonNullable<z.output<T>>>,
): z.ZodDefault<T> {
  const accepts = spec.accepts ?? derivedAccepts(schema);
  if (accepts === undefined) {
    throw new Error(`setting(): a ${schema.def.type} setting needs an \`accepts\` phrase`);
  }
  const declared = schema.default(spec.default as never);
  settingRegistry.add(declared, {
    description: spec.description,
    accepts,
    sensitive: spec.sensitive ?? false,
  });
  return declared as unknown as z.ZodDefault<T>;
}

/** Declares a section: a named group of settings, one file in src/config/sections/. */
export function section<S extends z.ZodRawShape>(description: string, shape: S): z.ZodObject<S> {
  const schema = z.object(shape);
  schema.register(sectionRegistry, { description });
  return schema;
}

function derivedAccepts(schema: z.ZodType): string | undefined {
  if (schema instanceof z.ZodBoolean) return 'true or false';
  if (schema instanceof z.ZodEnum) return `one of ${schema.options.join(', ')}`;
  if (schema instanceof z.ZodNumber) return schema.format === 'safeint' ? 'an integer' : 'a number';
  return undefined;
}
