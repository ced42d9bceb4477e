// Pier's version, read from package.json once: `pier version`, help, logs.

import { readFileSync } from 'node:fs';

let version: string | undefined;

export function pierVersion(): string {
  if (version === undefined) {
    const pkg = JSON.parse(
      readFileSync(new URL('../../package.json', import.meta.url), 'utf8'),
    ) as { version?: unknown };
    version = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  }
  return version;
}
