// A Conntrack port that records what it was asked to delete.

import type { Conntrack, ConntrackFilter } from '../conntrack.ts';

export interface FakeConntrack extends Conntrack {
  readonly deleted: ConntrackFilter[];
}

export function createFakeConntrack(): FakeConntrack {
  const deleted: ConntrackFilter[] = [];
  return {
    deleted,
    async delete(filter) {
      deleted.push(filter);
      return 1;
    },
  };
}
