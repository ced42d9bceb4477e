// Facts about the cluster every component agrees on.

import { dnsName } from '../formats.ts';
import { section, setting } from '../setting.ts';

export const cluster = section('The cluster Pier serves.', {
  domain: setting(dnsName(), {
    default: 'cluster.local',
    accepts: 'a lower-case DNS name, e.g. cluster.local',
    description: 'The DNS suffix of Service names: `web.default.svc.<domain>`.',
  }),
});
