// The logger the Store and informers report to: the subset of pino they use,
// so a pino logger (or a child of one) can be passed as it is.

export interface StoreLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

/** Used when no logger is given: one JSON line per warning on stderr, so nothing is swallowed. */
export const stderrLogger: StoreLogger = {
  warn(fields, message) {
    const line: Record<string, unknown> = { level: 'warn', time: Date.now(), msg: message };
    for (const [key, value] of Object.entries(fields)) {
      line[key] =
        value instanceof Error
          ? { message: value.message, code: (value as { code?: unknown }).code }
          : value;
    }
    process.stderr.write(`${JSON.stringify(line)}\n`);
  },
};
