// What every gateway peer gets: the running backend and the dir holding the
// wrk scripts, both shared by all groups of one benchmark run.

import type { Backend } from './backend.ts';

export interface GatewayFixture {
  backend: Backend;
  /** Holds <case>.lua for cases with a body. */
  scriptDir: string;
}
