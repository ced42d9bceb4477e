import { describe, expect, it } from 'vitest';
import { firstErrorLine } from './first-error-line.ts';

describe('firstErrorLine', () => {
  // process output -> the line a failed row shows
  const table: Array<[string, string]> = [
    ['', ''],
    [
      'pier: unknown flag --manifests.path for pier gateway\n',
      'pier: unknown flag --manifests.path for pier gateway',
    ],
    [
      [
        'node:internal/modules/cjs/loader:1228',
        '  throw err;',
        '  ^',
        '',
        "Error: Cannot find module '/work/main/bin/pier.ts'",
        '    at Module._resolveFilename (node:internal/modules/cjs/loader:1225:15)',
        '',
        'Node.js v24.21.0',
      ].join('\n'),
      "Error: Cannot find module '/work/main/bin/pier.ts'",
    ],
    [
      '(node:123) ExperimentalWarning: something\n(Use `node --trace-warnings ...` to show where)\nlistening failed\n',
      'listening failed',
    ],
    [
      '2026/11/29 22:00:00 [emerg] 42#42: bind() to 127.0.0.1:80 failed (98: Address already in use)\nnginx: [emerg] still could not bind()\n',
      '2026/11/29 22:00:00 [emerg] 42#42: bind() to 127.0.0.1:80 failed (98: Address already in use)',
    ],
    [
      '[NOTICE]   (1) : haproxy version is 2.6.12\n[ALERT]    (31695) : [haproxy.main()] Cannot raise FD limit to 40014, limit is 20000.\n',
      '[ALERT]    (31695) : [haproxy.main()] Cannot raise FD limit to 40014, limit is 20000.',
    ],
    [
      'starting\nPIER_GW_LISTEN_FAILED: port 8080 is taken\n',
      'PIER_GW_LISTEN_FAILED: port 8080 is taken',
    ],
    ['TypeError [ERR_INVALID_ARG_TYPE]: bad\n', 'TypeError [ERR_INVALID_ARG_TYPE]: bad'],
  ];
  it.each(table)('%j -> %j', (output, expected) => expect(firstErrorLine(output)).toBe(expected));

  it('cuts long lines', () => {
    const line = firstErrorLine(`Error: ${'x'.repeat(500)}`, 50);
    expect(line).toHaveLength(50);
    expect(line.endsWith('…')).toBe(true);
  });
});
