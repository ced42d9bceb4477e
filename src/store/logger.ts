// The logger the Store and informers report to: the subset of pino they use,
// so a pino logger (or a child of one) can be passed as it is.

export interface StoreLogger {
  warn(fields: Record<string, unknown>, message: string): void;
  /** For recoveries (reconnected, resumed); warn is used when absent. */
  info?(fields: Record<string, unknown>, message: string): void;
}

/** Used when no logger is given: one JSON line per message on stderr, so nothing is swallowed. */
export const stderrLogger: StoreLogger = {
  warn: (fields, message) => writeLine('warn', fields, message),
  info: (fields, message) => writeLine('info', fields, message),
};

/** logger.info when it has one, else logger.warn. */
export function logInfo(
  logger: StoreLogger,
  fields: Record<string, unknown>,
  message: string,
): void {
  if (logger.info !== undefined) logger.info(fields, message);
  else logger.warn(fields, message);
}

function writeLine(level: string, fields: Record<string, unknown>, message: string): void {
  const line: Record<string, unknown> = { level, time: Date.now(), msg: message };
  for (const [key, value] of Object.entries(fields)) {
    line[key] =
      value instanceof Error
        ? { message: value.message, code: (value as { code?: unknown }).code }
        : value;
  }
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
