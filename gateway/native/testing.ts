// Tests that need the kernel relay (splice.c built): under CI its absence
// fails them by name; elsewhere they are skipped, saying so.

import { describeWith } from '../../src/testing/describe-with.ts';
import { spliceAddon, spliceStatus } from './splice.ts';

export function describeWithSplice(name: string, body: () => void): void {
  const missing =
    spliceAddon() === undefined ? `the kernel relay is off: ${spliceStatus()}` : undefined;
  describeWith(missing, name, body);
}
