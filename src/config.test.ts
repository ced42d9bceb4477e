import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, renderEffectiveConfig, resolveConfig } from './config.ts';

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pier-config-'));
    await writeFile(join(dir, 'a.yaml'), 'log:\n  level: debug\n');
    await writeFile(join(dir, 'b.yaml'), 'log:\n  level: error\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the file named by PIER_CONFIG, relative to cwd', async () => {
    const { config, file, origins } = await loadConfig({
      env: { PIER_CONFIG: 'a.yaml' },
      cwd: dir,
    });
    expect(config.log.level).toBe('debug');
    expect(file).toBe('a.yaml');
    expect(origins.get('log.level')).toEqual({ source: 'file', where: 'a.yaml:2' });
  });

  it('prefers --config over PIER_CONFIG', async () => {
    const { config } = await loadConfig({
      configFile: join(dir, 'b.yaml'),
      env: { PIER_CONFIG: 'a.yaml' },
      cwd: dir,
    });
    expect(config.log.level).toBe('error');
  });

  it('reads no file when none is named, or PIER_CONFIG is empty', async () => {
    expect((await loadConfig({ env: { PIER_CONFIG: '' } })).file).toBeUndefined();
    expect((await loadConfig({ env: {} })).config.log.level).toBe('info');
  });

  it('says which file is missing and who named it', async () => {
    await expect(loadConfig({ configFile: 'missing.yaml', env: {}, cwd: dir })).rejects.toThrow(
      'config file missing.yaml (from --config) cannot be read: no such file',
    );
    await expect(loadConfig({ env: { PIER_CONFIG: 'gone.yaml' }, cwd: dir })).rejects.toMatchObject(
      {
        code: 'PIER_CONFIG_FILE_UNREADABLE',
        message: 'config file gone.yaml (from PIER_CONFIG) cannot be read: no such file',
      },
    );
  });

  it('reports a directory given as the file', async () => {
    await expect(loadConfig({ configFile: dir, env: {} })).rejects.toMatchObject({
      code: 'PIER_CONFIG_FILE_UNREADABLE',
    });
  });
});

describe('renderEffectiveConfig', () => {
  it('prints each value with its origin, masking passwords', () => {
    const resolved = resolveConfig({
      file: { path: 'pier.yaml', text: 'admin:\n  address: 127.0.0.1:0\n' },
      env: { PIER_STORE_URL: 'redis://:s3cret@127.0.0.1:6379' },
      flags: [{ flag: 'manifests.watch', value: 'false' }],
    });
    // Comments are aligned to the longest line, which later sections may change.
    const lines = renderEffectiveConfig(resolved)
      .split('\n')
      .map((line) => line.replace(/ +#/, ' #'));
    const expected = [
      '# Effective Pier configuration (config file pier.yaml)',
      'log:',
      '  level: info # default',
      '  format: json # default',
      'admin:',
      '  address: 127.0.0.1:0 # pier.yaml:2',
      'store:',
      '  url: redis://:***@127.0.0.1:6379 # PIER_STORE_URL',
      '  cluster: default # default',
      'manifests:',
      '  path: examples # default',
      '  watch: false # --manifests.watch',
      'cluster:',
      '  domain: cluster.local # default',
    ];
    expect(lines.slice(0, expected.length)).toEqual(expected);
    const comments = renderEffectiveConfig(resolved)
      .split('\n')
      .filter((line) => line.includes(' # '))
      .map((line) => line.indexOf(' # '));
    expect(new Set(comments).size).toBe(1);
  });
});

describe('malformed config files', () => {
  // Whatever the bytes, the result is a config or a ConfigError: never a crash.
  const inputs = [
    '\u0000\u0001\u0002',
    '{{{{',
    '? [a, b]\n: c\n',
    'log: !!binary aGVsbG8=\n',
    'log:\n\tlevel: info\n',
    'admin:\n  address: [1, 2]\n',
    'admin:\n  address: {a: 1}\n',
    '---\nlog: {}\n---\nadmin: {}\n',
    '1: 2\n',
    'null: x\n',
    `${'a: &a [*a]\n'}`,
    'log: &x {level: debug}\nadmin: *x\n',
    'manifests:\n  watch: 2\n',
    '"\\',
  ];
  it.each(inputs)('%j', (text) => {
    try {
      resolveConfig({ file: { path: 'bad.yaml', text }, env: {} });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(/^bad\.yaml/);
    }
  });
});
