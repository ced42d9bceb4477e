// Help text: `pier --help` from the command table alone (no command module is
// loaded), `pier help <command>` from the command's own declarations.

import type { SettingsTable } from '../config/settings.ts';
import type { Command } from './command.ts';
import type { CommandEntry } from './commands.ts';

export function renderRootHelp(entries: readonly CommandEntry[], version: string): string {
  return [
    `Pier ${version}: Kubernetes networking in one TypeScript codebase.`,
    '',
    'Usage: pier <command> [flags]',
    '',
    'Commands:',
    ...columns([
      ...entries.map((e) => [e.name, e.summary] as const),
      ['help', 'Show help for a command: pier help <command>'],
    ]),
    '',
    'Flags:',
    ...columns([
      ['-h, --help', 'Show help (also after any command)'],
      ['    --version', 'Print the version, as pier version'],
    ]),
    '',
    'Settings are flags too (pier start --log.level=debug); pier config --reference lists them.',
    'Exit codes: 0 ok, 1 runtime failure, 2 usage or config error.',
    '',
  ].join('\n');
}

export function renderCommandHelp(command: Command, settings: SettingsTable | undefined): string {
  const out = [`pier ${command.name}: ${command.summary}`, '', `Usage: ${command.usage}`];
  if (command.description !== undefined) out.push('', command.description.trim());
  if (command.args !== undefined && command.args.length > 0) {
    out.push(
      '',
      'Arguments:',
      ...columns(command.args.map((a) => [a.optional ? `[${a.name}]` : a.name, a.description])),
    );
  }
  const flags = command.options.map((o) => {
    const short = o.short === undefined ? '    ' : `-${o.short}, `;
    const value = o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : '';
    return [`${short}--${o.name}${value}`, o.description] as const;
  });
  out.push('', 'Flags:', ...columns([...flags, ['-h, --help', 'Show this help']]));
  if (settings !== undefined) {
    out.push(
      '',
      'Settings (each overrides the one before: defaults, the --config file, PIER_* env, these flags):',
      ...columns([
        ['    --config PATH', 'YAML config file (or PIER_CONFIG)'],
        ...settings.settings.map((s) => {
          const value = s.kind === 'boolean' ? '[=BOOL]' : ' VALUE';
          return [
            `    --${s.flag}${value}`,
            `${s.accepts} (default ${String(s.default)})`,
          ] as const;
        }),
      ]),
      '',
      'pier config --reference describes each setting.',
    );
  }
  return `${out.join('\n')}\n`;
}

function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`);
}
