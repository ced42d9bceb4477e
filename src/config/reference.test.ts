import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { renderConfigReference } from './reference.ts';
import { settingsTable } from './settings.ts';

describe('renderConfigReference', () => {
  const markdown = renderConfigReference();
  const rows = markdown.split('\n').filter((line) => line.startsWith('| `'));

  it('has one row per setting, in schema order, with its names and default', () => {
    const table = settingsTable();
    expect(rows).toHaveLength(table.settings.length);
    table.settings.forEach((s, i) => {
      const cells = rows[i]!.split(' | ').map((c) => c.trim());
      expect(cells[0]).toBe(`| \`${s.path}\``);
      expect(cells[2]).toBe(`\`${s.env}\``);
      expect(cells[3]).toBe(`\`--${s.flag}\``);
    });
    expect(rows[0]).toBe(
      '| `log.level`  | `info`  | `PIER_LOG_LEVEL`  | `--log.level`  | one of fatal, error, warn, info, debug, trace, silent | The least severe level written; `silent` writes nothing.                    |',
    );
    expect(markdown).toContain('| `admin.address` | `127.0.0.1:9901` | `PIER_ADMIN_ADDRESS` |');
  });

  it('has a heading per section and the merge order', () => {
    for (const section of settingsTable().sections)
      expect(markdown).toContain(`### \`${section.name}\`\n`);
    expect(markdown.startsWith('## Configuration reference\n')).toBe(true);
    expect(markdown).toContain(
      'the defaults below,\na YAML file (`--config path` or `PIER_CONFIG`), environment variables `PIER_*`, and flags.',
    );
    expect(
      renderConfigReference({ headingLevel: 1 }).startsWith('# Configuration reference\n\n'),
    ).toBe(true);
  });

  it('keeps every table row at six cells (pipes in text are escaped)', () => {
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(6);
  });

  it('is already formatted the way biome formats markdown, so pasting it into the README is stable', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const formatted = execFileSync(
      `${root}node_modules/.bin/biome`,
      ['format', '--stdin-file-path=README.md'],
      {
        cwd: root,
        input: markdown,
        encoding: 'utf8',
      },
    );
    expect(formatted).toBe(markdown);
  });
});
