#!/usr/bin/env node
// The `pier` executable. Everything lives in src/cli/main.ts; this file only
// connects it to the process. Needs Node.js 24 (type stripping).

import { runCli } from '../src/cli/main.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
});
