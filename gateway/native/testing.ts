// Tests that need the kernel relay (splice.c built): under CI its absence
// fails them by name; elsewhere they are skipped, saying so.

import { describe, expect, it } from 'vitest';
import { spliceAddon, spliceStatus } from './splice.ts';

export function describeWithSplice(name: string, body: () => void): void {
  if (spliceAddon() !== undefined) {
    describe(name, body);
    return;
  }
  const why = `the kernel relay is off: ${spliceStatus()}`;
  if (process.env.CI === 'true') {
    describe(name, () => it('has the kernel relay', () => expect.fail(`${name}: ${why}`)));
    return;
  }
  process.stderr.write(`skipping "${name}": ${why}\n`);
  describe.skip(`${name} (${why})`, body);
}
