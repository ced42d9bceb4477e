import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderConfigReference } from '../config/reference.ts';
import { commands } from './commands.ts';

// The real executable, spawned with Node 24 as a user runs it. The child's
// environment holds only PATH and what a case adds, so the developer's own
// PIER_* variables cannot leak in.

const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = join(root, 'bin/pier.ts');
const localNode = join(root, 'node_modules/.bin/node');
const node = existsSync(localNode) ? localNode : process.execPath;
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function pier(args: string[], env: Record<string, string> = {}, cwd = root): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, [bin, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('bin/pier.ts', () => {
  let nodeVersion: string;
  let dir: string;
  beforeAll(async () => {
    nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    if (Number(nodeVersion.slice(1).split('.')[0]) < 24) {
      throw new Error(
        `these tests need Node.js 24 (node_modules/.bin/node); found ${node} ${nodeVersion}: run npm ci`,
      );
    }
    dir = await mkdtemp(join(tmpdir(), 'pier-cli-'));
    await writeFile(join(dir, 'pier.yaml'), '# test config\nlog:\n  level: debug\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('pier version prints the package version, Node.js version and platform', async () => {
    const run = await pier(['version']);
    expect(run).toEqual({
      code: 0,
      stdout: `pier ${pkg.version}\nnode ${nodeVersion}\nplatform ${process.platform} ${process.arch}\n`,
      stderr: '',
    });
    expect((await pier(['--version'])).stdout).toBe(run.stdout);
  });

  it('pier --help lists every command, exit 0; no command prints it on stderr, exit 2', async () => {
    const help = await pier(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['start', 'gateway', 'agent', 'dns', 'cni', 'version', 'config', 'help']) {
      expect(help.stdout).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    }
    expect((await pier(['-h'])).stdout).toBe(help.stdout);
    expect((await pier(['help'])).stdout).toBe(help.stdout);
    const bare = await pier([]);
    expect(bare).toEqual({ code: 2, stdout: '', stderr: help.stdout });
  });

  it('help for a command, three ways', async () => {
    const help = await pier(['help', 'config']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: pier config');
    expect(help.stdout).toContain('--log.level VALUE');
    expect((await pier(['config', '--help'])).stdout).toBe(help.stdout);
    expect((await pier(['config', '-h', '--bogus'])).stdout).toBe(help.stdout);
    const version = await pier(['help', 'version']);
    expect(version.stdout).toContain('Usage: pier version');
    expect(version.stdout).not.toContain('--log.level');
  });

  it('an unknown command suggests the closest, exit 2', async () => {
    expect(await pier(['strat'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'pier: unknown command strat; did you mean start?\n',
    });
    expect((await pier(['deploy'])).stderr).toBe(
      'pier: unknown command deploy; run pier --help for the commands\n',
    );
    expect((await pier(['help', 'confg'])).stderr).toBe(
      'pier: unknown command confg; did you mean config?\n',
    );
  });

  it('an unknown flag suggests the closest, exit 2', async () => {
    expect(await pier(['config', '--refrence'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'pier: unknown flag --refrence for pier config; did you mean --reference?\n',
    });
    expect((await pier(['config', '--log.levl=debug'])).stderr).toBe(
      'pier: unknown flag --log.levl for pier config; did you mean --log.level?\n',
    );
    expect((await pier(['--log.level=debug', 'config'])).code).toBe(2);
  });

  // Commands whose table entry says "(not built yet)"; each issue that builds one drops the mark.
  for (const name of commands
    .filter((c) => c.summary.endsWith('(not built yet)'))
    .map((c) => c.name)) {
    it(`pier ${name} says it is not built yet, exit 2`, async () => {
      const run = await pier([name]);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(
        new RegExp(`^pier ${name} is not built yet\\. .+ \\(PIER_CLI_NOT_BUILT\\)\\n$`),
      );
    });
  }

  it('the container runtime calling the bare executable gets what pier cni gives', async () => {
    const env = { CNI_COMMAND: 'VERSION', CNI_PATH: '/opt/cni/bin' };
    const bare = await pier([], env);
    expect(bare).toEqual(await pier(['cni'], env));
    expect(bare.stderr).not.toContain('Usage: pier <command>');
  });

  it('pier config prints the effective config with origins, then the reference', async () => {
    const run = await pier(
      ['config', '--config', 'pier.yaml', '--admin.address=127.0.0.1:0'],
      { PIER_STORE_CLUSTER: 'prod' },
      dir,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^# Effective Pier configuration \(config file pier\.yaml\)\n/);
    expect(run.stdout).toMatch(/^ {2}level: debug +# pier\.yaml:3$/m);
    expect(run.stdout).toMatch(/^ {2}address: 127\.0\.0\.1:0 +# --admin\.address$/m);
    expect(run.stdout).toMatch(/^ {2}cluster: prod +# PIER_STORE_CLUSTER$/m);
    expect(run.stdout).toMatch(/^ {2}format: json +# default$/m);
    expect(run.stdout.endsWith(`\n${renderConfigReference()}`)).toBe(true);
  });

  it('pier config --reference is the generated reference; --json the config', async () => {
    expect(await pier(['config', '--reference'])).toEqual({
      code: 0,
      stdout: renderConfigReference(),
      stderr: '',
    });
    const json = await pier(['config', '--json'], {
      PIER_CONFIG: join(dir, 'pier.yaml'),
      PIER_STORE_URL: 'redis://:pw@127.0.0.1:6379',
    });
    expect(json.code).toBe(0);
    const config = JSON.parse(json.stdout);
    expect(config.log).toEqual({ level: 'debug', format: 'json' });
    expect(config.store.url).toBe('redis://:***@127.0.0.1:6379');
  });

  it('a bad setting is a config error naming its source, exit 2', async () => {
    expect(await pier(['config'], { PIER_ADMIN_ADDRESS: 'abc' })).toEqual({
      code: 2,
      stdout: '',
      stderr:
        'pier: PIER_ADMIN_ADDRESS="abc": admin.address must be host:port, e.g. 127.0.0.1:9901\n',
    });
    expect((await pier(['config'], { PIER_LOG_LEVL: 'debug' })).stderr).toBe(
      'pier: PIER_LOG_LEVL is not a Pier setting; did you mean PIER_LOG_LEVEL?\n',
    );
    const missing = await pier(['config', '--config', 'nope.yaml'], {}, dir);
    expect(missing).toEqual({
      code: 2,
      stdout: '',
      stderr: 'pier: config file nope.yaml (from --config) cannot be read: no such file\n',
    });
  });

  it('commands without settings ignore a broken config environment', async () => {
    expect((await pier(['version'], { PIER_ADMIN_ADDRESS: 'abc', PIER_LOG_LEVL: 'x' })).code).toBe(
      0,
    );
  });
});
