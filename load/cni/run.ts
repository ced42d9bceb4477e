// `npm run bench:cni`: the CNI benchmark (bench.ts) on the shared harness
// (load/bench/), writing load/results/cni.md, .json and .svg. Takes the
// harness's options (`--runs`, `--duration`, `--peers`, ...; --help).
// Needs root: it makes network namespaces (and removes them afterwards).

import { isPierError } from '../../src/errors.ts';
import { parseCommandLine, USAGE } from '../bench/options.ts';
import { comparisonValue, comparisonVerdict } from '../bench/report-markdown.ts';
import { runBenchmark } from '../bench/runner.ts';
import { writeResults } from '../bench/write-results.ts';
import { cniBenchmark } from './bench.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<number> {
  let commandLine: ReturnType<typeof parseCommandLine>;
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (commandLine.help) {
    log(USAGE.replace('node load/run.ts [benchmark...]', 'npm run bench:cni --'));
    return 0;
  }
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const result = await runBenchmark(cniBenchmark, commandLine.options, {
      log,
      signal: controller.signal,
    });
    const files = await writeResults(result, commandLine.options.outDir);
    log(`cni: wrote ${files.join(', ')}`);
    for (const group of result.groups) {
      for (const c of group.comparisons) {
        log(
          `  ${group.title} | ${c.label}: ${comparisonValue(c)} ${comparisonVerdict(c)}`.trimEnd(),
        );
      }
    }
    return 0;
  } catch (error) {
    if (controller.signal.aborted) return 130;
    process.stderr.write(
      `cni: ${isPierError(error) ? `${error.code}: ${error.message}` : String((error as Error).stack ?? error)}\n`,
    );
    return 1;
  }
}

process.exitCode = await main();
