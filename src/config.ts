// Pier's settings: one schema (src/config/schema.ts), merged from
//   defaults < YAML file (--config path or PIER_CONFIG) < environment PIER_* < flags
// into one frozen PierConfig that each component reads its section of.
//
//   const { config } = await loadConfig({ configFile, flags });
//   createLogger(config.log);
//
// How to add a section: src/config/README.md.

import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { ConfigError, ConfigErrors } from './config/errors.ts';
import { type FlagValue, type ResolvedConfig, resolveConfig } from './config/resolve.ts';

export { ConfigError, ConfigErrors } from './config/errors.ts';
export { maskSecret } from './config/mask.ts';
export { describeOrigin, renderEffectiveConfig } from './config/print.ts';
export { renderConfigReference } from './config/reference.ts';
export type { ConfigInput, FlagValue, Origin, ResolvedConfig } from './config/resolve.ts';
export { resolveConfig } from './config/resolve.ts';
export type { PierConfig } from './config/schema.ts';
export { configSchema } from './config/schema.ts';
export type { SettingInfo, SettingsTable } from './config/settings.ts';
export { settingsTable } from './config/settings.ts';

export interface LoadConfigOptions {
  /** The `--config` flag's path; wins over PIER_CONFIG. */
  configFile?: string;
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Setting flags from the command line, in order. */
  flags?: readonly FlagValue[];
  /** Where a relative config path starts; defaults to process.cwd(). */
  cwd?: string;
}

/** Reads the config file, if one is named, and resolves. Throws ConfigError (exit code 2 in the CLI). */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<ResolvedConfig> {
  const env = options.env ?? process.env;
  const fromEnv = env.PIER_CONFIG;
  const [path, from] =
    options.configFile !== undefined
      ? [options.configFile, '--config']
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, 'PIER_CONFIG']
        : [undefined, undefined];
  const flags = options.flags ?? [];
  if (path === undefined) return resolveConfig({ env, flags });
  let text: string;
  try {
    text = await readFile(resolvePath(options.cwd ?? process.cwd(), path), 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'no such file'
        : String((error as Error).message);
    const unreadable = ConfigErrors.FILE_UNREADABLE(path, from, reason);
    // Report the other sources' problems too, so one round fixes them all.
    try {
      resolveConfig({ env, flags });
    } catch (other) {
      if (other instanceof ConfigError) throw new ConfigError([unreadable, ...other.problems]);
      throw other;
    }
    throw new ConfigError([unreadable]);
  }
  return resolveConfig({ file: { path, text }, env, flags });
}
