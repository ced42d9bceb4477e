// A process that lives until signalled, for lifecycle.test.ts: real signals,
// real exit codes. Mode (argv[2]): `normal`, `hang` (a closer never finishes),
// `throw` (an uncaught PierError after start).

import { PierError } from '../../errors.ts';
import { createLifecycle } from '../lifecycle.ts';
import { createLogger } from '../logger.ts';

const mode = process.argv[2] ?? 'normal';
const logger = createLogger({ level: 'info', format: 'json' });
const lifecycle = createLifecycle({ logger, graceMs: Number(process.env.GRACE_MS ?? 5000) });
lifecycle.install();

const keepAlive = setInterval(() => {}, 1000);
lifecycle.onShutdown('first', () => logger.info('closed first'));
lifecycle.onShutdown('second', async () => {
  if (mode === 'hang') await new Promise(() => {});
  await new Promise((resolve) => setTimeout(resolve, 20));
  logger.info('closed second');
});
lifecycle.onShutdown('timer', () => clearInterval(keepAlive));

if (mode === 'throw') {
  setTimeout(() => {
    throw new PierError('PIER_TEST_BOOM', 'the test blew up');
  }, 10);
}
logger.info('ready');
