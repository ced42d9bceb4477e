// Logging: pino JSON lines on stdout (src/observe/logger.ts).

import { z } from 'zod';
import { section, setting } from '../setting.ts';

export const log = section('Logging: one JSON object per line on stdout.', {
  level: setting(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), {
    default: 'info',
    description: 'The least severe level written; `silent` writes nothing.',
  }),
  format: setting(z.enum(['json', 'pretty']), {
    default: 'json',
    description: '`json` for machines; `pretty` for a terminal (one coloured line per entry).',
  }),
});
