// The agent's kernel ports for real: iproute2 and nft in network namespaces
// made for this run, passing the same suites as the fakes the unit tests use
// (agent/netlink/netlink.case.ts, agent/nftables/nftables.case.ts). The
// "agent's own namespace" is a namespace of the test's; the host's is never
// touched.

import { afterAll, beforeEach, describe } from 'vitest';
import { createIpNetlink } from '../agent/netlink/ip-netlink.ts';
import { netlinkCases } from '../agent/netlink/netlink.case.ts';
import type { Netlink } from '../agent/netlink.ts';
import { createNftables } from '../agent/nftables/nft.ts';
import { nftablesCases } from '../agent/nftables/nftables.case.ts';
import type { Nftables } from '../agent/nftables.ts';
import { createNetnsScope, type NetnsScope, netnsRequirementsMissing } from './support/netns.ts';

const missing = netnsRequirementsMissing();
if (missing !== undefined && process.env.CI !== 'true')
  console.warn(`port tests skipped: ${missing}`);

describe.skipIf(missing !== undefined && process.env.CI !== 'true')('the real kernel ports', () => {
  let scope: NetnsScope;
  let netlink: Netlink;
  let nftables: Nftables;
  let count = 0;

  beforeEach(async () => {
    if (missing !== undefined) throw new Error(`port tests need ${missing}`);
    scope ??= createNetnsScope('k');
    const own = `own${count++}`;
    await scope.create(own);
    // lo down, as a fresh namespace has it (the suite expects to bring it up itself).
    await scope.ip(own, ['link set dev lo down']);
    netlink?.close();
    netlink = createIpNetlink({ ownNetns: scope.path(own) });
    nftables = createNftables({ ownNetns: scope.path(own) });
  });

  afterAll(async () => {
    netlink?.close();
    await scope?.cleanup();
  });

  netlinkCases('iproute2', () => ({
    netlink,
    newNetns: async () => {
      const pod = `pod${count++}`;
      await scope.create(pod);
      await scope.ip(pod, ['link set dev lo down']);
      return scope.path(pod);
    },
    missingNetns: '/var/run/netns/pier-test-no-such-namespace',
  }));

  nftablesCases('nft', () => nftables);
});
