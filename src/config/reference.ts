// The configuration reference as markdown, generated from the schema: the
// README's table, and `pier config --reference`. Never edited by hand.

import { type SettingInfo, type SettingsTable, settingsTable } from './settings.ts';

export interface ReferenceOptions {
  /** The level of the top heading: 2 renders `## Configuration reference`. */
  headingLevel?: number;
}

export function renderConfigReference(
  options: ReferenceOptions = {},
  table: SettingsTable = settingsTable(),
): string {
  const h = '#'.repeat(options.headingLevel ?? 2);
  const example = table.settings[0];
  const out: string[] = [
    `${h} Configuration reference`,
    '',
    'Settings are merged from these sources, each overriding the one before: the defaults below,',
    'a YAML file (`--config path` or `PIER_CONFIG`), environment variables `PIER_*`, and flags.',
    'Unknown keys in the file and unknown `PIER_*` variables that resemble a setting are errors.',
  ];
  if (example !== undefined) {
    out.push(
      '',
      `In the file, settings nest by section; \`${example.path}\` is set in any of these ways:`,
      '',
      '```yaml',
      ...example.keys.map(
        (key, i) =>
          `${'  '.repeat(i)}${key}:${i === example.keys.length - 1 ? ` ${plain(example.default)}` : ''}`,
      ),
      '```',
      '',
      '```sh',
      `${example.env}=${plain(example.default)} pier start`,
      `pier start --${example.flag}=${plain(example.default)}`,
      '```',
    );
  }
  for (const section of table.sections) {
    out.push('', `${h}# \`${section.name}\``, '', section.description, '');
    const rows = section.settings.map((s) => [
      `\`${s.path}\``,
      code(defaultText(s)),
      `\`${s.env}\``,
      `\`--${s.flag}\``,
      cell(s.accepts),
      cell(s.description),
    ]);
    out.push(
      ...alignedTable(
        ['Setting', 'Default', 'Environment', 'Flag', 'Accepts', 'Description'],
        rows,
      ),
    );
  }
  return `${out.join('\n')}\n`;
}

/** A markdown table padded the way the formatter (biome) pads it, so regenerating changes nothing. */
function alignedTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((title, i) =>
    Math.max(3, title.length, ...rows.map((row) => row[i]!.length)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

function defaultText(s: SettingInfo): string {
  if (Array.isArray(s.default)) return s.default.join(',');
  return plain(s.default);
}

function plain(value: unknown): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

function code(text: string): string {
  return text === '' ? '(empty)' : `\`${cell(text)}\``;
}

function cell(text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ');
}
