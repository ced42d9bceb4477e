// What a CLI command is. Each command is one module under commands/ whose
// named exports satisfy `Command`; commands.ts lists them in order and
// imports each only when it runs (src/cli/README.md).

import type { ResolvedConfig } from '../config/resolve.ts';

export interface Output {
  write(chunk: string): unknown;
}

export interface OptionSpec {
  /** kebab-case, without dashes: `reference` is `--reference`. */
  name: string;
  /** One letter: `r` is `-r`. */
  short?: string;
  /** A boolean is present or not (`--json`, `--no-json`, `--json=false`); a string takes a value. */
  type: 'boolean' | 'string';
  description: string;
  /** The value's placeholder in help: `PATH`. */
  value?: string;
}

export interface ArgSpec {
  name: string;
  description: string;
  optional?: boolean;
}

export interface CommandContext {
  /** The command's own flags by name, as declared in its `options`. */
  options: Readonly<Record<string, string | boolean | undefined>>;
  /** Positional arguments, as declared in its `args`. */
  args: readonly string[];
  stdout: Output;
  stderr: Output;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  /** Pier's version (package.json). */
  version: string;
  /**
   * The effective config: defaults < --config file (or PIER_CONFIG) < PIER_* env <
   * setting flags. Only for commands with `settings: true`. Loaded once; throws
   * ConfigError, which the CLI reports with exit code 2.
   */
  config(): Promise<ResolvedConfig>;
}

export interface Command {
  name: string;
  /** One line for `pier --help`; the same text as its entry in commands.ts. */
  summary: string;
  /** `pier config [--reference] [--json]` */
  usage: string;
  /** Paragraphs shown by `pier help <command>` after the usage. */
  description?: string;
  options: readonly OptionSpec[];
  args?: readonly ArgSpec[];
  /** The command takes the setting flags (`--log.level`, ...) and `--config`. */
  settings?: boolean;
  /** Resolves to the exit code: 0 ok, 1 runtime failure, 2 usage or config error. */
  run(ctx: CommandContext): Promise<number> | number;
}

/** The exit codes every command uses. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
} as const;
