// Logs: pino, one JSON object per line on stdout, level as its name. Every
// component logs through a child that names it:
//
//   const log = logger.child({ component: 'gateway' });
//   log.error({ err }, 'upstream failed');   // err.code (PIER_...) is kept
//
// `format: pretty` swaps the destination for a small formatter (pretty.ts)
// rather than adding pino-pretty: for a terminal, not for machines.

import { hostname } from 'node:os';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { PierConfig } from '../config/schema.ts';
import { createPrettyDestination } from './pretty.ts';

export type { Logger };

export interface LoggerOptions {
  /** Where lines go; stdout by default. Tests pass a collector. */
  destination?: DestinationStream;
  /** Fields on every line besides pid and hostname. */
  base?: Record<string, unknown>;
}

export function createLogger(settings: PierConfig['log'], options: LoggerOptions = {}): Logger {
  const destination =
    options.destination !== undefined
      ? settings.format === 'pretty'
        ? createPrettyDestination(options.destination)
        : options.destination
      : settings.format === 'pretty'
        ? createPrettyDestination(process.stdout)
        : undefined;
  const logger = pino(
    {
      level: settings.level,
      base: { pid: process.pid, hostname: hostname(), ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    // undefined: pino's own stdout stream, flushed on exit.
    destination as DestinationStream,
  );
  return logger;
}
