// `pier`: dispatches argv to a command from the table and maps the outcome to
// an exit code: 0 ok, 1 runtime failure, 2 usage or config error. The I/O is
// injected, so tests can run it in-process; bin/pier.ts runs it for real.

import { closest } from '../config/closest.ts';
import type { FlagValue, ResolvedConfig } from '../config/resolve.ts';
import { isPierError, PierError } from '../errors.ts';
import { type Command, type CommandContext, ExitCode, type Output } from './command.ts';
import { type CommandEntry, commands } from './commands.ts';
import { CliErrors } from './errors.ts';
import { renderCommandHelp, renderRootHelp } from './help.ts';
import { parseArgs, wantsHelp } from './parse.ts';
import { pierVersion } from './version-info.ts';

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
}

/** Runs one command line; resolves to its exit code. `table` is replaceable for tests. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  table: readonly CommandEntry[] = commands,
): Promise<number> {
  try {
    return await dispatch(argv, io, table);
  } catch (error) {
    return report(error, io);
  }
}

async function dispatch(
  argv: readonly string[],
  io: CliIo,
  table: readonly CommandEntry[],
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    // The container runtime runs a CNI plugin with no arguments, CNI_COMMAND set.
    if (io.env.CNI_COMMAND !== undefined) return runCommand('cni', [], io, table);
    io.stderr.write(renderRootHelp(table, pierVersion()));
    return ExitCode.usage;
  }
  if (first === '-h' || first === '--help') {
    io.stdout.write(renderRootHelp(table, pierVersion()));
    return ExitCode.ok;
  }
  if (first === '--version') return runCommand('version', rest, io, table);
  if (first === 'help') {
    const [target, extra] = rest;
    if (extra !== undefined) throw CliErrors.UNEXPECTED_ARGUMENT(extra, 'pier help [command]');
    if (target === undefined) {
      io.stdout.write(renderRootHelp(table, pierVersion()));
      return ExitCode.ok;
    }
    const command = await load(entryOf(target, table));
    io.stdout.write(
      renderCommandHelp(command, command.settings === true ? await settingsTable() : undefined),
    );
    return ExitCode.ok;
  }
  if (first.startsWith('-')) throw CliErrors.FLAG_BEFORE_COMMAND(first);
  return runCommand(first, rest, io, table);
}

async function runCommand(
  name: string,
  argv: readonly string[],
  io: CliIo,
  entries: readonly CommandEntry[],
): Promise<number> {
  const command = await load(entryOf(name, entries));
  const table = command.settings === true ? await settingsTable() : undefined;
  if (wantsHelp(argv)) {
    io.stdout.write(renderCommandHelp(command, table));
    return ExitCode.ok;
  }
  const parsed = parseArgs(argv, {
    command: command.name,
    usage: command.usage,
    options: command.options,
    ...(command.args === undefined ? {} : { args: command.args }),
    ...(table === undefined
      ? {}
      : { settings: new Map(table.settings.map((s) => [s.flag, s.kind === 'boolean'])) }),
  });
  let config: Promise<ResolvedConfig> | undefined;
  const ctx: CommandContext = {
    options: parsed.options,
    args: parsed.args,
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    cwd: io.cwd,
    version: pierVersion(),
    config: () => {
      if (table === undefined) {
        return Promise.reject(
          new Error(`pier ${command.name} takes no settings: declare settings: true`),
        );
      }
      config ??= loadConfig(parsed.configFile, parsed.settings, io);
      return config;
    },
  };
  const code = await command.run(ctx);
  return typeof code === 'number' ? code : ExitCode.ok;
}

function entryOf(name: string, table: readonly CommandEntry[]): CommandEntry {
  const entry = table.find((e) => e.name === name);
  if (entry !== undefined) return entry;
  const match = closest(name, [...table.map((c) => c.name), 'help']);
  throw CliErrors.UNKNOWN_COMMAND(
    name,
    match === undefined ? '; run pier --help for the commands' : `; did you mean ${match}?`,
  );
}

/** Imports the command's module and checks it is the command the table names. */
async function load(entry: CommandEntry): Promise<Command> {
  let command: Command;
  try {
    command = await entry.load();
  } catch (error) {
    throw CliErrors.COMMAND_LOAD(entry.name, (error as Error).message ?? String(error));
  }
  const problem =
    command.name !== entry.name
      ? `its module says name ${JSON.stringify(command.name)}`
      : typeof command.run !== 'function'
        ? 'its module exports no run()'
        : !Array.isArray(command.options)
          ? 'its module exports no options list'
          : undefined;
  if (problem !== undefined) throw CliErrors.COMMAND_LOAD(entry.name, problem);
  return command;
}

async function settingsTable() {
  const { settingsTable: table } = await import('../config/settings.ts');
  return table();
}

async function loadConfig(
  configFile: string | undefined,
  flags: readonly FlagValue[],
  io: CliIo,
): Promise<ResolvedConfig> {
  const { loadConfig: load } = await import('../config.ts');
  return load({
    ...(configFile === undefined ? {} : { configFile }),
    flags,
    env: io.env,
    cwd: io.cwd,
  });
}

function report(error: unknown, io: CliIo): number {
  if (
    isPierError(error) &&
    (error.code.startsWith('PIER_CLI_') || error.code.startsWith('PIER_CONFIG_'))
  ) {
    const loadFailure = error.code === CliErrors.codes.COMMAND_LOAD;
    io.stderr.write(`pier: ${error.message.replaceAll('\n', '\npier: ')}\n`);
    return loadFailure ? ExitCode.failure : ExitCode.usage;
  }
  if (error instanceof PierError) {
    io.stderr.write(`pier: ${error.message} (${error.code})\n`);
  } else {
    io.stderr.write(
      `pier: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
  }
  return ExitCode.failure;
}
