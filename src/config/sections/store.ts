// Where objects are kept (src/store.ts): embedded memory or a shared Redis.

import { dnsLabelName, urlWithScheme } from '../formats.ts';
import { section, setting } from '../setting.ts';

export const store = section('The Store every component reads its objects from.', {
  url: setting(urlWithScheme(['memory', 'redis', 'rediss']), {
    default: 'memory:',
    accepts: '`memory:` or a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0',
    description:
      '`memory:` keeps objects in this process (one process, nothing shared); `redis://` shares them between processes and hosts.',
    sensitive: true,
  }),
  cluster: setting(dnsLabelName(), {
    default: 'default',
    accepts: 'a DNS label (a-z, 0-9, -), e.g. prod-eu',
    description: 'The key prefix in the Store, so one Redis can serve several clusters.',
  }),
});
