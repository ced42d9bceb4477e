// The pier-cni executable as one plain CommonJS file, for `pier cni install`:
// wire.ts, unix-exchange.ts and client.ts with their types stripped, joined,
// after a shebang naming this Node.js. A runtime starts it for every pod start
// and stop, and a single CommonJS file is the cheapest thing Node.js can
// start: no ES module loader, no TypeScript stripper, no module resolution
// (about 5 ms less than bin/pier-cni, whose start is most of an ADD).
//
// The shebang passes Node.js one flag, --no-rehash-snapshot: V8 then keeps
// the hash seed its startup snapshot was built with instead of rehashing
// every table of the snapshot with a fresh random seed, about 3 ms of a
// ~25 ms start (measured with perf: most of it a prime search for the new
// seed). A random seed guards hash tables against keys chosen to collide;
// the plugin's only inputs are its runtime's (root's) request and the
// agent's answer. The flag also makes V8 refuse the built-in code cache of
// modules outside the snapshot (node:net among them), which is one more
// reason the plugin loads none (unix-exchange.ts).
//
// It ends with process.exit() once the answer is written: a natural exit
// tears the heap down first (~1 ms), which nothing here needs.
//
// It only joins files it knows: wire.ts and unix-exchange.ts (no imports) and
// client.ts (imports those two only); renderPluginFile() checks that, so a
// new import cannot slip through and break the installed plugin at run time.

import { readFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';

const WIRE = new URL('./wire.ts', import.meta.url);
const EXCHANGE = new URL('./unix-exchange.ts', import.meta.url);
const CLIENT = new URL('./client.ts', import.meta.url);
/** Linux reads at most 127 bytes of a shebang line before 5.1 (255 since). */
const SHEBANG_MAX = 127;
const NODE_FLAG = '--no-rehash-snapshot';

export interface PluginFileOptions {
  /** The Node.js (24+) that runs the plugin: an absolute path. */
  node: string;
}

export async function renderPluginFile(options: PluginFileOptions): Promise<string> {
  if (!options.node.startsWith('/'))
    throw new Error(`node must be an absolute path, got ${options.node}`);
  const wire = strip(await readFile(WIRE, 'utf8'));
  const exchange = strip(await readFile(EXCHANGE, 'utf8'));
  const client = strip(await readFile(CLIENT, 'utf8'));

  for (const [name, text] of [
    ['wire.ts', wire],
    ['unix-exchange.ts', exchange],
  ] as const) {
    const imports = text.match(/^import\b.*$/gm) ?? [];
    if (imports.length > 0)
      throw new Error(`${name} must import nothing, it has: ${imports.join('; ')}`);
  }
  const clientImports = [...client.matchAll(IMPORT)];
  const sources = clientImports.map((m) => m[1]);
  if (sources.some((s) => s !== './wire.ts' && s !== './unix-exchange.ts')) {
    throw new Error(
      `client.ts may import only ./wire.ts and ./unix-exchange.ts, it imports ${sources.join(', ')}`,
    );
  }
  const clientBody = client.replace(IMPORT, '');
  if (/^\s*import\b/m.test(clientBody))
    throw new Error('client.ts has an import this generator cannot join');
  const withFlag = `#!${options.node} ${NODE_FLAG}`;
  // A node path too long for the flag still gets a working (slower) plugin.
  const shebang = withFlag.length <= SHEBANG_MAX ? withFlag : `#!${options.node}`;

  return [
    shebang,
    "'use strict';",
    '// pier-cni, written by `pier cni install`: agent/cni/wire.ts, agent/cni/unix-exchange.ts',
    '// and agent/cni/client.ts with their types stripped. Generated: install again rather than editing it.',
    unexport(wire),
    unexport(exchange),
    unexport(clientBody),
    "let stdin = '';",
    "try { stdin = require('node:fs').readFileSync(0, 'utf8'); } catch {}",
    'runClient({ env: process.env, stdin }).then((response) => {',
    "  require('node:fs').writeSync(1, response.stdout);",
    '  process.exit(response.exitCode);',
    '});',
    '',
  ].join('\n');
}

const IMPORT = /^import\s*\{[^}]*\}\s*from\s*'([^']+)';?\s*$/gm;

function strip(source: string): string {
  // stripTypeScriptTypes is marked experimental in Node.js 24; its warning says so once, at install.
  // Types become blanks (positions kept); drop the lines left empty.
  return stripTypeScriptTypes(source, { mode: 'strip' })
    .replace(/^[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n');
}

function unexport(source: string): string {
  return source.replace(/^export\s+(?=(const|function|let|class|async)\b)/gm, '');
}
