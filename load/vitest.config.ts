import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The benchmark harness's own tests: `npx vitest run --config load/vitest.config.ts`.
// They start real processes (nginx, haproxy, wrk, Node servers) on 127.0.0.1,
// so files run one at a time. Not a project of the root vitest.config.ts yet
// (that file is not load/'s to change): see load/README.md.
export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    name: 'load',
    include: ['load/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
