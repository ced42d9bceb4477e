// Temp dirs for peers' configs, removed when their scope closes. The prefix
// names the harness so a leftover (after a SIGKILL) is easy to recognise.

import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scope } from './scope.ts';

export const TEMP_PREFIX = 'pier-bench-';

/**
 * Makes a temp dir readable by all: nginx's workers drop to an unprivileged
 * user when started as root and must still read the files in it.
 */
export async function makeTempDir(scope: Scope, label: string): Promise<string> {
  const safe = label.replace(/[^a-zA-Z0-9_.-]/g, '-');
  const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${safe}-`));
  await chmod(dir, 0o755);
  scope.defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
