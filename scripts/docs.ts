// Regenerates the parts of README.md that come from code (the configuration
// reference), so the README stays true. `npm run docs`; test/readme.test.ts
// fails when the README is behind.

import { readFile, writeFile } from 'node:fs/promises';
import { renderReadmeSections } from './readme-sections.ts';

const path = new URL('../README.md', import.meta.url);
const before = await readFile(path, 'utf8');
const after = renderReadmeSections(before);
if (after !== before) {
  await writeFile(path, after);
  console.log('README.md updated');
} else {
  console.log('README.md is current');
}
