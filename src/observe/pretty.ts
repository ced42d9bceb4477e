// A terminal rendering of pino's JSON lines: `12:00:01.234 INFO  admin: listening address=127.0.0.1:9901`.
// For people at a terminal (log.format=pretty); machines read the JSON.

import type { DestinationStream } from 'pino';

const colours: Record<string, string> = {
  fatal: '\u001b[35m',
  error: '\u001b[31m',
  warn: '\u001b[33m',
  info: '\u001b[32m',
  debug: '\u001b[36m',
  trace: '\u001b[90m',
};
const reset = '\u001b[0m';
const skipped = new Set(['level', 'time', 'pid', 'hostname', 'component', 'msg', 'err', 'error']);

/** Formats each line, then writes it to `out`; `colour` adds ANSI colours to the level. */
export function createPrettyDestination(out: DestinationStream, colour = false): DestinationStream {
  return {
    write(line: string): void {
      out.write(formatLine(line, colour));
    },
  };
}

export function formatLine(line: string, colour = false): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const level = String(entry.level ?? 'info');
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 23) : '';
  const label = level.toUpperCase().padEnd(5);
  const parts = [time, colour ? `${colours[level] ?? ''}${label}${reset}` : label];
  const component = typeof entry.component === 'string' ? `${entry.component}: ` : '';
  parts.push(`${component}${String(entry.msg ?? '')}`);
  for (const [key, value] of Object.entries(entry)) {
    if (skipped.has(key)) continue;
    parts.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  }
  let text = parts.filter((p) => p !== '').join(' ');
  const err = (entry.err ?? entry.error) as
    | { code?: unknown; stack?: unknown; message?: unknown }
    | undefined;
  if (err !== undefined && typeof err === 'object') {
    if (err.code !== undefined) text += ` code=${String(err.code)}`;
    text += `\n    ${String(err.stack ?? err.message).replaceAll('\n', '\n    ')}`;
  }
  return `${text}\n`;
}
