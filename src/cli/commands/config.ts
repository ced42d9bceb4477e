// `pier config`: the effective configuration, each value with where it came
// from, and the reference of every setting.

import { type CommandContext, ExitCode, type OptionSpec } from '../command.ts';

export const name = 'config';
export const summary = 'Print the effective configuration and the settings reference';
export const usage = 'pier config [--effective | --reference | --json] [settings]';
export const description = `Without flags: the effective configuration as YAML (each value annotated with its
source: default, file:line, PIER_* variable or flag), then the reference of every setting.
Passwords in URLs are masked.`;
export const options: readonly OptionSpec[] = [
  {
    name: 'effective',
    type: 'boolean',
    description: 'Print only the effective configuration (YAML)',
  },
  {
    name: 'reference',
    type: 'boolean',
    description: 'Print only the settings reference (markdown)',
  },
  { name: 'json', type: 'boolean', description: 'Print only the effective configuration, as JSON' },
];
export const settings = true;

export async function run(ctx: CommandContext): Promise<number> {
  const { maskSecret, renderConfigReference, renderEffectiveConfig, settingsTable } = await import(
    '../../config.ts'
  );
  const only = ['effective', 'reference', 'json'].filter((o) => ctx.options[o] === true);
  if (only.length > 1) {
    ctx.stderr.write(`pier: --${only.join(' and --')} exclude each other; usage: ${usage}\n`);
    return ExitCode.usage;
  }
  if (ctx.options.reference === true) {
    ctx.stdout.write(renderConfigReference());
    return ExitCode.ok;
  }
  const resolved = await ctx.config();
  if (ctx.options.json === true) {
    // Masked like the YAML: the output is for reading, not for feeding back.
    const masked = JSON.parse(JSON.stringify(resolved.config)) as Record<
      string,
      Record<string, unknown>
    >;
    for (const s of settingsTable().settings) {
      if (!s.sensitive) continue;
      let node: Record<string, unknown> = masked;
      for (const key of s.keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
      const last = s.keys.at(-1)!;
      if (typeof node[last] === 'string') node[last] = maskSecret(node[last]);
    }
    ctx.stdout.write(`${JSON.stringify(masked, null, 2)}\n`);
    return ExitCode.ok;
  }
  ctx.stdout.write(renderEffectiveConfig(resolved));
  if (ctx.options.effective !== true) ctx.stdout.write(`\n${renderConfigReference()}`);
  return ExitCode.ok;
}
