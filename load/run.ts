// `npm run bench` / `npm run bench:<name>`: runs benchmarks and writes their
// results to load/results/. Exit code 0 when every benchmark produced a
// result (a target not met is a finding, not a failure), 1 when one could
// not run, 2 for a bad command line, 130 when interrupted.

import { isPierError } from '../src/errors.ts';
import { BenchErrors } from './bench/errors.ts';
import { parseCommandLine, USAGE } from './bench/options.ts';
import { comparisonValue, comparisonVerdict } from './bench/report-markdown.ts';
import { writeResults } from './bench/write-results.ts';
import { benchmarks } from './benchmarks.ts';

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function main(): Promise<number> {
  let commandLine: ReturnType<typeof parseCommandLine>;
  try {
    commandLine = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (commandLine.help) {
    log(USAGE);
    log('\nbenchmarks:');
    for (const b of benchmarks) log(`  ${b.name.padEnd(12)} ${b.summary}`);
    return 0;
  }
  const known = benchmarks.map((b) => b.name);
  const names = commandLine.benchmarks.length > 0 ? commandLine.benchmarks : known;
  for (const name of names) {
    if (!known.includes(name)) {
      process.stderr.write(`${BenchErrors.UNKNOWN_BENCHMARK(name, known.join(', ')).message}\n`);
      return 2;
    }
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts++;
    if (interrupts > 1) process.exit(130); // the exit hook in process.ts still kills every peer group
    log(`\n${signal}: stopping peers (again to force)`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let failed = false;
  for (const name of names) {
    const entry = benchmarks.find((b) => b.name === name)!;
    try {
      const run = await entry.load();
      const result = await run(commandLine.options, { log, signal: controller.signal });
      const files = await writeResults(result, commandLine.options.outDir);
      log(`${name}: wrote ${files.join(', ')}`);
      for (const group of result.groups) {
        for (const c of group.comparisons) {
          log(
            `  ${group.title} | ${c.label}: ${comparisonValue(c)} ${comparisonVerdict(c)}`.trimEnd(),
          );
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return 130;
      const shown = isPierError(error)
        ? `${error.code}: ${error.message}`
        : String((error as Error).stack ?? error);
      process.stderr.write(`${name}: ${shown}\n`);
      failed = true;
    }
  }
  return failed ? 1 : 0;
}

process.exitCode = await main();
