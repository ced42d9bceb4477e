// `npm run bench:proxy`: the Service proxy benchmark (bench.ts), writing
// load/results/proxy.md and proxy.json. Needs root (network namespaces, nft).
//
//   npm run bench:proxy -- [--services 1000,10000,30000] [--endpoints 10]
//     [--runs 3] [--changes 7] [--connects 2000] [--out load/results]

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { netnsRequirementsMissing } from '../../test/support/netns.ts';
import { REPO_ROOT } from '../bench/versions.ts';
import { DEFAULT_OPTIONS, type ProxyBenchOptions, runProxyBenchmark } from './bench.ts';
import { renderProxyMarkdown } from './report.ts';

const USAGE = `usage: npm run bench:proxy -- [options]
  --services N,M,...   Service counts (default ${DEFAULT_OPTIONS.services.join(',')}; 1-65000 each)
  --endpoints N        endpoints per Service (default ${DEFAULT_OPTIONS.endpoints})
  --runs N             full syncs per count and layout (default ${DEFAULT_OPTIONS.runs})
  --changes N          one-Service changes per count (default ${DEFAULT_OPTIONS.changes})
  --connects N         measured connections per count and layout (default ${DEFAULT_OPTIONS.connects})
  --out DIR            where proxy.md and proxy.json go (default load/results)`;

function parse(argv: string[]): { options: ProxyBenchOptions; out: string } | string {
  const options = { ...DEFAULT_OPTIONS };
  let out = join(REPO_ROOT, 'load/results');
  const int = (flag: string, text: string | undefined, min: number, max: number) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(
        `${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}`,
      );
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    switch (flag) {
      case '--help':
      case '-h':
        return USAGE;
      case '--services':
        options.services = (value ?? '').split(',').map((v) => int(flag, v, 1, 65_000));
        break;
      case '--endpoints':
        options.endpoints = int(flag, value, 1, 200);
        break;
      case '--runs':
        options.runs = int(flag, value, 1, 20);
        break;
      case '--changes':
        options.changes = int(flag, value, 1, 100);
        break;
      case '--connects':
        options.connects = int(flag, value, 10, 100_000);
        break;
      case '--out':
        if (value === undefined) throw new Error('--out needs a directory');
        out = value;
        break;
      default:
        throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
    i++;
  }
  return { options, out };
}

async function main(): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (typeof parsed === 'string') {
    process.stdout.write(`${parsed}\n`);
    return 0;
  }
  const missing = netnsRequirementsMissing({ tools: ['conntrack', 'sysctl'] });
  if (missing !== undefined) {
    process.stderr.write(`proxy: cannot run: ${missing}\n`);
    return 1;
  }
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const result = await runProxyBenchmark(parsed.options, log);
  await mkdir(parsed.out, { recursive: true });
  const md = join(parsed.out, 'proxy.md');
  const json = join(parsed.out, 'proxy.json');
  await writeFile(md, renderProxyMarkdown(result));
  await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  log(`proxy: wrote ${md}, ${json}`);
  for (const t of result.targets) {
    log(
      `  ${t.label}: ${t.value === null ? 'n/a' : `${t.value.toFixed(t.unit === 'x' ? 2 : 3)} ${t.unit}`} ${t.met === undefined ? 'not measured' : t.met ? 'met' : 'not met'}`,
    );
  }
  return result.rows.some((r) => r.error !== undefined) ? 1 : 0;
}

process.exitCode = await main();
