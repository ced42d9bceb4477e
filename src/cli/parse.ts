// Splits a command's argv into its flags, setting flags and arguments. Pure:
// it knows nothing of the schema beyond which setting flags exist and which
// of them are booleans; their values are checked by the config resolver, so a
// bad value reads the same from a flag, an env var or the file.

import { closest } from '../config/closest.ts';
import type { FlagValue } from '../config/resolve.ts';
import type { ArgSpec, OptionSpec } from './command.ts';
import { CliErrors } from './errors.ts';

export interface ParseSpec {
  command: string;
  usage: string;
  options: readonly OptionSpec[];
  args?: readonly ArgSpec[];
  /** Setting flags by name (`admin.address`): true when the setting is a boolean. Absent: the command takes no settings. */
  settings?: ReadonlyMap<string, boolean>;
}

export interface ParsedArgs {
  options: Record<string, string | boolean>;
  args: string[];
  /** Setting flags in command-line order. */
  settings: FlagValue[];
  /** `--config PATH` */
  configFile?: string;
}

/** `-h`/`--help` anywhere before `--`: help wins over everything else on the line. */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const token of argv) {
    if (token === '--') return false;
    if (token === '-h' || token === '--help') return true;
  }
  return false;
}

/** Throws PierError PIER_CLI_* on unknown flags, missing values and wrong argument counts. */
export function parseArgs(argv: readonly string[], spec: ParseSpec): ParsedArgs {
  const parsed: ParsedArgs = { options: {}, args: [], settings: [] };
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const byShort = new Map(
    spec.options.filter((o) => o.short !== undefined).map((o) => [o.short!, o]),
  );
  let i = 0;
  // The value of a flag: `--x=v`, or the next token unless that is another long flag.
  const takeValue = (flag: string, inline: string | undefined, placeholder: string): string => {
    if (inline !== undefined) return inline;
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--'))
      throw CliErrors.MISSING_VALUE(flag, placeholder);
    i++;
    return next;
  };
  const booleanOf = (flag: string, inline: string | undefined): boolean => {
    if (inline === undefined || inline === 'true') return true;
    if (inline === 'false') return false;
    throw CliErrors.NOT_A_BOOLEAN(flag, inline);
  };

  for (; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      parsed.args.push(...argv.slice(i + 1));
      break;
    }
    if (token.startsWith('--') && token.length > 2) {
      const eq = token.indexOf('=');
      const name = token.slice(2, eq === -1 ? undefined : eq);
      const inline = eq === -1 ? undefined : token.slice(eq + 1);
      const flag = `--${name}`;
      const option = byName.get(name);
      const negated = name.startsWith('no-') && inline === undefined ? name.slice(3) : undefined;
      if (option !== undefined) {
        parsed.options[option.name] =
          option.type === 'boolean'
            ? booleanOf(flag, inline)
            : takeValue(flag, inline, option.value ?? 'VALUE');
      } else if (negated !== undefined && byName.get(negated)?.type === 'boolean') {
        parsed.options[negated] = false;
      } else if (spec.settings !== undefined && name === 'config') {
        parsed.configFile = takeValue(flag, inline, 'PATH');
      } else if (spec.settings?.has(name)) {
        const value = spec.settings.get(name) ? (inline ?? true) : takeValue(flag, inline, 'VALUE');
        parsed.settings.push({ flag: name, value });
      } else if (negated !== undefined && spec.settings?.get(negated) === true) {
        parsed.settings.push({ flag: negated, value: false });
      } else {
        throw CliErrors.UNKNOWN_FLAG(flag, spec.command, hint(name, spec));
      }
      continue;
    }
    if (token.startsWith('-') && token.length > 1) {
      const option = byShort.get(token.slice(1));
      if (option === undefined)
        throw CliErrors.UNKNOWN_FLAG(token, spec.command, hint(token.slice(1), spec));
      parsed.options[option.name] =
        option.type === 'boolean' ? true : takeValue(token, undefined, option.value ?? 'VALUE');
      continue;
    }
    parsed.args.push(token);
  }

  const declared = spec.args ?? [];
  if (parsed.args.length > declared.length) {
    throw CliErrors.UNEXPECTED_ARGUMENT(parsed.args[declared.length]!, spec.usage);
  }
  const missing = declared.slice(parsed.args.length).find((a) => a.optional !== true);
  if (missing !== undefined) throw CliErrors.MISSING_ARGUMENT(missing.name, spec.usage);
  return parsed;
}

function hint(name: string, spec: ParseSpec): string {
  const candidates = [...spec.options.map((o) => o.name), 'help'];
  if (spec.settings !== undefined) candidates.push('config', ...spec.settings.keys());
  const match = closest(name, candidates);
  if (match !== undefined) return `; did you mean --${match}?`;
  if (spec.settings === undefined && name.includes('.'))
    return `; pier ${spec.command} takes no settings`;
  return `; see pier help ${spec.command}`;
}
