import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { GATEWAY_V8_FLAGS, withGatewayV8Flags } from './v8-flags.ts';

describe('withGatewayV8Flags', () => {
  it('adds the flags a worker lacks, once, after the primary’s own', () => {
    expect(withGatewayV8Flags(['--inspect'])).toEqual(['--inspect', ...GATEWAY_V8_FLAGS]);
    expect(withGatewayV8Flags(withGatewayV8Flags([]))).toEqual([...GATEWAY_V8_FLAGS]);
  });

  it('leaves a value the operator gave on the command line as it is', () => {
    const given = withGatewayV8Flags(['--initial-old-space-size=512']);
    expect(given.filter((flag) => flag.startsWith('--initial-old-space-size'))).toEqual([
      '--initial-old-space-size=512',
    ]);
    expect(given).toContain('--external-memory-accounted-in-global-limit');
  });

  it('names flags this node accepts on its command line', () => {
    // An unknown V8 flag would make every worker fail to start.
    const out = execFileSync(process.execPath, [
      ...GATEWAY_V8_FLAGS,
      '-e',
      'process.stdout.write("ok")',
    ]);
    expect(out.toString()).toBe('ok');
  });
});
