// The README stays true: its generated sections match the code, and the
// commands it tells a newcomer to run exist.
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderReadmeSections } from '../scripts/readme-sections.ts';

const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as {
  scripts: Record<string, string>;
};

describe('README', () => {
  it('carries the current configuration reference (run npm run docs)', () => {
    expect(renderReadmeSections(readme)).toBe(readme);
  });

  it('names only npm scripts that exist', () => {
    const named = [...readme.matchAll(/\bnpm run ([a-z][a-z:-]*)/g)].map((m) => m[1]!);
    expect(named.length).toBeGreaterThan(0);
    for (const script of named) expect(pkg.scripts, `npm run ${script}`).toHaveProperty([script]);
    expect(pkg.scripts).toHaveProperty('start');
    expect(pkg.scripts).toHaveProperty('test');
  });
});
