// The baseline: wrk straight to the backend, no proxy. The ceiling every
// proxy is below; it has no workers of its own, so it is measured once per
// case (in the first workers group).

import type { Peer } from '../../bench/benchmark.ts';
import { nginxVersion } from '../backend.ts';
import type { GatewayFixture } from '../fixture.ts';

export const directPeer: Peer<GatewayFixture> = {
  name: 'direct',
  label: 'direct to backend',
  version: async () => `backend nginx ${await nginxVersion()}`,
  async start({ fixture }) {
    const { backend } = fixture;
    return { host: backend.host, port: backend.port, processes: [backend.process] };
  },
};
