// The logger the agent reports to: the subset of pino it uses, so a pino
// logger (or a child of one) can be passed as it is. Without one, JSON lines
// go to stderr, so nothing is swallowed.

export type LogFields = Record<string, unknown>;

export interface AgentLogger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

const LEVELS = { debug: 20, info: 30, warn: 40, error: 50 } as const;
type Level = keyof typeof LEVELS;

/** JSON lines on stderr at `level` and above, pino's shape (level number, time, msg). */
export function createStderrLogger(level: Level = 'info', bindings: LogFields = {}): AgentLogger {
  const min = LEVELS[level];
  const write = (at: Level, fields: LogFields, message: string) => {
    if (LEVELS[at] < min) return;
    const line: LogFields = { level: LEVELS[at], time: Date.now(), ...bindings, msg: message };
    for (const [key, value] of Object.entries(fields)) line[key] = plain(value);
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (f, m) => write('debug', f, m),
    info: (f, m) => write('info', f, m),
    warn: (f, m) => write('warn', f, m),
    error: (f, m) => write('error', f, m),
  };
}

/** A logger that keeps its lines, for tests that assert what was reported. */
export function createMemoryLogger(): AgentLogger & {
  lines: { level: Level; message: string; fields: LogFields }[];
} {
  const lines: { level: Level; message: string; fields: LogFields }[] = [];
  const keep = (level: Level) => (fields: LogFields, message: string) => {
    lines.push({ level, message, fields });
  };
  return {
    lines,
    debug: keep('debug'),
    info: keep('info'),
    warn: keep('warn'),
    error: keep('error'),
  };
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    return { message: value.message, code: (value as { code?: unknown }).code };
  }
  return value;
}
