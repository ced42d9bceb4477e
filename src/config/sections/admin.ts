// The admin HTTP server of every Pier process (src/observe/admin-server.ts).

import { hostPort, hostPortAccepts } from '../formats.ts';
import { section, setting } from '../setting.ts';

export const admin = section(
  'The admin HTTP server: /healthz, /readyz, /metrics, /debug/state. Keep it off public interfaces.',
  {
    address: setting(hostPort(), {
      default: '127.0.0.1:9901',
      accepts: hostPortAccepts('127.0.0.1:9901'),
      description: 'Where the admin server listens; port 0 picks a free port.',
    }),
  },
);
