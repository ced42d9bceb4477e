// The Service proxy of `pier agent` (agent/service-proxy.ts): ClusterIP,
// NodePort, external and load-balancer IPs through the node's own nftables
// table, kube-proxy's nftables mode as the model.

import { z } from 'zod';
import { section, setting } from '../setting.ts';

export const serviceProxy = section(
  'The Service proxy of `pier agent`: Service traffic to endpoints through nftables maps.',
  {
    enabled: setting(z.boolean(), {
      default: true,
      description:
        'Run the Service proxy in `pier agent` (off: another proxy, e.g. kube-proxy, does it).',
    }),
    table: setting(z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]{0,63}$/), {
      default: 'pier_services',
      accepts: 'an nftables table name (letters, digits, _ and -), e.g. pier_services',
      description: 'The proxy’s own nftables table (family ip); nothing else should change it.',
    }),
    minSyncIntervalMs: setting(z.number().int().min(0).max(60_000), {
      default: 1000,
      description:
        'Least time between two syncs: a burst of Service and endpoint changes becomes one nftables transaction.',
    }),
    syncPeriodSeconds: setting(z.number().int().min(1), {
      default: 30,
      description:
        'A sync at least this often: the table is checked and written again in full if someone changed it.',
    }),
    fullSyncPeriodSeconds: setting(z.number().int().min(60), {
      default: 3600,
      description: 'A full rewrite of the table at least this often.',
    }),
    masqueradeBit: setting(z.number().int().min(0).max(31), {
      default: 14,
      description:
        'The packet mark bit that asks for masquerade (0x4000 by default, as kube-proxy); change it if another component uses that bit.',
    }),
  },
);
