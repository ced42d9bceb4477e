// Network namespaces for integration tests, with a prefix unique to the
// run: `pt<pid>-`. Everything a test makes (namespaces, and the processes it
// starts in them) is removed afterwards, also when a test fails or the test
// process exits early; a new scope first removes leftovers of runs whose
// process is gone, so a crashed run cleans up after itself next time.
//
// Tests never touch the host's own interfaces, routes or firewall: every
// address, route and nft table lives inside a namespace made here.
//
// Requirements (root, ip, nft, ...) are checked up front: under CI=true a
// missing one fails the tests that need it, naming it; elsewhere they are
// skipped with a visible message.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NETNS_DIR = '/var/run/netns';
const FAMILY = 'pt';

/** Why these tests cannot run here, or undefined when they can. */
export function netnsRequirementsMissing(
  extra: { tools?: string[]; files?: string[] } = {},
): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root (network namespaces need CAP_NET_ADMIN)');
  for (const tool of ['ip', 'nft', 'nsenter', 'bridge', ...(extra.tools ?? [])]) {
    const probe = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' });
    if (probe.status !== 0) missing.push(`${tool} (Debian: ${debianPackage(tool)})`);
  }
  for (const file of extra.files ?? []) {
    if (!existsSync(file)) missing.push(`${file} (Debian: ${debianPackage(file)})`);
  }
  return missing.length === 0 ? undefined : `missing: ${missing.join(', ')}`;
}

function debianPackage(what: string): string {
  if (what.startsWith('/usr/lib/cni')) return 'apt-get install containernetworking-plugins';
  const packages: Record<string, string> = {
    ip: 'iproute2',
    bridge: 'iproute2',
    nft: 'nftables',
    nsenter: 'util-linux',
    iperf3: 'iperf3',
    'redis-server': 'redis-server',
    iptables: 'iptables',
  };
  return `apt-get install ${packages[what] ?? what}`;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface NetnsScope {
  readonly prefix: string;
  /** A temporary directory for this scope's files, removed at cleanup. */
  readonly dir: string;
  /** The namespace's full name: prefix + short name. */
  name(short: string): string;
  path(short: string): string;
  /** Creates a namespace with `lo` up. */
  create(short: string): Promise<string>;
  remove(short: string): Promise<void>;
  /** Runs argv inside the namespace (`ip netns exec`) and waits for it. */
  exec(
    short: string,
    argv: readonly string[],
    options?: { input?: string; env?: Record<string, string>; timeoutMs?: number },
  ): Promise<ExecResult>;
  /** Like exec, but rejects on a non-zero exit with the command's stderr. */
  run(
    short: string,
    argv: readonly string[],
    options?: { input?: string; env?: Record<string, string> },
  ): Promise<string>;
  /** `ip -n <ns> -batch -` with these lines. */
  ip(short: string, lines: readonly string[]): Promise<void>;
  /** Starts a long-lived process inside the namespace; killed at cleanup. */
  spawn(
    short: string,
    argv: readonly string[],
    options?: { env?: Record<string, string>; stdio?: 'pipe' | 'ignore' },
  ): ChildProcess;
  /** Kills every process, removes every namespace and the directory. */
  cleanup(): Promise<void>;
}

const liveScopes = new Set<NetnsScope>();
process.once('exit', () => {
  for (const scope of liveScopes) cleanupSync(scope);
});

/** Removes namespaces left by earlier runs whose process no longer exists. */
export function removeLeftovers(): void {
  const listing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of listing.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const match = new RegExp(`^${FAMILY}(\\d+)-`).exec(name);
    if (match === null) continue;
    const pid = Number(match[1]);
    if (pid === process.pid || processAlive(pid)) continue;
    killNetnsProcesses(name);
    spawnSync('ip', ['netns', 'del', name]);
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function killNetnsProcesses(name: string) {
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split('\n').filter((p) => p.trim() !== '')) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {}
  }
}

function cleanupSync(scope: NetnsScope) {
  const listing = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  const names = listing
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(scope.prefix));
  for (const name of names) killNetnsProcesses(name);
  for (const name of names) spawnSync('ip', ['netns', 'del', name]);
  rmSync(scope.dir, { recursive: true, force: true });
}

let scopes = 0;

/** A scope of namespaces for one test file; `tag` keeps two scopes of one run apart. */
export function createNetnsScope(tag: string): NetnsScope {
  removeLeftovers();
  const prefix = `${FAMILY}${process.pid}-${tag}${scopes++}-`;
  const dir = mkdtempSync(join(tmpdir(), `pier-${tag}-`));
  const children = new Set<ChildProcess>();

  const execIn = (
    short: string,
    argv: readonly string[],
    options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
  ): Promise<ExecResult> =>
    new Promise((resolve, reject) => {
      const child = spawn('ip', ['netns', 'exec', scope.name(short), ...argv], {
        stdio: ['pipe', 'pipe', 'pipe'],
        env: options.env ?? process.env,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on('data', (c: Buffer) => out.push(c));
      child.stderr.on('data', (c: Buffer) => err.push(c));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
      child.on('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({
          code,
          stdout: Buffer.concat(out).toString(),
          stderr: Buffer.concat(err).toString(),
        });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(options.input ?? '');
    });

  const scope: NetnsScope = {
    prefix,
    dir,
    name: (short) => `${prefix}${short}`,
    path: (short) => `${NETNS_DIR}/${prefix}${short}`,
    async create(short) {
      const name = scope.name(short);
      const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' });
      if (add.status !== 0) throw new Error(`ip netns add ${name}: ${add.stderr}`);
      await scope.ip(short, ['link set dev lo up']);
      return name;
    },
    async remove(short) {
      const name = scope.name(short);
      killNetnsProcesses(name);
      spawnSync('ip', ['netns', 'del', name]);
    },
    exec: execIn,
    async run(short, argv, options) {
      const result = await execIn(short, argv, options);
      if (result.code !== 0) {
        throw new Error(
          `${argv.join(' ')} in ${scope.name(short)} exited ${result.code}: ${result.stderr.trim()}`,
        );
      }
      return result.stdout;
    },
    async ip(short, lines) {
      const result = spawnSync('ip', ['-n', scope.name(short), '-batch', '-'], {
        input: `${lines.join('\n')}\n`,
        encoding: 'utf8',
      });
      if (result.status !== 0)
        throw new Error(`ip -n ${scope.name(short)}: ${result.stderr.trim()}`);
    },
    spawn(short, argv, options = {}) {
      const child = spawn('ip', ['netns', 'exec', scope.name(short), ...argv], {
        stdio: options.stdio === 'ignore' ? 'ignore' : ['pipe', 'pipe', 'pipe'],
        env: options.env ?? process.env,
      });
      children.add(child);
      child.on('exit', () => children.delete(child));
      return child;
    },
    async cleanup() {
      for (const child of children) child.kill('SIGKILL');
      await Promise.all(
        [...children].map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) resolve();
              else child.once('exit', () => resolve());
            }),
        ),
      );
      cleanupSync(scope);
      liveScopes.delete(scope);
    },
  };
  liveScopes.add(scope);
  return scope;
}

/** Retries an assertion until it passes or the time is up (then throws its last failure). */
export async function eventually(
  check: () => Promise<void> | void,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
