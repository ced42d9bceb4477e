// Writes a result as <name>.md, <name>.json and <name>.svg in outDir.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderSvg } from './chart-svg.ts';
import { renderMarkdown } from './report-markdown.ts';
import type { BenchmarkResult } from './result.ts';

export async function writeResults(result: BenchmarkResult, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const files: Array<[string, string]> = [
    [join(outDir, `${result.name}.md`), renderMarkdown(result)],
    [join(outDir, `${result.name}.json`), `${JSON.stringify(result, null, 2)}\n`],
    [join(outDir, `${result.name}.svg`), renderSvg(result)],
  ];
  for (const [path, text] of files) await writeFile(path, text);
  return files.map(([path]) => path);
}
