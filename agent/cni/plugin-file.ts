// The pier-cni executable as one plain CommonJS file, for `pier cni install`:
// wire.ts and client.ts with their types stripped, joined, after a shebang
// naming this Node.js. A runtime starts it for every pod start and stop, and
// a single CommonJS file is the cheapest thing Node.js can start: no ES
// module loader, no TypeScript stripper, no module resolution (about 5 ms
// less than bin/pier-cni, whose start is most of an ADD).
//
// It only joins two files it knows: wire.ts (exports only) and client.ts
// (imports node:net and wire.ts only); renderPluginFile() checks that, so a
// new import cannot slip through and break the installed plugin at run time.

import { readFile } from 'node:fs/promises';
import { stripTypeScriptTypes } from 'node:module';

const WIRE = new URL('./wire.ts', import.meta.url);
const CLIENT = new URL('./client.ts', import.meta.url);

export interface PluginFileOptions {
  /** The Node.js (24+) that runs the plugin: an absolute path. */
  node: string;
}

export async function renderPluginFile(options: PluginFileOptions): Promise<string> {
  if (!options.node.startsWith('/'))
    throw new Error(`node must be an absolute path, got ${options.node}`);
  const wire = strip(await readFile(WIRE, 'utf8'));
  const client = strip(await readFile(CLIENT, 'utf8'));

  const wireImports = wire.match(/^import\b.*$/gm) ?? [];
  if (wireImports.length > 0)
    throw new Error(`wire.ts must import nothing, it has: ${wireImports.join('; ')}`);
  const clientImports = [...client.matchAll(/^import\s*\{[^}]*\}\s*from\s*'([^']+)';?\s*$/gm)];
  const sources = clientImports.map((m) => m[1]);
  if (sources.some((s) => s !== 'node:net' && s !== './wire.ts')) {
    throw new Error(
      `client.ts may import only node:net and ./wire.ts, it imports ${sources.join(', ')}`,
    );
  }
  const clientBody = client.replace(/^import\s*\{[^}]*\}\s*from\s*'[^']+';?\s*$/gm, '');
  if (/^\s*import\b/m.test(clientBody))
    throw new Error('client.ts has an import this generator cannot join');

  return [
    `#!${options.node}`,
    "'use strict';",
    '// pier-cni, written by `pier cni install`: agent/cni/wire.ts and agent/cni/client.ts',
    '// with their types stripped. Generated: install again rather than editing it.',
    "const { connect } = require('node:net');",
    unexport(wire),
    unexport(clientBody),
    "let stdin = '';",
    "try { stdin = require('node:fs').readFileSync(0, 'utf8'); } catch {}",
    'runClient({ env: process.env, stdin }).then((response) => {',
    "  require('node:fs').writeSync(1, response.stdout);",
    '  process.exitCode = response.exitCode;',
    '});',
    '',
  ].join('\n');
}

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
