import { describe, expect, it } from 'vitest';
import { PierError } from '../errors.ts';
import { createLogger } from './logger.ts';
import { formatLine } from './pretty.ts';

function collect() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => lines.push(line) } };
}

describe('createLogger', () => {
  it('writes one JSON line per entry with level names, ISO time and the component', () => {
    const { lines, destination } = collect();
    const logger = createLogger({ level: 'info', format: 'json' }, { destination });
    logger.child({ component: 'gateway' }).info({ route: 'web' }, 'route added');
    logger.debug('not written at info');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({
      level: 'info',
      component: 'gateway',
      route: 'web',
      msg: 'route added',
      pid: process.pid,
    });
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('keeps the stable code of a PierError', () => {
    const { lines, destination } = collect();
    const logger = createLogger({ level: 'info', format: 'json' }, { destination });
    logger.error(
      { err: new PierError('PIER_GW_UPSTREAM_TIMEOUT', 'upstream web:80 did not answer in 5 s') },
      'request failed',
    );
    const entry = JSON.parse(lines[0]!);
    expect(entry.err).toMatchObject({
      type: 'PierError',
      code: 'PIER_GW_UPSTREAM_TIMEOUT',
      message: 'upstream web:80 did not answer in 5 s',
    });
    expect(entry.err.stack).toContain('PierError');
  });

  it('honours the level setting, silent included', () => {
    for (const [level, written] of [
      ['debug', 3],
      ['warn', 1],
      ['silent', 0],
    ] as const) {
      const { lines, destination } = collect();
      const logger = createLogger({ level, format: 'json' }, { destination });
      logger.debug('d');
      logger.info('i');
      logger.warn('w');
      expect(lines).toHaveLength(written);
    }
  });

  it('pretty: one readable line per entry, error stack indented below', () => {
    const { lines, destination } = collect();
    const logger = createLogger({ level: 'info', format: 'pretty' }, { destination });
    logger.child({ component: 'admin' }).info({ address: '127.0.0.1:9901', n: 2 }, 'listening');
    logger.error({ err: new PierError('PIER_X', 'boom') }, 'failed');
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}admin: listening address=127\.0\.0\.1:9901 n=2\n$/,
    );
    expect(lines[1]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} ERROR failed code=PIER_X\n {4}PierError: boom\n {8}at /,
    );
  });

  it('pretty: passes through what is not JSON', () => {
    expect(formatLine('plain text')).toBe('plain text\n');
  });
});
