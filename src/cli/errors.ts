// The CLI's error table. Codes PIER_CLI_* and PIER_CONFIG_* are usage errors
// (exit code 2); anything else a command throws is a runtime failure (1).

import { errorTable } from '../errors.ts';

export const CliErrors = errorTable('CLI', {
  UNKNOWN_COMMAND: (name: string, hint: string) => `unknown command ${name}${hint}`,
  UNKNOWN_FLAG: (flag: string, command: string, hint: string) =>
    `unknown flag ${flag} for pier ${command}${hint}`,
  FLAG_BEFORE_COMMAND: (flag: string) =>
    `unknown flag ${flag}; flags go after the command, as in pier start ${flag.includes('=') ? flag : `${flag} ...`}`,
  MISSING_VALUE: (flag: string, placeholder: string) =>
    `${flag} needs a value: ${flag} ${placeholder}`,
  NOT_A_BOOLEAN: (flag: string, value: string) =>
    `${flag}=${value}: ${flag} takes true or false, or no value`,
  UNEXPECTED_ARGUMENT: (arg: string, usage: string) =>
    `unexpected argument ${arg}; usage: ${usage}`,
  MISSING_ARGUMENT: (name: string, usage: string) => `missing ${name}; usage: ${usage}`,
  NOT_BUILT: (command: string, instead: string) => `pier ${command} is not built yet. ${instead}`,
  COMMAND_LOAD: (command: string, reason: string) =>
    `the ${command} command cannot be loaded: ${reason}`,
});
