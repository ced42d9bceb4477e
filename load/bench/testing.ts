// Test support for the harness's tests (maintained code, not a mock): which
// Debian tools a test needs, and the rule for a missing one: under CI=true
// the test fails naming it; elsewhere it is skipped with the name in its title.

import { it } from 'vitest';
import { findExecutable } from './process.ts';

const found = new Map<string, boolean>();

export async function missingTools(tools: readonly string[]): Promise<string[]> {
  const missing: string[] = [];
  for (const tool of tools) {
    if (!found.has(tool)) found.set(tool, (await findExecutable(tool)) !== undefined);
    if (!found.get(tool)) missing.push(tool);
  }
  return missing;
}

/** `it` for a test that needs these executables on PATH; resolve `missing` once per file with missingTools. */
export function itNeeds(
  missing: readonly string[],
  name: string,
  body: () => Promise<void>,
  timeoutMs?: number,
): void {
  if (missing.length === 0) {
    it(name, body, timeoutMs);
  } else if (process.env.CI === 'true') {
    it(name, () => {
      throw new Error(`missing requirement: ${missing.join(', ')} (install the Debian package(s))`);
    });
  } else {
    it.skip(`${name} (needs ${missing.join(', ')})`, body);
  }
}
