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

/**
 * Synchronous writes to fd 1. pino's default (asynchronous) stream can put the
 * last lines out of order when the process exits mid-write, which is exactly
 * when the shutdown and fatal lines are written. One write per line is cheap
 * next to the work a logged event stands for; per-request access logs, when
 * they come, get their own destination.
 */
let shared: DestinationStream | undefined;
function stdout(): DestinationStream {
  shared ??= pino.destination({ dest: 1, sync: true });
  return shared;
}

export function createLogger(settings: PierConfig['log'], options: LoggerOptions = {}): Logger {
  const out = options.destination ?? stdout();
  const colour = options.destination === undefined && process.stdout.isTTY === true;
  const destination = settings.format === 'pretty' ? createPrettyDestination(out, colour) : out;
  const logger = pino(
    {
      level: settings.level,
      base: { pid: process.pid, hostname: hostname(), ...options.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination,
  );
  return logger;
}
