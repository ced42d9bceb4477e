import { describe, expect, it } from 'vitest';
import { PierError } from '../errors.ts';
import type { Command, CommandContext } from './command.ts';
import type { CommandEntry } from './commands.ts';
import { type CliIo, runCli } from './main.ts';

// In-process runs of the dispatcher against a table of test commands: the exit
// code mapping and context wiring. pier.test.ts runs the real executable.

function capture(
  env: Record<string, string> = {},
): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    cwd: process.cwd(),
    out: () => out,
    err: () => err,
  };
}

const entry = (command: Partial<Command> & { name: string }): CommandEntry => ({
  name: command.name,
  summary: command.summary ?? 'test',
  load: async () => ({
    summary: 'test',
    usage: `pier ${command.name}`,
    options: [],
    run: () => 0,
    ...command,
  }),
});

let seen: CommandContext | undefined;
const table: CommandEntry[] = [
  entry({ name: 'ok', run: () => 0 }),
  entry({ name: 'silent', run: (() => undefined) as unknown as Command['run'] }),
  entry({
    name: 'boom',
    run: () => {
      throw new Error('disk on fire');
    },
  }),
  entry({
    name: 'coded',
    run: async () => {
      throw new PierError('PIER_TEST_BROKEN', 'the widget broke; replace it');
    },
  }),
  entry({ name: 'three', run: () => 3 }),
  {
    name: 'missing',
    summary: 'x',
    load: async () => {
      throw new Error('Cannot find module missing.ts');
    },
  },
  {
    name: 'misnamed',
    summary: 'x',
    load: async () => ({ name: 'other', summary: 'x', usage: 'x', options: [], run: () => 0 }),
  },
  entry({
    name: 'settings',
    settings: true,
    options: [{ name: 'flag', type: 'boolean', description: 'f' }],
    run: async (ctx) => {
      seen = ctx;
      const { config, origins } = await ctx.config();
      ctx.stdout.write(`${config.log.level} ${JSON.stringify(origins.get('log.level'))}`);
      return 0;
    },
  }),
  entry({
    name: 'nosettings',
    run: async (ctx) => {
      await ctx.config();
      return 0;
    },
  }),
];

describe('runCli exit codes', () => {
  it.each([
    [['ok'], 0],
    [['silent'], 0],
    [['three'], 3],
    [['boom'], 1],
    [['coded'], 1],
    [['missing'], 1],
    [['misnamed'], 1],
    [['nosettings'], 1],
    [['nope'], 2],
    [['ok', '--nope'], 2],
    [['settings', '--log.level=loud'], 2],
    [['--nope'], 2],
    [[], 2],
    [['--help'], 0],
    [['help'], 0],
    [['help', 'ok'], 0],
    [['ok', '-h'], 0],
    [['help', 'nope'], 2],
  ])('%j -> %i', async (argv, code) => {
    expect(await runCli(argv, capture(), table)).toBe(code);
  });

  it('reports runtime failures with the code, or the stack of a bug', async () => {
    const coded = capture();
    await runCli(['coded'], coded, table);
    expect(coded.err()).toBe('pier: the widget broke; replace it (PIER_TEST_BROKEN)\n');
    const bug = capture();
    await runCli(['boom'], bug, table);
    expect(bug.err()).toMatch(/^pier: unexpected error: Error: disk on fire\n {4}at /);
    const missing = capture();
    await runCli(['missing'], missing, table);
    expect(missing.err()).toBe(
      'pier: the missing command cannot be loaded: Cannot find module missing.ts\n',
    );
    const misnamed = capture();
    await runCli(['misnamed'], misnamed, table);
    expect(misnamed.err()).toBe(
      'pier: the misnamed command cannot be loaded: its module says name "other"\n',
    );
  });

  it('gives a settings command its flags, env and config file, loaded once', async () => {
    const io = capture({ PIER_LOG_LEVEL: 'warn', PIER_UNRELATED_THING: 'x' });
    expect(await runCli(['settings', '--flag', '--log.level', 'debug'], io, table)).toBe(0);
    expect(io.out()).toBe('debug {"source":"flag","flag":"--log.level"}');
    expect(seen?.options).toEqual({ flag: true });
    expect(seen?.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(await seen?.config()).toBe(await seen?.config());
  });

  it('prints every config problem on its own line, exit 2', async () => {
    const io = capture({ PIER_ADMIN_ADDRESS: 'abc' });
    expect(await runCli(['settings', '--log.level=loud'], io, table)).toBe(2);
    expect(io.err()).toBe(
      [
        'pier: PIER_ADMIN_ADDRESS="abc": admin.address must be host:port, e.g. 127.0.0.1:9901',
        'pier: --log.level="loud": log.level must be one of fatal, error, warn, info, debug, trace, silent',
        '',
      ].join('\n'),
    );
  });

  it('routes a bare invocation with CNI_COMMAND to the cni command', async () => {
    const cni: CommandEntry[] = [
      entry({
        name: 'cni',
        run: (ctx) => {
          ctx.stdout.write('cni ran');
          return 0;
        },
      }),
    ];
    const io = capture({ CNI_COMMAND: 'VERSION' });
    expect(await runCli([], io, cni)).toBe(0);
    expect(io.out()).toBe('cni ran');
  });
});
