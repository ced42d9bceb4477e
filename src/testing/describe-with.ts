// Tests that need something this machine may lack (a tool, root, a built
// addon): under CI=true its absence fails a test that names it; elsewhere
// the tests are skipped with a visible message, never silently.

import { describe, it } from 'vitest';

/** describe() when nothing is missing; otherwise a failing test under CI, a loud skip elsewhere. */
export function describeWith(missing: string | undefined, name: string, body: () => void): void {
  if (missing === undefined) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('has what it needs', () => {
        throw new Error(`${name}: ${missing}`);
      });
    });
  } else {
    process.stderr.write(`skipping "${name}": ${missing}\n`);
    describe.skip(`${name} (${missing})`, body);
  }
}
