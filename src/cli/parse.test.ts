import { describe, expect, it } from 'vitest';
import type { OptionSpec } from './command.ts';
import { type ParsedArgs, type ParseSpec, parseArgs, wantsHelp } from './parse.ts';

const options: OptionSpec[] = [
  { name: 'json', type: 'boolean', description: 'JSON' },
  { name: 'output', short: 'o', type: 'string', value: 'FILE', description: 'where' },
];
const settings = new Map([
  ['log.level', false],
  ['manifests.watch', true],
]);
const spec: ParseSpec = {
  command: 'demo',
  usage: 'pier demo [NAME]',
  options,
  args: [{ name: 'NAME', description: 'n', optional: true }],
  settings,
};

// argv -> what the command receives
const ok: [string, Partial<ParsedArgs>][] = [
  ['', {}],
  ['--json', { options: { json: true } }],
  ['--json=false', { options: { json: false } }],
  ['--no-json', { options: { json: false } }],
  ['--output out.txt', { options: { output: 'out.txt' } }],
  ['--output=a=b', { options: { output: 'a=b' } }],
  ['-o out.txt', { options: { output: 'out.txt' } }],
  ['--output -', { options: { output: '-' } }],
  ['web', { args: ['web'] }],
  ['-- --json', { args: ['--json'] }],
  ['--log.level debug', { settings: [{ flag: 'log.level', value: 'debug' }] }],
  [
    '--log.level=debug --log.level=warn',
    {
      settings: [
        { flag: 'log.level', value: 'debug' },
        { flag: 'log.level', value: 'warn' },
      ],
    },
  ],
  ['--manifests.watch', { settings: [{ flag: 'manifests.watch', value: true }] }],
  ['--manifests.watch=off', { settings: [{ flag: 'manifests.watch', value: 'off' }] }],
  ['--no-manifests.watch', { settings: [{ flag: 'manifests.watch', value: false }] }],
  ['--config pier.yaml web', { configFile: 'pier.yaml', args: ['web'] }],
  ['--config=pier.yaml', { configFile: 'pier.yaml' }],
];

describe('parseArgs', () => {
  it.each(ok)('%s', (line, expected) => {
    const argv = line === '' ? [] : line.split(' ');
    expect(parseArgs(argv, spec)).toEqual({ options: {}, args: [], settings: [], ...expected });
  });

  // argv -> the usage error
  const errors: [string, ParseSpec, string][] = [
    ['--jsno', spec, 'unknown flag --jsno for pier demo; did you mean --json?'],
    ['--log.levle=x', spec, 'unknown flag --log.levle for pier demo; did you mean --log.level?'],
    ['--confg x', spec, 'unknown flag --confg for pier demo; did you mean --config?'],
    ['--frobnicate', spec, 'unknown flag --frobnicate for pier demo; see pier help demo'],
    ['-x', spec, 'unknown flag -x for pier demo; see pier help demo'],
    ['--output', spec, '--output needs a value: --output FILE'],
    ['--output --json', spec, '--output needs a value: --output FILE'],
    ['--log.level', spec, '--log.level needs a value: --log.level VALUE'],
    ['--config', spec, '--config needs a value: --config PATH'],
    ['--json=yes', spec, '--json=yes: --json takes true or false, or no value'],
    ['a b', spec, 'unexpected argument b; usage: pier demo [NAME]'],
    [
      '',
      { ...spec, args: [{ name: 'NAME', description: 'n' }] },
      'missing NAME; usage: pier demo [NAME]',
    ],
    [
      '--log.level=debug',
      { command: 'version', usage: 'pier version', options: [] },
      'unknown flag --log.level for pier version; pier version takes no settings',
    ],
    [
      '--config x',
      { command: 'version', usage: 'pier version', options: [] },
      'unknown flag --config for pier version; see pier help version',
    ],
    ['--no-output', spec, 'unknown flag --no-output for pier demo; did you mean --output?'],
  ];
  it.each(errors)('%s -> usage error', (line, s, message) => {
    const argv = line === '' ? [] : line.split(' ');
    expect(() => parseArgs(argv, s)).toThrow(message);
    try {
      parseArgs(argv, s);
    } catch (error) {
      expect((error as { code: string }).code).toMatch(/^PIER_CLI_/);
    }
  });
});

describe('wantsHelp', () => {
  it.each([
    ['--help', true],
    ['-h', true],
    ['--json --help', true],
    ['--bogus -h', true],
    ['-- --help', false],
    ['--json', false],
  ])('%s -> %s', (line, expected) => {
    expect(wantsHelp(line.split(' '))).toBe(expected);
  });
});
