// Versions of peers and tools for the report: every number in a result is
// tied to exactly what produced it. None of these throw: a version that
// cannot be read shows as `unknown: <why>`.

import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from './process.ts';

/** The repository root (this file is load/bench/versions.ts). */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first capture group of pattern in the command's stdout+stderr (`nginx -v` writes to stderr). */
export async function commandVersion(
  command: string,
  args: string[],
  pattern: RegExp,
): Promise<string> {
  try {
    const result = await runCommand(command, args, { timeoutMs: 10_000 });
    const text = `${result.stdout}\n${result.stderr}`;
    const match = pattern.exec(text);
    return match?.[1] ?? `unknown: ${text.trim().split('\n')[0] || 'no output'}`;
  } catch (error) {
    return `unknown: ${messageOf(error)}`;
  }
}

/** The installed version of an npm package, from node_modules. */
export async function packageVersion(name: string): Promise<string> {
  try {
    const text = await readFile(join(REPO_ROOT, 'node_modules', name, 'package.json'), 'utf8');
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'unknown: no version field';
  } catch (error) {
    return `unknown: ${messageOf(error)}`;
  }
}

/** This checkout's version: package.json's version and the git commit it was measured at. */
export async function repoVersion(): Promise<string> {
  let version = 'unknown';
  try {
    const pkg = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    if (typeof pkg.version === 'string') version = pkg.version;
  } catch {
    // keep 'unknown'
  }
  const commit = await commandVersion(
    'git',
    ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'],
    /^([0-9a-f]{7,})$/m,
  );
  return commit.startsWith('unknown') ? version : `${version} (${commit})`;
}
