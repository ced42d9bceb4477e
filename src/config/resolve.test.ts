import { describe, expect, it } from 'vitest';
import { isPierError } from '../errors.ts';
import { ConfigError } from './errors.ts';
import { describeOrigin } from './print.ts';
import { type FlagValue, resolveConfig } from './resolve.ts';
import { settingsTable } from './settings.ts';

// Sections other issues add (gateway, agent, dns) extend this list.
const sections = settingsTable()
  .sections.map((s) => s.name)
  .join(', ');

// Flags are written as on the command line after the CLI split them:
// `admin.address=1.2.3.4:5` is --admin.address=1.2.3.4:5, a bare name is a bare boolean flag.
const flag = (text: string): FlagValue => {
  const eq = text.indexOf('=');
  return eq === -1
    ? { flag: text, value: true }
    : { flag: text.slice(0, eq), value: text.slice(eq + 1) };
};

interface Case {
  name: string;
  file?: string;
  env?: Record<string, string>;
  flags?: string[];
  /** path -> [value, where it came from] */
  expect: Record<string, [unknown, string]>;
}

const precedence: Case[] = [
  {
    name: 'defaults alone',
    expect: {
      'log.level': ['info', 'default'],
      'log.format': ['json', 'default'],
      'admin.address': ['127.0.0.1:9901', 'default'],
      'store.url': ['memory:', 'default'],
      'store.cluster': ['default', 'default'],
      'manifests.path': ['examples', 'default'],
      'manifests.watch': [true, 'default'],
      'cluster.domain': ['cluster.local', 'default'],
    },
  },
  {
    name: 'file over defaults',
    file: 'log:\n  level: debug\nmanifests:\n  watch: false\n',
    expect: {
      'log.level': ['debug', 'pier.yaml:2'],
      'manifests.watch': [false, 'pier.yaml:4'],
      'log.format': ['json', 'default'],
    },
  },
  {
    name: 'env over file',
    file: 'log:\n  level: debug\n',
    env: { PIER_LOG_LEVEL: 'warn' },
    expect: { 'log.level': ['warn', 'PIER_LOG_LEVEL'] },
  },
  {
    name: 'flag over env over file',
    file: 'admin:\n  address: 127.0.0.1:1000\n',
    env: { PIER_ADMIN_ADDRESS: '127.0.0.1:2000' },
    flags: ['admin.address=127.0.0.1:3000'],
    expect: { 'admin.address': ['127.0.0.1:3000', '--admin.address'] },
  },
  {
    name: 'last flag wins',
    flags: ['log.level=debug', 'log.level=error'],
    expect: { 'log.level': ['error', '--log.level'] },
  },
  {
    name: 'sources set different settings side by side',
    file: 'store:\n  cluster: prod-eu\n',
    env: { PIER_STORE_URL: 'redis://127.0.0.1:6379/0' },
    flags: ['cluster.domain=example.internal'],
    expect: {
      'store.cluster': ['prod-eu', 'pier.yaml:2'],
      'store.url': ['redis://127.0.0.1:6379/0', 'PIER_STORE_URL'],
      'cluster.domain': ['example.internal', '--cluster.domain'],
      'admin.address': ['127.0.0.1:9901', 'default'],
    },
  },
  {
    name: 'booleans from text',
    env: { PIER_MANIFESTS_WATCH: 'FALSE' },
    expect: { 'manifests.watch': [false, 'PIER_MANIFESTS_WATCH'] },
  },
  {
    name: 'bare boolean flag',
    env: { PIER_MANIFESTS_WATCH: '0' },
    flags: ['manifests.watch'],
    expect: { 'manifests.watch': [true, '--manifests.watch'] },
  },
  {
    name: 'boolean flag with value',
    flags: ['manifests.watch=no'],
    expect: { 'manifests.watch': [false, '--manifests.watch'] },
  },
  {
    name: 'a string setting given a YAML number',
    file: 'manifests:\n  path: 2024\n',
    expect: { 'manifests.path': ['2024', 'pier.yaml:2'] },
  },
  { name: 'an empty file', file: '', expect: { 'log.level': ['info', 'default'] } },
  {
    name: 'a comment-only file',
    file: '# nothing yet\n',
    expect: { 'log.level': ['info', 'default'] },
  },
  {
    name: 'an empty section',
    file: 'log:\nadmin: {}\n',
    expect: { 'log.level': ['info', 'default'] },
  },
  {
    name: 'IPv6 admin address',
    env: { PIER_ADMIN_ADDRESS: '[::1]:0' },
    expect: { 'admin.address': ['[::1]:0', 'PIER_ADMIN_ADDRESS'] },
  },
  {
    name: 'PIER_CONFIG and unrelated PIER_ variables are not settings',
    env: {
      PIER_CONFIG: 'elsewhere.yaml',
      PIER_TEST_REDIS_BIN: '/usr/bin/redis-server',
      OTHER: 'x',
    },
    expect: { 'log.level': ['info', 'default'] },
  },
];

describe('resolveConfig precedence: defaults < file < env < flags', () => {
  it.each(precedence)('$name', ({ file, env, flags, expect: expected }) => {
    const resolved = resolveConfig({
      ...(file === undefined ? {} : { file: { path: 'pier.yaml', text: file } }),
      env: env ?? {},
      flags: (flags ?? []).map(flag),
    });
    for (const [path, [value, origin]] of Object.entries(expected)) {
      const actual = path
        .split('.')
        .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], resolved.config);
      expect({ path, value: actual, origin: describeOrigin(resolved.origins.get(path)!) }).toEqual({
        path,
        value,
        origin,
      });
    }
  });

  it('gives every setting an origin and freezes the config', () => {
    const { config, origins } = resolveConfig({ env: {} });
    expect(origins.size).toBe(settingsTable().settings.length);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.admin)).toBe(true);
  });
});

interface ErrorCase {
  name: string;
  file?: string;
  env?: Record<string, string>;
  flags?: string[];
  code: string;
  /** The whole message, one line per problem. */
  message: string;
}

const errors: ErrorCase[] = [
  {
    name: 'invalid env value',
    env: { PIER_ADMIN_ADDRESS: 'abc' },
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: 'PIER_ADMIN_ADDRESS="abc": admin.address must be host:port, e.g. 127.0.0.1:9901',
  },
  {
    name: 'invalid flag value',
    flags: ['admin.address=127.0.0.1:70000'],
    code: 'PIER_CONFIG_INVALID_VALUE',
    message:
      '--admin.address="127.0.0.1:70000": admin.address must be host:port, e.g. 127.0.0.1:9901',
  },
  {
    name: 'invalid file value, with its line',
    file: '# Pier\nadmin:\n  address: abc\n',
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: 'pier.yaml:3: "abc": admin.address must be host:port, e.g. 127.0.0.1:9901',
  },
  {
    name: 'enum',
    env: { PIER_LOG_LEVEL: 'verbose' },
    code: 'PIER_CONFIG_INVALID_VALUE',
    message:
      'PIER_LOG_LEVEL="verbose": log.level must be one of fatal, error, warn, info, debug, trace, silent',
  },
  {
    name: 'format',
    flags: ['log.format=text'],
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: '--log.format="text": log.format must be one of json, pretty',
  },
  {
    name: 'boolean',
    env: { PIER_MANIFESTS_WATCH: 'maybe' },
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: 'PIER_MANIFESTS_WATCH="maybe": manifests.watch must be true or false',
  },
  {
    name: 'boolean in the file',
    file: 'manifests:\n  watch: sometimes\n',
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: 'pier.yaml:2: "sometimes": manifests.watch must be true or false',
  },
  {
    name: 'empty path',
    env: { PIER_MANIFESTS_PATH: '' },
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: 'PIER_MANIFESTS_PATH="": manifests.path must be a path to a folder or a YAML file',
  },
  {
    name: 'store url scheme, password masked',
    env: { PIER_STORE_URL: 'http://admin:s3cret@127.0.0.1:6379' },
    code: 'PIER_CONFIG_INVALID_VALUE',
    message:
      'PIER_STORE_URL="http://admin:***@127.0.0.1:6379": store.url must be `memory:` or a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0',
  },
  {
    name: 'cluster name',
    flags: ['store.cluster=Prod_EU'],
    code: 'PIER_CONFIG_INVALID_VALUE',
    message:
      '--store.cluster="Prod_EU": store.cluster must be a DNS label (a-z, 0-9, -), e.g. prod-eu',
  },
  {
    name: 'cluster domain',
    file: 'cluster:\n  domain: Cluster..local\n',
    code: 'PIER_CONFIG_INVALID_VALUE',
    message:
      'pier.yaml:2: "Cluster..local": cluster.domain must be a lower-case DNS name, e.g. cluster.local',
  },
  {
    name: 'a null setting in the file',
    file: 'log:\n  level:\n',
    code: 'PIER_CONFIG_INVALID_VALUE',
    message:
      'pier.yaml:2: null: log.level must be one of fatal, error, warn, info, debug, trace, silent',
  },
  {
    name: 'a bare flag for a setting that needs a value',
    flags: ['log.level'],
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: '--log.level: log.level must be one of fatal, error, warn, info, debug, trace, silent',
  },
  {
    name: 'unknown setting in the file, with a suggestion',
    file: 'admin:\n  adress: 127.0.0.1:9901\n',
    code: 'PIER_CONFIG_UNKNOWN_KEY',
    message: 'pier.yaml:2: unknown setting admin.adress; did you mean admin.address?',
  },
  {
    name: 'unknown section in the file',
    file: 'logging:\n  level: info\n',
    code: 'PIER_CONFIG_UNKNOWN_KEY',
    message: `pier.yaml:1: unknown setting logging; the sections are ${sections}`,
  },
  {
    name: 'misspelt section',
    file: 'manifest:\n  path: x\n',
    code: 'PIER_CONFIG_UNKNOWN_KEY',
    message: 'pier.yaml:1: unknown setting manifest; did you mean manifests?',
  },
  {
    name: 'a setting outside its section',
    file: 'domain: cluster.local\n',
    code: 'PIER_CONFIG_UNKNOWN_KEY',
    message: 'pier.yaml:1: unknown setting domain; did you mean cluster.domain?',
  },
  {
    name: 'unknown setting with no near name',
    file: 'store:\n  replicas: 3\n',
    code: 'PIER_CONFIG_UNKNOWN_KEY',
    message: 'pier.yaml:2: unknown setting store.replicas; store has url, cluster',
  },
  {
    name: 'a section that is not a mapping',
    file: 'log: debug\n',
    code: 'PIER_CONFIG_NOT_A_MAPPING',
    message: 'pier.yaml:1: log must be a mapping of settings (level, format)',
  },
  {
    name: 'a file that is not a mapping',
    file: '- log\n- admin\n',
    code: 'PIER_CONFIG_NOT_A_MAPPING',
    message: `pier.yaml:1: the config file must be a mapping of sections (${sections})`,
  },
  {
    name: 'YAML syntax, with line and column',
    file: 'log:\n  level: [debug\n',
    code: 'PIER_CONFIG_FILE_SYNTAX',
    message:
      'pier.yaml:3:1: not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]',
  },
  {
    name: 'an alias to a missing anchor',
    file: 'admin:\n  address: *a\n',
    code: 'PIER_CONFIG_FILE_SYNTAX',
    message:
      'pier.yaml:2: not valid YAML: Unresolved alias (the anchor must be set before the alias): a',
  },
  {
    name: 'duplicate keys',
    file: 'log:\n  level: info\n  level: debug\n',
    code: 'PIER_CONFIG_FILE_SYNTAX',
    message: 'pier.yaml:3:3: not valid YAML: Map keys must be unique',
  },
  {
    name: 'misspelt env var',
    env: { PIER_ADMIN_ADRESS: '127.0.0.1:9901' },
    code: 'PIER_CONFIG_UNKNOWN_ENV',
    message: 'PIER_ADMIN_ADRESS is not a Pier setting; did you mean PIER_ADMIN_ADDRESS?',
  },
  {
    name: 'env var in a known section',
    env: { PIER_LOG_COLOR: 'true' },
    code: 'PIER_CONFIG_UNKNOWN_ENV',
    message: 'PIER_LOG_COLOR is not a Pier setting; `pier config --reference` lists the settings',
  },
  {
    name: 'env var with a misspelt section',
    env: { PIER_MANIFEST_PATH: 'x' },
    code: 'PIER_CONFIG_UNKNOWN_ENV',
    message: 'PIER_MANIFEST_PATH is not a Pier setting; did you mean PIER_MANIFESTS_PATH?',
  },
  {
    name: 'unknown flag',
    flags: ['log.levl=debug'],
    code: 'PIER_CONFIG_UNKNOWN_FLAG',
    message: '--log.levl is not a Pier setting; did you mean --log.level?',
  },
  {
    name: 'every problem at once, file first, then env, then flags',
    file: 'admin:\n  address: abc\n',
    env: { PIER_LOG_LEVEL: 'loud', PIER_ADMIN_ADRESS: 'x' },
    flags: ['cluster.domain=-'],
    code: 'PIER_CONFIG_INVALID_VALUE',
    message: [
      'pier.yaml:2: "abc": admin.address must be host:port, e.g. 127.0.0.1:9901',
      'PIER_ADMIN_ADRESS is not a Pier setting; did you mean PIER_ADMIN_ADDRESS?',
      'PIER_LOG_LEVEL="loud": log.level must be one of fatal, error, warn, info, debug, trace, silent',
      '--cluster.domain="-": cluster.domain must be a lower-case DNS name, e.g. cluster.local',
    ].join('\n'),
  },
];

describe('resolveConfig errors name the setting, the source and what it accepts', () => {
  it.each(errors)('$name', ({ file, env, flags, code, message }) => {
    let thrown: unknown;
    try {
      resolveConfig({
        ...(file === undefined ? {} : { file: { path: 'pier.yaml', text: file } }),
        env: env ?? {},
        flags: (flags ?? []).map(flag),
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(isPierError(thrown, code)).toBe(true);
    expect((thrown as Error).message).toBe(message);
  });

  it('keeps each problem with its own code', () => {
    try {
      resolveConfig({ env: { PIER_LOG_LEVEL: 'x', PIER_LOG_LEVL: 'y' } });
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).problems.map((p) => p.code)).toEqual([
        'PIER_CONFIG_INVALID_VALUE',
        'PIER_CONFIG_UNKNOWN_ENV',
      ]);
    }
  });
});
