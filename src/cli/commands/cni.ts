// `pier cni`: the CNI plugin, two ways.
//
// With CNI_COMMAND set (the runtime runs `pier` with no arguments, or a
// plugin named `pier` in its bin dir), it is the plugin: the request goes to
// the node agent, the agent's answer is printed. This path works, but loads
// the CLI first; runtimes should run bin/pier-cni, which starts faster.
//
// `pier cni install --bin-dir /opt/cni/bin` puts the plugin in the runtime's
// plugin directory (as flannel's and Calico's installers do): one plain
// CommonJS file (agent/cni/plugin-file.ts) with this Node.js's absolute path
// in its shebang, the fastest form to start; or, with --link, a symbolic link
// to bin/pier-cni.

import type { CommandContext, OptionSpec } from '../command.ts';
import { ExitCode } from '../command.ts';

export const name = 'cni';
export const summary = 'The CNI plugin executable, run by the container runtime';
export const usage =
  'pier cni   (or pier with CNI_COMMAND set, as the runtime calls it) | pier cni install --bin-dir DIR';
export const description = `Run by the container runtime (CNI_COMMAND=ADD|DEL|CHECK|STATUS|GC|VERSION), not by hand:
passes the request to the node agent (pier agent) over its socket. \`pier cni install\`
puts the fast executable, pier-cni, into the runtime's CNI bin directory.`;
export const options: readonly OptionSpec[] = [
  {
    name: 'bin-dir',
    type: 'string',
    value: 'DIR',
    description: 'install: the CNI bin directory (e.g. /opt/cni/bin)',
  },
  {
    name: 'link',
    type: 'boolean',
    description: 'install: a symbolic link to bin/pier-cni instead of the one-file plugin',
  },
];
export const args = [
  { name: 'action', description: '`install`, or nothing to run as the plugin', optional: true },
];

export async function run(ctx: CommandContext): Promise<number> {
  const action = ctx.args[0];
  if (action === 'install') return install(ctx);
  if (action !== undefined) {
    ctx.stderr.write(`pier: unknown cni action ${JSON.stringify(action)}; usage: ${usage}\n`);
    return ExitCode.usage;
  }
  const { readFileSync } = await import('node:fs');
  const { runClient } = await import('../../../agent/cni/client.ts');
  let stdin = '';
  try {
    stdin = readFileSync(0, 'utf8');
  } catch {
    // no stdin: the client answers that the configuration is missing
  }
  const response = await runClient({ env: ctx.env, stdin });
  ctx.stdout.write(response.stdout);
  return response.exitCode;
}

async function install(ctx: CommandContext): Promise<number> {
  const binDir = ctx.options['bin-dir'];
  if (typeof binDir !== 'string' || binDir === '') {
    ctx.stderr.write(
      'pier: cni install needs --bin-dir DIR (the runtime’s CNI plugin directory)\n',
    );
    return ExitCode.usage;
  }
  const { chmod, mkdir, rename, rm, symlink, writeFile } = await import('node:fs/promises');
  const { dirname, join, resolve } = await import('node:path');
  const { fileURLToPath } = await import('node:url');
  const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const source = join(repo, 'bin/pier-cni');
  const target = join(binDir, 'pier-cni');
  const temp = `${target}.${process.pid}.tmp`;
  await mkdir(binDir, { recursive: true });
  await rm(temp, { force: true });
  if (ctx.options.link === true) {
    await symlink(source, temp);
  } else {
    const { renderPluginFile } = await import('../../../agent/cni/plugin-file.ts');
    await writeFile(temp, await renderPluginFile({ node: process.execPath }));
    await chmod(temp, 0o755);
  }
  await rename(temp, target);
  ctx.stdout.write(`installed ${target}${ctx.options.link === true ? ` -> ${source}` : ''}\n`);
  return ExitCode.ok;
}
