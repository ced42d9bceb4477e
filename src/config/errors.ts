// The config error table (convention 9). Every message names the setting,
// where the value came from (flag, environment variable, file:line) and what
// the setting accepts, so the fix is in the message.

import { errorTable, PierError } from '../errors.ts';

export const ConfigErrors = errorTable('CONFIG', {
  /** `PIER_ADMIN_ADDRESS="abc": admin.address must be host:port, e.g. 127.0.0.1:9901` */
  INVALID_VALUE: (where: string, path: string, accepts: string) =>
    `${where}: ${path} must be ${accepts}`,
  UNKNOWN_KEY: (where: string, key: string, hint: string) =>
    `${where}: unknown setting ${key}${hint}`,
  UNKNOWN_ENV: (name: string, hint: string) => `${name} is not a Pier setting${hint}`,
  UNKNOWN_FLAG: (flag: string, hint: string) => `--${flag} is not a Pier setting${hint}`,
  NOT_A_MAPPING: (where: string, what: string, keys: string) =>
    `${where}: ${what} must be a mapping of ${keys}`,
  FILE_UNREADABLE: (path: string, from: string, reason: string) =>
    `config file ${path} (from ${from}) cannot be read: ${reason}`,
  FILE_SYNTAX: (where: string, reason: string) => `${where}: not valid YAML: ${reason}`,
});

/**
 * All problems of one load, reported together so a user fixes them in one
 * round. `code` is the first problem's; `problems` holds each with its own code.
 */
export class ConfigError extends PierError {
  readonly problems: readonly PierError[];

  constructor(problems: readonly PierError[]) {
    const first = problems[0];
    if (first === undefined) throw new Error('ConfigError needs at least one problem');
    super(first.code, problems.map((p) => p.message).join('\n'));
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
