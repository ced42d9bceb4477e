import { defineConfig } from 'vitest/config';

// Two projects: unit tests sit beside the code and need nothing but Node;
// integration tests (test/) start real redis-server processes, network
// namespaces and real clients, so they run one file at a time; the benchmark
// harness's own tests (load/) start real peers (nginx, haproxy, wrk) briefly.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'gateway/**/*.test.ts', 'agent/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'load',
          include: ['load/**/*.test.ts'],
          environment: 'node',
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
